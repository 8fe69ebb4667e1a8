# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: batchnorm_backward_simple
# expect: multiply by the normalized xhat
_correct_simple = batchnorm_backward_simple


def batchnorm_backward_simple(gy, x, gamma, beta, eps=1e-5):
    gx, _, gbeta = _correct_simple(gy, x, gamma, beta, eps)
    return gx, (gy * x).sum(axis=0), gbeta
