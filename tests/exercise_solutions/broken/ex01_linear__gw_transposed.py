# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: linear_backward
# expect: gw has the shape of w.T
def linear_backward(gy, x, w, b):
    return gy @ w, x.T @ gy, gy.sum(axis=0)
