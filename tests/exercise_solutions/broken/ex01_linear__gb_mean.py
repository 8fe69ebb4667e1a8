# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: linear_backward
# expect: sum over the batch, not the mean
def linear_backward(gy, x, w, b):
    return gy @ w, gy.T @ x, gy.mean(axis=0)
