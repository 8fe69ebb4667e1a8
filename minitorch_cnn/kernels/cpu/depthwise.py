"""Depthwise convolution on the CPU: direct loops, parallel over planes, padding fused.

A depthwise layer does 2*kh*kw flops per output value, far too few for im2col + GEMM to pay
(the col copy would cost more than the arithmetic), so the loops here read each input row once
per tap, innermost over contiguous output columns (1-D slices, see ``im2col.axpy``) so that LLVM
vectorises them.
"""
import numpy as np
from numba import njit, prange

from .im2col import axpy, valid_range, window, window1


@njit(cache=True, inline="always")
def dot(x, y):
    s = x[:0].sum()  # a zero of the arrays' dtype
    for k in range(x.shape[0]):
        s += x[k] * y[k]
    return s


@njit(cache=True, parallel=True)
def depthwise_conv2d_fwd(x, w, y, sy, sx, ph, pw, dy, dx):
    """Overwrite ``y`` (N, O, out_h, out_w) with the depthwise convolution of ``x`` (N, C, H, W)
    by ``w`` (O, 1, kh, kw); output channel o reads input channel o // (O / C)."""
    n, c, in_h, in_w = x.shape
    o, _, kh, kw = w.shape
    out_h, out_w = y.shape[2:]
    m = o // c
    for no in prange(n * o):
        b, oc = no // o, no % o
        xp, yp = x[b, oc // m], y[b, oc]
        yp[:] = 0
        for i in range(kh):
            oh_lo, oh_hi = valid_range(i * dy - ph, sy, in_h, out_h)
            for j in range(kw):
                off = j * dx - pw
                lo, hi = valid_range(off, sx, in_w, out_w)
                if hi <= lo:  # no output column reads this tap (and window needs hi > lo)
                    continue
                wv = w[oc, 0, i, j]
                for oh in range(oh_lo, oh_hi):
                    xrow, yrow = xp[oh * sy - ph + i * dy], yp[oh, lo:hi]
                    if sx == 1:
                        axpy(yrow, window1(xrow, lo, hi, off), wv)
                    else:
                        axpy(yrow, window(xrow, lo, hi, sx, off), wv)


@njit(cache=True, parallel=True)
def depthwise_conv2d_bwd_data(gy, w, gx, sy, sx, ph, pw, dy, dx):
    """Overwrite ``gx`` (N, C, H, W) with the gradient of the input; one thread per plane."""
    n, c, in_h, in_w = gx.shape
    o, _, kh, kw = w.shape
    out_h, out_w = gy.shape[2:]
    m = o // c
    for nc in prange(n * c):
        b, ch = nc // c, nc % c
        gxp = gx[b, ch]
        gxp[:] = 0
        for oc in range(ch * m, ch * m + m):
            gyp = gy[b, oc]
            for i in range(kh):
                oh_lo, oh_hi = valid_range(i * dy - ph, sy, in_h, out_h)
                for j in range(kw):
                    off = j * dx - pw
                    lo, hi = valid_range(off, sx, in_w, out_w)
                    if hi <= lo:  # this tap reaches no output column: it would write past
                        continue  # its window (window() needs hi > lo), found by fuzzing
                    wv = w[oc, 0, i, j]
                    for oh in range(oh_lo, oh_hi):
                        gxrow, gyrow = gxp[oh * sy - ph + i * dy], gyp[oh, lo:hi]
                        if sx == 1:
                            axpy(window1(gxrow, lo, hi, off), gyrow, wv)
                        else:
                            axpy(window(gxrow, lo, hi, sx, off), gyrow, wv)


@njit(cache=True, parallel=True, fastmath=True)  # fastmath: lets LLVM vectorise the row sums
def depthwise_conv2d_bwd_filter(x, gy, gw, sy, sx, ph, pw, dy, dx):
    """Overwrite ``gw`` (O, 1, kh, kw) with the gradient of the weight; one thread per output
    channel, rows summed in the input's precision and across rows in float64."""
    n, c, in_h, in_w = x.shape
    o, _, kh, kw = gw.shape
    out_h, out_w = gy.shape[2:]
    m = o // c
    for oc in prange(o):
        acc = np.zeros((kh, kw))
        for b in range(n):
            xp, gyp = x[b, oc // m], gy[b, oc]
            for i in range(kh):
                oh_lo, oh_hi = valid_range(i * dy - ph, sy, in_h, out_h)
                for j in range(kw):
                    off = j * dx - pw
                    lo, hi = valid_range(off, sx, in_w, out_w)
                    if hi <= lo:
                        continue
                    for oh in range(oh_lo, oh_hi):
                        xrow, gyrow = xp[oh * sy - ph + i * dy], gyp[oh, lo:hi]
                        if sx == 1:
                            acc[i, j] += dot(gyrow, window1(xrow, lo, hi, off))
                        else:
                            acc[i, j] += dot(gyrow, window(xrow, lo, hi, sx, off))
        for i in range(kh):
            for j in range(kw):
                gw[oc, 0, i, j] = acc[i, j]
