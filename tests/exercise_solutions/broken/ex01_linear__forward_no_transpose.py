# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: linear_forward
# expect: raised ValueError
def linear_forward(x, w, b):
    return x @ w + b
