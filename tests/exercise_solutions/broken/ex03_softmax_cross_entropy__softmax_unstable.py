# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: softmax
# expect: subtract the row maximum
def softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)
