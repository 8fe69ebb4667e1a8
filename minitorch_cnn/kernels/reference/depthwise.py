"""Depthwise convolution in plain NumPy (groups == C, O = C * multiplier): the oracle.

``y[n, o, oh, ow] = sum_ij w[o, 0, i, j] * x[n, o // m, oh*sy - ph + i*dy, ow*sx - pw + j*dx]``
with m = O / C (Howard et al. 2017, MobileNets; Chollet 2017, Xception). ``ph``, ``pw`` are the
top and left padding; output sizes come from ``y`` / ``gy``. NumPy or CuPy arrays alike.
"""
from ..array_module import array_module
from .im2col import col2im, im2col


def _col(x, kh, kw, out_h, out_w, geometry):
    col = array_module(x).empty(x.shape[:2] + (kh, kw, out_h, out_w), x.dtype)
    im2col(x, col, *geometry)
    return col


def depthwise_conv2d_fwd(x, w, y, sy, sx, ph, pw, dy, dx):
    """Overwrite ``y`` (N, O, out_h, out_w) with the depthwise convolution of ``x`` by ``w``
    (O, 1, kh, kw)."""
    o, _, kh, kw = w.shape
    m = o // x.shape[1]
    col = _col(x, kh, kw, *y.shape[2:], (sy, sx, ph, pw, dy, dx))
    xp = array_module(x)
    col = xp.repeat(col, m, axis=1)  # output channel o reads input channel o // m
    y[...] = xp.einsum("noijhw,oij->nohw", col, w[:, 0])


def depthwise_conv2d_bwd_data(gy, w, gx, sy, sx, ph, pw, dy, dx):
    """Overwrite ``gx`` (N, C, H, W) with the gradient of the input."""
    n, c = gx.shape[:2]
    o, _, kh, kw = w.shape
    gcol = array_module(gy).einsum("nohw,oij->noijhw", gy, w[:, 0])
    gcol = gcol.reshape((n, c, o // c) + gcol.shape[2:]).sum(axis=2)
    col2im(gcol, gx, sy, sx, ph, pw, dy, dx)


def depthwise_conv2d_bwd_filter(x, gy, gw, sy, sx, ph, pw, dy, dx):
    """Overwrite ``gw`` (O, 1, kh, kw) with the gradient of the weight."""
    o, _, kh, kw = gw.shape
    col = _col(x, kh, kw, *gy.shape[2:], (sy, sx, ph, pw, dy, dx))
    xp = array_module(x)
    col = xp.repeat(col, o // x.shape[1], axis=1)
    gw[:, 0] = xp.einsum("noijhw,nohw->oij", col, gy)
