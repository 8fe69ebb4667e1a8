# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: lrn_backward
# expect: alpha is divided by size
_correct_lrn_backward = lrn_backward


def lrn_backward(gy, x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    return _correct_lrn_backward(gy, x, size, alpha * size, beta, k)
