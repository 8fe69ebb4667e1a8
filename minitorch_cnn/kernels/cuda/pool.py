"""Pooling and unpooling on the GPU: one thread per output element for the forward passes; the
max-pool backward scatters with atomic adds at the argmax (as PyTorch), the avg-pool backward
gathers, one thread per input element, over the windows that cover it (no atomics).

The launchers take CuPy arrays on a GPU, or NumPy arrays under Numba's CUDA simulator, and have
the names, signatures and results of ``kernels/reference/pool.py``.
"""
import math

from numba import cuda

from ..array_module import array_module
from .im2col import THREADS, _blocks, _unravel_nchw


@cuda.jit
def _max_fwd(x, y, indices, kh, kw, sy, sx, ph, pw, dy, dx):
    t = cuda.grid(1)
    n, c, out_h, out_w = y.shape
    in_h, in_w = x.shape[2], x.shape[3]
    if t >= n * c * out_h * out_w:
        return
    b, ch, i, j = _unravel_nchw(t, c, out_h, out_w)
    best = x[b, ch, 0, 0]
    where = -1
    for a in range(kh):
        h = i * sy - ph + a * dy
        if h < 0 or h >= in_h:
            continue
        for e in range(kw):
            w = j * sx - pw + e * dx
            if w < 0 or w >= in_w:
                continue
            v = x[b, ch, h, w]
            if where < 0 or v > best or math.isnan(v):  # PyTorch's tie and NaN rule
                best = v
                where = h * in_w + w
    y[b, ch, i, j] = best
    indices[b, ch, i, j] = where


def max_pool2d_fwd(x, kh, kw, sy, sx, ph, pw, dy, dx, out_h, out_w):
    """Max of each (dilated) window and its flat index in the channel's plane (int64)."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    n, c = x.shape[:2]
    y = xp.empty((n, c, out_h, out_w), x.dtype)
    indices = xp.empty((n, c, out_h, out_w), xp.int64)
    if y.size:
        _max_fwd[_blocks(y.size), THREADS](x, y, indices, kh, kw, sy, sx, ph, pw, dy, dx)
    return y, indices


@cuda.jit
def _scatter(out, indices, src, accumulate):
    t = cuda.grid(1)
    n, c, h, w = src.shape
    if t >= n * c * h * w:
        return
    b, ch, i, j = _unravel_nchw(t, c, h, w)
    k = indices[b, ch, i, j]
    r, s = k // out.shape[3], k % out.shape[3]
    if accumulate:
        cuda.atomic.add(out, (b, ch, r, s), src[b, ch, i, j])
    else:
        out[b, ch, r, s] = src[b, ch, i, j]


def max_pool2d_bwd(gy, indices, in_h, in_w):
    """gx: each output gradient added at its argmax (overlapping windows may share one)."""
    xp = array_module(gy)
    gy = xp.ascontiguousarray(gy)
    gx = xp.zeros(gy.shape[:2] + (in_h, in_w), gy.dtype)
    if gy.size:
        _scatter[_blocks(gy.size), THREADS](gx, xp.ascontiguousarray(indices), gy, True)
    return gx


@cuda.jit(device=True)
def _avg_count(i, j, in_h, in_w, kh, kw, sy, sx, ph, pw, include_pad, divisor):
    """PyTorch's divisor of output (i, j): 0 for a window wholly in the padding."""
    h0, w0 = i * sy - ph, j * sx - pw
    h1, w1 = min(h0 + kh, in_h + ph), min(w0 + kw, in_w + pw)
    padded = (h1 - h0) * (w1 - w0)
    h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, in_h), min(w1, in_w)
    if h0 >= h1 or w0 >= w1:
        return 0
    if divisor:
        return divisor
    return padded if include_pad else (h1 - h0) * (w1 - w0)


