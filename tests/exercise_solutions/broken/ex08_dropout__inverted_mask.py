# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: dropout_forward
# expect: multiply by mask, not by ~mask
def dropout_forward(x, p, mask):
    return x * ~mask / (1 - p)
