# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: sigmoid_backward
# expect: the factor (1 - s) is missing
def sigmoid_backward(gy, x):
    return gy * sigmoid_forward(x)
