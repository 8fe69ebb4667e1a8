"""Normalization kernels (batch, instance, group and layer norm) in plain NumPy: the oracle.

Arrays are 2-D (rows, s): one row per (sample, channel), s the positions of that channel.
Statistics are per row, in float64; the affine maps take per-row coefficients. The
``norm_col_*`` kernels do the same per column of an (N, C) array. NumPy or CuPy arrays alike.
"""
import numpy as np

from ..array_module import array_module


def norm_row_moments(x):
    """``(mean, m2)`` per row, float64: the mean and the sum of squared deviations."""
    x = x.astype(np.float64)
    mean = x.mean(axis=1)
    return mean, ((x - mean[:, None]) ** 2).sum(axis=1)


def norm_row_grad_sums(gy, x, center):
    """``(sum gy, sum gy * (x - center))`` per row, float64."""
    gy = gy.astype(np.float64)
    return gy.sum(axis=1), (gy * (x - center[:, None])).sum(axis=1)


def norm_affine(x, center, a, b, out=None):
    """y = (x - center[r]) * a[r] + b[r], into ``out`` when given (x itself may be it)."""
    y = ((x - center[:, None]) * a[:, None] + b[:, None]).astype(x.dtype)
    if out is None:
        return y
    out[...] = y
    return out


def norm_affine_bwd(gy, x, center, a, p, q, out=None):
    """gx = gy * a[r] + (x - center[r]) * p[r] + q[r], into ``out`` when given (gy or x itself
    may be it)."""
    gx = (gy * a[:, None] + (x - center[:, None]) * p[:, None] + q[:, None]).astype(x.dtype)
    if out is None:
        return gx
    out[...] = gx
    return out


def layer_norm_fwd(x, w, b, eps):
    """``(y, mean, invstd)`` for rows of x (M, D): y = (x - mean) * invstd * w + b with w, b of
    length D; mean and invstd per row, float64."""
    mean, m2 = norm_row_moments(x)
    invstd = 1.0 / array_module(x).sqrt(m2 / x.shape[1] + eps)
    xhat = (x - mean[:, None]) * invstd[:, None]
    return (xhat * w + b).astype(x.dtype), mean, invstd


def layer_norm_bwd(gy, x, mean, invstd, w):
    """``(gx, gw, gb)``: gx = invstd (g - mean_d(g) - xhat mean_d(g xhat)) with g = gy w,
    gw = sum_rows gy xhat, gb = sum_rows gy."""
    xhat = (x - mean[:, None]) * invstd[:, None]
    g = gy * w
    gx = invstd[:, None] * (g - g.mean(axis=1, keepdims=True)
                            - xhat * (g * xhat).mean(axis=1, keepdims=True))
    gw, gb = (gy * xhat).sum(axis=0), gy.sum(axis=0)
    return gx.astype(x.dtype), gw.astype(w.dtype), gb.astype(w.dtype)


# The same four for a 2-D (N, C) array with one statistic per column (batch norm of (N, C)):
# the row kernels on the transpose.
def norm_col_moments(x):
    """``(mean, m2)`` per column, float64."""
    return norm_row_moments(x.T)


def norm_col_grad_sums(gy, x, center):
    """``(sum gy, sum gy * (x - center))`` per column, float64."""
    return norm_row_grad_sums(gy.T, x.T, center)


def norm_col_affine(x, center, a, b):
    """y = (x - center[j]) * a[j] + b[j] for column j."""
    return array_module(x).ascontiguousarray(norm_affine(x.T, center, a, b).T)


def norm_col_affine_bwd(gy, x, center, a, p, q):
    """gx = gy * a[j] + (x - center[j]) * p[j] + q[j] for column j."""
    return array_module(x).ascontiguousarray(norm_affine_bwd(gy.T, x.T, center, a, p, q).T)
