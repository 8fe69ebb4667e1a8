# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: dropout_backward
# expect: not by 1/p
def dropout_backward(gy, p, mask):
    return gy * mask / p
