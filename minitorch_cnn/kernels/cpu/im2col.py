"""im2col / col2im on the CPU: Numba loops, parallel over (sample, channel) planes.

Padding is fused: for each kernel tap (i, j) the range of output columns that read inside the
image is computed once, so the copy loop has no bounds test and the padding costs only the zeros
it writes (no padded copy of the input). col2im accumulates straight into each output plane,
which one thread owns, so it needs neither temporaries nor atomics. ``nogil``: the conv ops run
batch chunks in several Python threads (``ops/conv_chunks.py``).

Measured habits of Numba here: indices cast to unsigned (``np.uintp``) spare the negative-index
wraparound that otherwise keeps LLVM from vectorising a row loop; full indexing beats taking row
views, whose reference counting costs more than a short row (out_w = 7 or 27) itself; 1-D slices
looped from 0 (``axpy``) vectorise too, which the depthwise kernels use.
"""
import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def valid_range(offset, stride, size, n_out):
    """The outputs o in [lo, hi) with 0 <= o*stride + offset < size."""
    lo = max(0, -(offset // stride))
    hi = min(n_out, (size - 1 - offset) // stride + 1)
    return lo, max(lo, hi)


@njit(cache=True, inline="always")
def window(row, lo, hi, stride, offset):
    """``row[o*stride + offset]`` for o in [lo, hi), a strided slice; only for hi > lo (else
    the stop, below the start, can be negative and wrap around to the end of the row)."""
    return row[lo * stride + offset:(hi - 1) * stride + offset + 1:stride]


@njit(cache=True, inline="always")
def window1(row, lo, hi, offset):
    """``window`` for stride 1: a unit-step slice, which Numba types as contiguous."""
    return row[lo + offset:hi + offset]


@njit(cache=True, inline="always")
def axpy(y, x, a):
    """y += a * x for 1-D arrays of equal length."""
    for k in range(y.shape[0]):
        y[k] += a * x[k]


@njit(cache=True, inline="always")
def _plane_order(t, n, c, kmajor):
    """(sample, channel) of task t, following col's memory order (K-major: samples inner)."""
    return (t % n, t // n) if kmajor else (t // c, t % c)


@njit(cache=True, parallel=True, nogil=True)
def im2col(x, col, sy, sx, ph, pw, dy, dx):
    """Fill ``col`` (N, C, kh, kw, out_h, out_w) with the patches of ``x`` (N, C, H, W)."""
    n, c, in_h, in_w = x.shape
    kh, kw, out_h, out_w = col.shape[2:]
    kmajor = col.strides[0] < col.strides[1]
    for t in prange(n * c):
        b, ch = _plane_order(t, n, c, kmajor)
        for i in range(kh):
            oh_lo, oh_hi = valid_range(i * dy - ph, sy, in_h, out_h)
            for j in range(kw):
                off = j * dx - pw
                lo, hi = valid_range(off, sx, in_w, out_w)
                for oh in range(out_h):
                    if oh < oh_lo or oh >= oh_hi:
                        lo_row = hi_row = out_w
                    else:
                        lo_row, hi_row = lo, hi
                    ih = oh * sy - ph + i * dy
                    for ow in range(np.uintp(lo_row)):
                        col[b, ch, i, j, oh, ow] = 0
                    for ow in range(lo_row, hi_row):
                        col[b, ch, i, j, oh, np.uintp(ow)] = \
                            x[b, ch, ih, np.uintp(ow * sx + off)]
                    for ow in range(hi_row, out_w):
                        col[b, ch, i, j, oh, np.uintp(ow)] = 0


@njit(cache=True, parallel=True, nogil=True)
def col2im(col, x, sy, sx, ph, pw, dy, dx):
    """Overwrite ``x`` (N, C, H, W) with the sum of the patches in ``col``: im2col's adjoint."""
    n, c, in_h, in_w = x.shape
    kh, kw, out_h, out_w = col.shape[2:]
    kmajor = col.strides[0] < col.strides[1]
    for t in prange(n * c):
        b, ch = _plane_order(t, n, c, kmajor)
        x[b, ch] = 0
        for i in range(kh):
            oh_lo, oh_hi = valid_range(i * dy - ph, sy, in_h, out_h)
            for j in range(kw):
                off = j * dx - pw
                lo, hi = valid_range(off, sx, in_w, out_w)
                for oh in range(oh_lo, oh_hi):
                    ih = oh * sy - ph + i * dy
                    for ow in range(lo, hi):
                        x[b, ch, ih, np.uintp(ow * sx + off)] += \
                            col[b, ch, i, j, oh, np.uintp(ow)]
