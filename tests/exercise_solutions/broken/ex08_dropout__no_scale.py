# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: dropout_forward
# expect: forgot the 1/(1-p) scale
def dropout_forward(x, p, mask):
    return x * mask
