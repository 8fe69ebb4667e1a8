"""The patch gather of the locally-connected layer (and its adjoint) on the GPU.

Layout and results as ``kernels/reference/local_conv.py``: col (out_h * out_w, n, c * kh * kw).
The gather has one thread per element of col; the adjoint one thread per input element, summing
the patch entries that came from it (a gather too, so no atomics).
"""
from numba import cuda

from ..array_module import array_module
from .im2col import THREADS, _blocks, _unravel_nchw


@cuda.jit
def _unfold(x, col, kh, kw, sy, sx, ph, pw, out_w):
    t = cuda.grid(1)
    positions, n, size = col.shape
    if t >= positions * n * size:
        return
    k, b, pos = t % size, (t // size) % n, t // (size * n)
    ch, a, e = k // (kh * kw), (k // kw) % kh, k % kw
    h = (pos // out_w) * sy - ph + a
    w = (pos % out_w) * sx - pw + e
    inside = h >= 0 and h < x.shape[2] and w >= 0 and w < x.shape[3]
    col[pos, b, k] = x[b, ch, h, w] if inside else 0.0


def local_unfold_fwd(x, kh, kw, sy, sx, ph, pw, out_h, out_w, out=None):
    """col (out_h * out_w, n, c * kh * kw): the patch under every output position, written
    into ``out`` (a C-contiguous array of that shape) when given."""
    xp = array_module(x)
    n, c = x.shape[:2]
    col = xp.empty((out_h * out_w, n, c * kh * kw), x.dtype) if out is None else out
    if col.size:
        _unfold[_blocks(col.size), THREADS](xp.ascontiguousarray(x), col, kh, kw, sy, sx, ph, pw,
                                            out_w)
    return col


@cuda.jit
def _fold(col, gx, kh, kw, sy, sx, ph, pw, out_h, out_w):
    t = cuda.grid(1)
    n, c, in_h, in_w = gx.shape
    if t >= n * c * in_h * in_w:
        return
    b, ch, h, w = _unravel_nchw(t, c, in_h, in_w)
    total = 0.0
    for a in range(kh):
        ii = h + ph - a  # i * sy for the outputs whose row a lands on h
        if ii < 0 or ii % sy or ii // sy >= out_h:
            continue
        for e in range(kw):
            jj = w + pw - e
            if jj < 0 or jj % sx or jj // sx >= out_w:
                continue
            total += col[(ii // sy) * out_w + jj // sx, b, (ch * kh + a) * kw + e]
    gx[b, ch, h, w] = total


def local_unfold_bwd(col, c, in_h, in_w, kh, kw, sy, sx, ph, pw, out_h, out_w):
    """gx (n, c, in_h, in_w): every patch gradient added back where its patch came from."""
    xp = array_module(col)
    gx = xp.empty((col.shape[1], c, in_h, in_w), col.dtype)
    if gx.size:
        _fold[_blocks(gx.size), THREADS](xp.ascontiguousarray(col), gx, kh, kw, sy, sx, ph, pw,
                               out_h, out_w)
    return gx
