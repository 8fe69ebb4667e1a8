# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: sigmoid_backward
# expect: not x (1 - x)
def sigmoid_backward(gy, x):
    return gy * x * (1 - x)
