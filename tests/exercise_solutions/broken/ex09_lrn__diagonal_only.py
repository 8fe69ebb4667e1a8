# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: lrn_backward
# expect: also in the denominators of its neighbours
def lrn_backward(gy, x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    return gy * lrn_forward(x, size, alpha, beta, k) / x
