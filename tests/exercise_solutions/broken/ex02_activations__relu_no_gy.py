# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: relu_backward
# expect: multiply by the upstream gradient gy
def relu_backward(gy, x):
    return (x > 0).astype(float)