@cuda.jit
def _avg_fwd(x, y, kh, kw, sy, sx, ph, pw, include_pad, divisor):
    t = cuda.grid(1)
    n, c, out_h, out_w = y.shape
    in_h, in_w = x.shape[2], x.shape[3]
    if t >= n * c * out_h * out_w:
        return
    b, ch, i, j = _unravel_nchw(t, c, out_h, out_w)
    count = _avg_count(i, j, in_h, in_w, kh, kw, sy, sx, ph, pw, include_pad, divisor)
    total = 0.0
    for h in range(max(i * sy - ph, 0), min(i * sy - ph + kh, in_h)):
        for w in range(max(j * sx - pw, 0), min(j * sx - pw + kw, in_w)):
            total += x[b, ch, h, w]
    y[b, ch, i, j] = total / count if count else 0.0


def avg_pool2d_fwd(x, kh, kw, sy, sx, ph, pw, out_h, out_w, count_include_pad, divisor):
    """Mean of each window; ``divisor`` (0 for none) overrides the count, as divisor_override."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty(x.shape[:2] + (out_h, out_w), x.dtype)
    if y.size:
        _avg_fwd[_blocks(y.size), THREADS](x, y, kh, kw, sy, sx, ph, pw,
                                           bool(count_include_pad), int(divisor))
    return y


@cuda.jit
def _avg_bwd(gy, gx, kh, kw, sy, sx, ph, pw, include_pad, divisor):
    t = cuda.grid(1)
    n, c, in_h, in_w = gx.shape
    out_h, out_w = gy.shape[2], gy.shape[3]
    if t >= n * c * in_h * in_w:
        return
    b, ch, h, w = _unravel_nchw(t, c, in_h, in_w)
    # the outputs whose window [i * sy - ph, i * sy - ph + kh) holds row h
    i0 = 0 if h + ph < kh else (h + ph - kh) // sy + 1
    j0 = 0 if w + pw < kw else (w + pw - kw) // sx + 1
    total = 0.0
    for i in range(i0, min((h + ph) // sy + 1, out_h)):
        for j in range(j0, min((w + pw) // sx + 1, out_w)):
            count = _avg_count(i, j, in_h, in_w, kh, kw, sy, sx, ph, pw, include_pad, divisor)
            total += gy[b, ch, i, j] / count
    gx[b, ch, h, w] = total


def avg_pool2d_bwd(gy, in_h, in_w, kh, kw, sy, sx, ph, pw, count_include_pad, divisor):
    """gx: each output gradient spread evenly (1 / divisor) over its window."""
    xp = array_module(gy)
    gy = xp.ascontiguousarray(gy)
    gx = xp.empty(gy.shape[:2] + (in_h, in_w), gy.dtype)
    if gx.size:
        _avg_bwd[_blocks(gx.size), THREADS](gy, gx, kh, kw, sy, sx, ph, pw,
                                            bool(count_include_pad), int(divisor))
    return gx


def max_unpool2d_fwd(x, indices, out_h, out_w):
    """y: zeros of (n, c, out_h, out_w) with each x put back at its flat index (assignment)."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    y = xp.zeros(x.shape[:2] + (out_h, out_w), x.dtype)
    if x.size:
        _scatter[_blocks(x.size), THREADS](y, xp.ascontiguousarray(indices), x, False)
    return y


@cuda.jit
def _gather(gx, indices, gy):
    t = cuda.grid(1)
    n, c, h, w = gx.shape
    if t >= n * c * h * w:
        return
    b, ch, i, j = _unravel_nchw(t, c, h, w)
    k = indices[b, ch, i, j]
    gx[b, ch, i, j] = gy[b, ch, k // gy.shape[3], k % gy.shape[3]]


def max_unpool2d_bwd(gy, indices):
    """gx: gy read back at each index (a gather), of the indices' shape."""
    xp = array_module(gy)
    gx = xp.empty(indices.shape, gy.dtype)
    if gx.size:
        _gather[_blocks(gx.size), THREADS](gx, xp.ascontiguousarray(indices),
                                           xp.ascontiguousarray(gy))
    return gx
