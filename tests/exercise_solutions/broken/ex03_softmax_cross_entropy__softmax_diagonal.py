# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: softmax_backward
# expect: Jacobian is not diagonal
def softmax_backward(gy, x):
    y = softmax(x)
    return gy * y * (1 - y)
