"""Normalization kernels on the CPU: one pass per reduction, one pass per affine map.

Arrays are 2-D (rows, s), one row per (sample, channel); tasks are rows. The moments use a
shifted one-pass sum (shift = the row's first value) in float64, as stable as two passes for
float32 data while reading it once; the affine maps run in the data's dtype. Then the fused
pair of layer norm, and the ``norm_col_*`` versions for a statistic per column of (N, C).
"""
import numpy as np
from numba import njit, prange

_FAST = {"nsz", "arcp", "contract", "reassoc"}  # reassoc: vectorised sums


@njit(cache=True, parallel=True, fastmath=_FAST)
def _moments(x, mean, m2):
    rows, s = x.shape
    for r in prange(rows):
        shift = np.float64(x[r, 0])
        s1 = 0.0
        s2 = 0.0
        for p in range(s):
            d = np.float64(x[r, p]) - shift
            s1 += d
            s2 += d * d
        mean[r] = shift + s1 / s
        m2[r] = max(s2 - s1 * s1 / s, 0.0)


@njit(cache=True, parallel=True, fastmath=_FAST)
def _grad_sums(gy, x, center, sum_gy, sum_gy_xc):
    rows, s = x.shape
    for r in prange(rows):
        c = center[r]
        a = 0.0
        b = 0.0
        for p in range(s):
            g = np.float64(gy[r, p])
            a += g
            b += g * (x[r, p] - c)
        sum_gy[r] = a
        sum_gy_xc[r] = b


@njit(cache=True, parallel=True, fastmath=_FAST)
def _affine(x, center, a, b, y):
    rows, s = x.shape
    for r in prange(rows):
        c, ar, br = center[r], a[r], b[r]
        for p in range(s):
            y[r, p] = (x[r, p] - c) * ar + br


@njit(cache=True, parallel=True, fastmath=_FAST)
def _affine_bwd(gy, x, center, a, p_, q, gx):
    rows, s = x.shape
    for r in prange(rows):
        c, ar, pr, qr = center[r], a[r], p_[r], q[r]
        for p in range(s):
            gx[r, p] = gy[r, p] * ar + (x[r, p] - c) * pr + qr


def norm_row_moments(x):
    """``(mean, m2)`` per row, float64: the mean and the sum of squared deviations."""
    mean, m2 = np.empty(x.shape[0]), np.empty(x.shape[0])
    _moments(x, mean, m2)
    return mean, m2


def norm_row_grad_sums(gy, x, center):
    """``(sum gy, sum gy * (x - center))`` per row, float64."""
    sum_gy, sum_gy_xc = np.empty(x.shape[0]), np.empty(x.shape[0])
    _grad_sums(gy, x, center.astype(x.dtype), sum_gy, sum_gy_xc)
    return sum_gy, sum_gy_xc


def norm_affine(x, center, a, b, out=None):
    """y = (x - center[r]) * a[r] + b[r], into ``out`` when given (x itself may be it)."""
    y = np.empty_like(x) if out is None else out
    _affine(x, *(v.astype(x.dtype) for v in (center, a, b)), y)
    return y


def norm_affine_bwd(gy, x, center, a, p, q, out=None):
    """gx = gy * a[r] + (x - center[r]) * p[r] + q[r], into ``out`` when given (gy or x itself
    may be it)."""
    gx = np.empty_like(x) if out is None else out
    _affine_bwd(gy, x, *(v.astype(x.dtype) for v in (center, a, p, q)), gx)
    return gx


@njit(cache=True, parallel=True, fastmath=_FAST)
def _layer_norm_fwd(x, w, b, eps, y, mean, invstd):
    rows, d = x.shape
    for r in prange(rows):
        shift = np.float64(x[r, 0])
        s1 = 0.0
        s2 = 0.0
        for p in range(d):
            v = np.float64(x[r, p]) - shift
            s1 += v
            s2 += v * v
        mu = shift + s1 / d
        inv = 1.0 / np.sqrt(max(s2 - s1 * s1 / d, 0.0) / d + eps)
        mean[r], invstd[r] = mu, inv
        c, a = x.dtype.type(mu), x.dtype.type(inv)
        for p in range(d):
            y[r, p] = (x[r, p] - c) * a * w[p] + b[p]


