"""Local response normalization across channels on the CPU: a running window sum.

Each task owns one sample and a block of spatial positions and walks the channels once, adding
the square that enters the window and subtracting the one that leaves: two updates per element
whatever the size, on a float64 accumulator (so the subtractions cannot drift). Blocks of
contiguous positions keep the inner loops vectorised.
"""
import math

import numpy as np
from numba import njit, prange

BLOCK = 512  # spatial positions per task: long vector loops, accumulator in L1
_FAST = {"nsz", "arcp", "contract"}


@njit(inline="always", fastmath=_FAST)
def _neg_pow(s, beta):
    """s^-beta; AlexNet's 0.75 as 1/(sqrt(s) * s^1/4) with vector sqrts instead of pow()."""
    if beta == 0.75:
        r = 1.0 / math.sqrt(s)
        return r * math.sqrt(r)
    if beta == 0.5:
        return 1.0 / math.sqrt(s)
    if beta == 1.0:
        return 1.0 / s
    return s ** -beta


@njit(cache=True, parallel=True, fastmath=_FAST)
def _fwd(x, y, scale, size, alpha, beta, k):
    n, c, s = x.shape
    before, after = size // 2, (size - 1) // 2
    coef = alpha / size
    blocks = (s + BLOCK - 1) // BLOCK
    for task in prange(n * blocks):
        i = task // blocks
        lo = (task % blocks) * BLOCK
        hi = min(lo + BLOCK, s)
        acc = np.zeros(hi - lo, np.float64)
        for j in range(min(after, c - 1) + 1):
            for p in range(lo, hi):
                acc[p - lo] += np.float64(x[i, j, p]) * x[i, j, p]
        for ch in range(c):
            for p in range(lo, hi):
                sc = k + coef * acc[p - lo]
                scale[i, ch, p] = sc
                y[i, ch, p] = x[i, ch, p] * _neg_pow(sc, beta)
            enter, leave = ch + after + 1, ch - before
            if enter < c:
                for p in range(lo, hi):
                    acc[p - lo] += np.float64(x[i, enter, p]) * x[i, enter, p]
            if leave >= 0:
                for p in range(lo, hi):
                    acc[p - lo] -= np.float64(x[i, leave, p]) * x[i, leave, p]


@njit(cache=True, parallel=True, fastmath=_FAST)
def _bwd(x, y, scale, gy, gx, size, alpha, beta):
    n, c, s = x.shape
    before, after = size // 2, (size - 1) // 2  # the forward's; the backward window mirrors it
    coef = 2.0 * alpha * beta / size
    blocks = (s + BLOCK - 1) // BLOCK
    for task in prange(n * blocks):
        i = task // blocks
        lo = (task % blocks) * BLOCK
        hi = min(lo + BLOCK, s)
        acc = np.zeros(hi - lo, np.float64)
        for j in range(min(before, c - 1) + 1):
            for p in range(lo, hi):
                acc[p - lo] += np.float64(gy[i, j, p]) * y[i, j, p] / scale[i, j, p]
        for ch in range(c):
            for p in range(lo, hi):
                gx[i, ch, p] = (gy[i, ch, p] * _neg_pow(np.float64(scale[i, ch, p]), beta)
                                - coef * x[i, ch, p] * acc[p - lo])
            enter, leave = ch + before + 1, ch - after
            if enter < c:
                for p in range(lo, hi):
                    acc[p - lo] += np.float64(gy[i, enter, p]) * y[i, enter, p] / scale[i, enter, p]
            if leave >= 0:
                for p in range(lo, hi):
                    acc[p - lo] -= np.float64(gy[i, leave, p]) * y[i, leave, p] / scale[i, leave, p]


def lrn_fwd(x, size, alpha, beta, k):
    """``(y, scale)`` for a C-contiguous (n, c, s) array: scale = k + alpha/size * (window sum
    of x^2), y = x * scale^-beta."""
    y, scale = np.empty_like(x), np.empty_like(x)
    _fwd(x, y, scale, size, float(alpha), float(beta), float(k))
    return y, scale


def lrn_bwd(x, y, scale, gy, size, alpha, beta):
    """gx from the forward's x, y, scale and the output gradient gy (all (n, c, s))."""
    gx = np.empty_like(x)
    _bwd(x, y, scale, np.ascontiguousarray(gy), gx, size, float(alpha), float(beta))
    return gx
