# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: batchnorm_backward_graph
# expect: mu and var depend on x too
def batchnorm_backward_graph(gy, x, gamma, beta, eps=1e-5):
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    gx = gy * gamma / np.sqrt(x.var(axis=0) + eps)
    return gx, (gy * xhat).sum(axis=0), gy.sum(axis=0)
