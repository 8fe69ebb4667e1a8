"""Depthwise convolution on the GPU: one thread per value written (gathers, no atomics).

The filter gradient has one thread per weight looping over the batch and the image: simple and
exact, but with few weights it occupies little of a GPU; a block-wide reduction would be faster.
"""
from numba import cuda

from .im2col import THREADS, _blocks, _output_of, _unravel_nchw


@cuda.jit
def _fwd(x, w, y, sy, sx, ph, pw, dy, dx):
    idx = cuda.grid(1)
    n, o, out_h, out_w = y.shape
    c, in_h, in_w = x.shape[1], x.shape[2], x.shape[3]
    kh, kw = w.shape[2], w.shape[3]
    if idx >= n * o * out_h * out_w:
        return
    b, oc, oh, ow = _unravel_nchw(idx, o, out_h, out_w)
    ch = oc // (o // c)
    acc = 0.0
    for i in range(kh):
        ih = oh * sy - ph + i * dy
        if 0 <= ih < in_h:
            for j in range(kw):
                iw = ow * sx - pw + j * dx
                if 0 <= iw < in_w:
                    acc += w[oc, 0, i, j] * x[b, ch, ih, iw]
    y[b, oc, oh, ow] = acc


@cuda.jit
def _bwd_data(gy, w, gx, sy, sx, ph, pw, dy, dx):
    idx = cuda.grid(1)
    n, c, in_h, in_w = gx.shape
    o, out_h, out_w = gy.shape[1], gy.shape[2], gy.shape[3]
    kh, kw = w.shape[2], w.shape[3]
    if idx >= n * c * in_h * in_w:
        return
    b, ch, ih, iw = _unravel_nchw(idx, c, in_h, in_w)
    m = o // c
    acc = 0.0
    for i in range(kh):
        oh = _output_of(ih, ph, i, dy, sy, out_h)
        if oh < 0:
            continue
        for j in range(kw):
            ow = _output_of(iw, pw, j, dx, sx, out_w)
            if ow < 0:
                continue
            for k in range(m):
                acc += w[ch * m + k, 0, i, j] * gy[b, ch * m + k, oh, ow]
    gx[b, ch, ih, iw] = acc


@cuda.jit
def _bwd_filter(x, gy, gw, sy, sx, ph, pw, dy, dx):
    idx = cuda.grid(1)
    o, _, kh, kw = gw.shape
    n, c, in_h, in_w = x.shape
    out_h, out_w = gy.shape[2], gy.shape[3]
    if idx >= o * kh * kw:
        return
    j = idx % kw
    i = (idx // kw) % kh
    oc = idx // (kw * kh)
    ch = oc // (o // c)
    acc = 0.0
    for b in range(n):
        for oh in range(out_h):
            ih = oh * sy - ph + i * dy
            if 0 <= ih < in_h:
                for ow in range(out_w):
                    iw = ow * sx - pw + j * dx
                    if 0 <= iw < in_w:
                        acc += gy[b, oc, oh, ow] * x[b, ch, ih, iw]
    gw[oc, 0, i, j] = acc


def depthwise_conv2d_fwd(x, w, y, sy, sx, ph, pw, dy, dx):
    """Overwrite ``y`` (N, O, out_h, out_w) with the depthwise convolution of ``x`` by ``w``."""
    if y.size:
        _fwd[_blocks(y.size), THREADS](x, w, y, sy, sx, ph, pw, dy, dx)


def depthwise_conv2d_bwd_data(gy, w, gx, sy, sx, ph, pw, dy, dx):
    """Overwrite ``gx`` (N, C, H, W) with the gradient of the input."""
    if gx.size:
        _bwd_data[_blocks(gx.size), THREADS](gy, w, gx, sy, sx, ph, pw, dy, dx)


def depthwise_conv2d_bwd_filter(x, gy, gw, sy, sx, ph, pw, dy, dx):
    """Overwrite ``gw`` (O, 1, kh, kw) with the gradient of the weight."""
    if gw.size:
        _bwd_filter[_blocks(gw.size), THREADS](x, gy, gw, sy, sx, ph, pw, dy, dx)
