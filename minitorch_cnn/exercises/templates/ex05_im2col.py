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
import numpy as np  # noqa: F401


def im2col(x, kh, kw, stride=1, padding=0):
    """x (N, C, H, W) -> col (N, C*kh*kw, OH*OW)."""
    raise NotImplementedError


def col2im(col, x_shape, kh, kw, stride=1, padding=0):
    """col (N, C*kh*kw, OH*OW) -> an array of shape x_shape, overlapping entries summed."""
    raise NotImplementedError


def conv2d_forward_im2col(x, w, b, stride=1, padding=0):
    """The convolution of exercise 4 through im2col and a matrix product."""
    raise NotImplementedError


def conv2d_backward_im2col(gy, x, w, b, stride=1, padding=0):
    """Return (gx, gw, gb) through im2col, two matrix products and col2im."""
    raise NotImplementedError
