# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: linear_backward
# expect: sum gy over the batch
def linear_backward(gy, x, w, b):
    return gy @ w, gy.T @ x, gy
