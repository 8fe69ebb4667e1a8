"""Exercise 5: convolution as one matrix product (im2col), and its backward (col2im).

im2col copies every receptive field of the padded input into a column:

    col[n, (c, p, q), (i, j)] = xp[n, c, i*s + p, j*s + q]

with rows ordered c, then p, then q (C * kh * kw rows, the order of w.reshape(O, -1)) and
columns ordered i, then j (OH * OW columns). Then the convolution is one matrix product per
image,  y[n] = w.reshape(O, -1) @ col[n] + b[:, None],  reshaped to (O, OH, OW).

col2im is the adjoint of im2col: it adds every column entry back to the pixel it was copied
from. Where windows overlap (stride < kernel), a pixel receives several contributions: add them
(+=), never assign. The gradient of the convolution is then
    gcol[n] = w.reshape(O, -1).T @ gy[n].reshape(O, -1),   gx = col2im(gcol),
    gw = sum_n gy[n].reshape(O, -1) @ col[n].T,            gb = gy summed over n, i, j.

Worked example: x 1x1x4x4 holding 0..15, a 3x3 kernel, stride 1, no padding: OH = OW = 2, col
is 9 x 4 and its first column is the top-left window 0 1 2 4 5 6 8 9 10.

Check with:  python -m minitorch_cnn.exercises check DIR im2col
"""
import numpy as np


def im2col(x, kh, kw, stride=1, padding=0):
    """x (N, C, H, W) -> col (N, C*kh*kw, OH*OW)."""
    n, c, in_h, in_w = x.shape
    out_h = (in_h + 2 * padding - kh) // stride + 1
    out_w = (in_w + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    col = np.empty((n, c, kh, kw, out_h, out_w), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            col[:, :, p, q] = xp[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride]
    return col.reshape(n, c * kh * kw, out_h * out_w)


def col2im(col, x_shape, kh, kw, stride=1, padding=0):
    """col (N, C*kh*kw, OH*OW) -> an array of shape x_shape, overlapping entries summed."""
    n, c, in_h, in_w = x_shape
    out_h = (in_h + 2 * padding - kh) // stride + 1
    out_w = (in_w + 2 * padding - kw) // stride + 1
    col = col.reshape(n, c, kh, kw, out_h, out_w)
    xp = np.zeros((n, c, in_h + 2 * padding, in_w + 2 * padding), dtype=col.dtype)
    for p in range(kh):
        for q in range(kw):
            xp[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride] += col[:, :, p, q]
    return xp[:, :, padding:padding + in_h, padding:padding + in_w]


def conv2d_forward_im2col(x, w, b, stride=1, padding=0):
    """The convolution of exercise 4 through im2col and a matrix product."""
    n, _, in_h, in_w = x.shape
    out_c, _, kh, kw = w.shape
    out_h = (in_h + 2 * padding - kh) // stride + 1
    out_w = (in_w + 2 * padding - kw) // stride + 1
    col = im2col(x, kh, kw, stride, padding)
    y = w.reshape(out_c, -1) @ col + b[:, None]
    return y.reshape(n, out_c, out_h, out_w)


def conv2d_backward_im2col(gy, x, w, b, stride=1, padding=0):
    """Return (gx, gw, gb) through im2col, two matrix products and col2im."""
    out_c, _, kh, kw = w.shape
    n = x.shape[0]
    col = im2col(x, kh, kw, stride, padding)
    gy2 = gy.reshape(n, out_c, -1)
    gw = (gy2 @ col.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    gx = col2im(w.reshape(out_c, -1).T @ gy2, x.shape, kh, kw, stride, padding)
    return gx, gw, gy.sum(axis=(0, 2, 3))
