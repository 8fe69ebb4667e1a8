# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: batchnorm_backward_simple
# expect: sum over the batch
_correct_simple = batchnorm_backward_simple


def batchnorm_backward_simple(gy, x, gamma, beta, eps=1e-5):
    gx, _, gbeta = _correct_simple(gy, x, gamma, beta, eps)
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return gx, gy * xhat, gbeta
