"""Local response normalization across channels on the GPU: one thread per (sample, position)
walks the channels with a running window sum (float64 accumulator); neighbouring threads read
neighbouring positions, so every channel step is one coalesced load."""
import math

from numba import cuda

from ..array_module import array_module

THREADS = 128


@cuda.jit(device=True)
def _neg_pow(s, beta):
    if beta == 0.75:
        r = 1.0 / math.sqrt(s)
        return r * math.sqrt(r)
    return s ** -beta


@cuda.jit
def _fwd(x, y, scale, size, alpha, beta, k):
    n, c, s = x.shape
    t = cuda.grid(1)
    if t >= n * s:
        return
    i, p = t // s, t % s
    before, after = size // 2, (size - 1) // 2
    coef = alpha / size
    acc = 0.0
    for j in range(min(after, c - 1) + 1):
        acc += x[i, j, p] * x[i, j, p]
    for ch in range(c):
        sc = k + coef * acc
        scale[i, ch, p] = sc
        y[i, ch, p] = x[i, ch, p] * _neg_pow(sc, beta)
        if ch + after + 1 < c:
            acc += x[i, ch + after + 1, p] * x[i, ch + after + 1, p]
        if ch - before >= 0:
            acc -= x[i, ch - before, p] * x[i, ch - before, p]


@cuda.jit
def _bwd(x, y, scale, gy, gx, size, alpha, beta):
    n, c, s = x.shape
    t = cuda.grid(1)
    if t >= n * s:
        return
    i, p = t // s, t % s
    before, after = size // 2, (size - 1) // 2  # the forward's; the backward window mirrors it
    coef = 2.0 * alpha * beta / size
    acc = 0.0
    for j in range(min(before, c - 1) + 1):
        acc += gy[i, j, p] * y[i, j, p] / scale[i, j, p]
    for ch in range(c):
        gx[i, ch, p] = gy[i, ch, p] * _neg_pow(scale[i, ch, p], beta) - coef * x[i, ch, p] * acc
        j = ch + before + 1
        if j < c:
            acc += gy[i, j, p] * y[i, j, p] / scale[i, j, p]
        j = ch - after
        if j >= 0:
            acc -= gy[i, j, p] * y[i, j, p] / scale[i, j, p]


def _grid(x):
    threads = min(THREADS, x.shape[0] * x.shape[2])  # few for tiny inputs on the simulator
    return (x.shape[0] * x.shape[2] + threads - 1) // threads, threads


def lrn_fwd(x, size, alpha, beta, k):
    """``(y, scale)`` for a C-contiguous (n, c, s) array: scale = k + alpha/size * (window sum
    of x^2), y = x * scale^-beta."""
    xp = array_module(x)
    y, scale = xp.empty_like(x), xp.empty_like(x)
    if x.size:
        _fwd[_grid(x)](x, y, scale, size, float(alpha), float(beta), float(k))
    return y, scale


def lrn_bwd(x, y, scale, gy, size, alpha, beta):
    """gx from the forward's x, y, scale and the output gradient gy (all (n, c, s))."""
    xp = array_module(x)
    gx = xp.empty_like(x)
    if x.size:
        _bwd[_grid(x)](x, y, scale, xp.ascontiguousarray(gy), gx, size,
                                  float(alpha), float(beta))
    return gx
