"""Exercise 7: the backward pass of batch normalization (training mode), two ways.

For x (N, D), per feature d (Ioffe & Szegedy 2015, Algorithm 1):

    mu = mean_n x              var = mean_n (x - mu)^2      (biased: divide by N)
    xhat = (x - mu) / sqrt(var + eps)
    y = gamma * xhat + beta

The forward is written for you. Write the backward twice:

1. batchnorm_backward_graph: walk back through the graph above one node at a time (y -> xhat
   -> (x - mu), var -> mu -> x), adding the gradients that reach x by several paths. mu and var
   depend on x: forgetting those paths gives gy * gamma / sqrt(var + eps), which is wrong.
2. batchnorm_backward_simple: simplify on paper until it fits on one line,

    gx = gamma / sqrt(var + eps) * (gy - mean_n(gy) - xhat * mean_n(gy * xhat))

Both return (gx, ggamma, gbeta); ggamma = sum_n gy * xhat, gbeta = sum_n gy.
(For images (N, C, H, W), the same holds with the means taken over N, H and W per channel.)

Check with:  python -m minitorch_cnn.exercises check DIR batchnorm
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta


def batchnorm_backward_graph(gy, x, gamma, beta, eps=1e-5):
    """Return (gx, ggamma, gbeta), node by node through the graph."""
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    xhat = xc * inv_std
    gbeta = gy.sum(axis=0)
    ggamma = (gy * xhat).sum(axis=0)
    gxhat = gy * gamma
    ginv_std = (gxhat * xc).sum(axis=0)
    gvar = ginv_std * -0.5 * (var + eps) ** -1.5
    gxc = gxhat * inv_std + gvar * 2 * xc / n      # two paths into x - mu
    gmu = -gxc.sum(axis=0)
    gx = gxc + gmu / n
    return gx, ggamma, gbeta


def batchnorm_backward_simple(gy, x, gamma, beta, eps=1e-5):
    """Return (gx, ggamma, gbeta) with the simplified formula."""
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    gx = gamma / np.sqrt(x.var(axis=0) + eps) * (
        gy - gy.mean(axis=0) - xhat * (gy * xhat).mean(axis=0))
    return gx, (gy * xhat).sum(axis=0), gy.sum(axis=0)
