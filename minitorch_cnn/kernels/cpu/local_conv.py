"""The patch gather of the locally-connected layer (and its adjoint) on the CPU with Numba.

Layout and results as ``kernels/reference/local_conv.py``: col (out_h * out_w, n, c * kh * kw).
The gather runs in parallel over output positions (each writes its own rows of col); the
scatter-add runs in parallel over the n * c input planes (each is written by its own columns
only), so neither needs atomics. Indices into the flat arrays are unsigned: Numba then drops its
negative-index wrap-around test, which otherwise blocks vectorisation (3x faster here).
"""
import numpy as np
from numba import njit, prange, uint64


@njit(inline="always")
def _span(start, k, size):
    """[lo, hi): the taps a of a window side with 0 <= start + a < size."""
    return min(max(-start, 0), k), max(min(size - start, k), 0)


@njit(cache=True, parallel=True)
def _unfold(x, col, n, c, in_h, in_w, kh, kw, sy, sx, ph, pw, out_h, out_w):
    size = c * kh * kw
    for pos in prange(out_h * out_w):
        h0, w0 = (pos // out_w) * sy - ph, (pos % out_w) * sx - pw
        a0, a1 = _span(h0, kh, in_h)
        e0, e1 = _span(w0, kw, in_w)
        for b in range(n):
            for ch in range(c):
                for a in range(kh):
                    k = uint64((pos * n + b) * size + (ch * kh + a) * kw)
                    if a < a0 or a >= a1:  # a row of zero padding
                        e_inside = e_end = 0
                    else:
                        e_inside, e_end = e0, e1
                    for e in range(e_inside):
                        col[k + uint64(e)] = 0
                    src = uint64(((b * c + ch) * in_h + h0 + a) * in_w + w0) if e_end else uint64(0)
                    for e in range(e_inside, e_end):
                        col[k + uint64(e)] = x[src + uint64(e)]
                    for e in range(e_end, kw):
                        col[k + uint64(e)] = 0


def local_unfold_fwd(x, kh, kw, sy, sx, ph, pw, out_h, out_w, out=None):
    """col (out_h * out_w, n, c * kh * kw): the patch under every output position, written
    into ``out`` (a C-contiguous array of that shape) when given."""
    n, c, in_h, in_w = x.shape
    col = np.empty((out_h * out_w, n, c * kh * kw), x.dtype) if out is None else out
    _unfold(np.ascontiguousarray(x).reshape(-1), col.reshape(-1), n, c, in_h, in_w, kh, kw,
            sy, sx, ph, pw, out_h, out_w)
    return col


@njit(cache=True, parallel=True)
def _fold(col, gx, n, c, in_h, in_w, kh, kw, sy, sx, ph, pw, out_h, out_w):
    size = c * kh * kw
    for p in prange(n * c):
        b, ch = p // c, p % c
        plane = uint64(p * in_h * in_w)
        for k in range(in_h * in_w):
            gx[plane + uint64(k)] = 0
        for pos in range(out_h * out_w):
            h0, w0 = (pos // out_w) * sy - ph, (pos % out_w) * sx - pw
            a0, a1 = _span(h0, kh, in_h)
            e0, e1 = _span(w0, kw, in_w)
            for a in range(a0, a1):
                src = uint64((pos * n + b) * size + (ch * kh + a) * kw)
                dst = plane + uint64((h0 + a) * in_w + w0)
                for e in range(e0, e1):
                    gx[dst + uint64(e)] += col[src + uint64(e)]


def local_unfold_bwd(col, c, in_h, in_w, kh, kw, sy, sx, ph, pw, out_h, out_w):
    """gx (n, c, in_h, in_w): every patch gradient added back where its patch came from."""
    n = col.shape[1]
    gx = np.empty((n, c, in_h, in_w), col.dtype)
    _fold(np.ascontiguousarray(col).reshape(-1), gx.reshape(-1), n, c, in_h, in_w, kh, kw,
          sy, sx, ph, pw, out_h, out_w)
    return gx
