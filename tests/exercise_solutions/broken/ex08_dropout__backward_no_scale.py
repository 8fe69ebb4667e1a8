# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: dropout_backward
# expect: forgot the 1/(1-p) scale
def dropout_backward(gy, p, mask):
    return gy * mask
