# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: cross_entropy_backward
# expect: divide (softmax - onehot) by N
def cross_entropy_backward(x, target):
    g = softmax(x)
    g[np.arange(len(x)), target] -= 1
    return g