@njit(cache=True, parallel=True, fastmath=_FAST)
def _layer_norm_bwd(gy, x, mean, invstd, w, gx, gw_part, gb_part):
    rows, d = x.shape
    chunks = gw_part.shape[0]
    for k in prange(chunks):  # a chunk of rows each, with its own gw, gb partial sums
        gw_acc, gb_acc = gw_part[k], gb_part[k]
        for r in range(k * rows // chunks, (k + 1) * rows // chunks):
            c, a = x.dtype.type(mean[r]), x.dtype.type(invstd[r])
            sg = 0.0
            sgx = 0.0
            for p in range(d):
                xhat = (x[r, p] - c) * a
                g = gy[r, p] * w[p]
                sg += g
                sgx += g * xhat
                gw_acc[p] += gy[r, p] * xhat
                gb_acc[p] += gy[r, p]
            mg, mgx = x.dtype.type(sg / d), x.dtype.type(sgx / d)
            for p in range(d):
                gx[r, p] = a * (gy[r, p] * w[p] - mg - (x[r, p] - c) * a * mgx)


def layer_norm_fwd(x, w, b, eps):
    """``(y, mean, invstd)`` for rows of x (M, D): y = (x - mean) * invstd * w + b with w, b of
    length D; mean and invstd per row, float64."""
    y, mean, invstd = np.empty_like(x), np.empty(x.shape[0]), np.empty(x.shape[0])
    _layer_norm_fwd(x, w.astype(x.dtype), b.astype(x.dtype), float(eps), y, mean, invstd)
    return y, mean, invstd


def layer_norm_bwd(gy, x, mean, invstd, w):
    """``(gx, gw, gb)``: gx = invstd (g - mean_d(g) - xhat mean_d(g xhat)) with g = gy w,
    gw = sum_rows gy xhat, gb = sum_rows gy."""
    chunks = max(1, min(x.shape[0], 64))
    gw_part, gb_part = np.zeros((chunks, x.shape[1])), np.zeros((chunks, x.shape[1]))
    gx = np.empty_like(x)
    _layer_norm_bwd(gy, x, mean, invstd, w.astype(x.dtype), gx, gw_part, gb_part)
    return gx, gw_part.sum(axis=0).astype(w.dtype), gb_part.sum(axis=0).astype(w.dtype)


# The same four for a 2-D (N, C) array with one statistic per column (batch norm of (N, C)):
# tasks own blocks of columns and walk the rows, so the inner loops run along contiguous rows.
COLUMNS = 256


@njit(cache=True, parallel=True, fastmath=_FAST)
def _col_sums(gy, x, center, shifted, s1, s2):
    """Per column: s1 = sum g, s2 = sum g * (x - center), with g = gy, or with g = x - center
    itself when ``shifted`` (the moments)."""
    n, c = x.shape
    for k in prange((c + COLUMNS - 1) // COLUMNS):
        lo, hi = k * COLUMNS, min(c, (k + 1) * COLUMNS)
        a = np.zeros(hi - lo)
        b = np.zeros(hi - lo)
        for i in range(n):
            for j in range(lo, hi):
                d = np.float64(x[i, j]) - center[j]
                g = d if shifted else np.float64(gy[i, j])
                a[j - lo] += g
                b[j - lo] += g * d
        s1[lo:hi] = a
        s2[lo:hi] = b


@njit(cache=True, parallel=True, fastmath=_FAST)
def _col_affine(x, center, a, b, y):
    n, c = x.shape
    for i in prange(n):
        for j in range(c):
            y[i, j] = (x[i, j] - center[j]) * a[j] + b[j]


@njit(cache=True, parallel=True, fastmath=_FAST)
def _col_affine_bwd(gy, x, center, a, p_, q, gx):
    n, c = x.shape
    for i in prange(n):
        for j in range(c):
            gx[i, j] = gy[i, j] * a[j] + (x[i, j] - center[j]) * p_[j] + q[j]


def norm_col_moments(x):
    """``(mean, m2)`` per column, float64."""
    shift = x[0].astype(np.float64)  # the shifted one-pass sums of the rows
    s1, s2 = np.empty(x.shape[1]), np.empty(x.shape[1])
    _col_sums(x, x, shift, True, s1, s2)
    n = x.shape[0]
    return shift + s1 / n, np.maximum(s2 - s1 * s1 / n, 0.0)


def norm_col_grad_sums(gy, x, center):
    """``(sum gy, sum gy * (x - center))`` per column, float64."""
    s1, s2 = np.empty(x.shape[1]), np.empty(x.shape[1])
    _col_sums(gy, x, center.astype(np.float64), False, s1, s2)
    return s1, s2


def norm_col_affine(x, center, a, b):
    """y = (x - center[j]) * a[j] + b[j] for column j."""
    y = np.empty_like(x)
    _col_affine(x, *(v.astype(x.dtype) for v in (center, a, b)), y)
    return y


def norm_col_affine_bwd(gy, x, center, a, p, q):
    """gx = gy * a[j] + (x - center[j]) * p[j] + q[j] for column j."""
    gx = np.empty_like(x)
    _col_affine_bwd(gy, x, *(v.astype(x.dtype) for v in (center, a, p, q)), gx)
    return gx
