"""Exercise 11: the transposed convolution is the gradient of a convolution.

A convolution with weight w (C_in, C_out, kh, kw), stride s and padding p maps an image z with
C_out channels to one with C_in channels. Its gradient with respect to z maps C_in channels back
to C_out channels and enlarges the image: that map, applied to x (N, C_in, H, W), is the
transposed convolution ("deconvolution", the upsampling of U-Net and FCN):

    y = conv_transpose2d(x, w, b, s, p),   OH = (H - 1) * s - 2 * p + kh   (the same for OW)

Each input pixel x[n, :, i, j] adds w^T x[n, :, i, j] (a C_out x kh x kw stamp) into the padded
output at (i*s, j*s); the padding is then cropped. With exercise 5:

    col[n] = w.reshape(C_in, -1).T @ x[n].reshape(C_in, -1)     (C_out*kh*kw, H*W)
    y = col2im(col, (N, C_out, OH, OW), kh, kw, s, p) + b[:, None, None]

(you may `from ex05_im2col import im2col, col2im`: the checker puts this folder on sys.path).
Backward: the gradient of a transposed convolution with respect to x is the convolution itself,
gx = conv2d(gy, w) without bias (the same w, not flipped, not transposed), and
gw[c_in, c_out, p, q] = sum over n, i, j of x[n, c_in, i, j] * gyp[n, c_out, i*s + p, j*s + q]
(gyp: gy zero-padded by p), which im2col(gy) gives in one matrix product.

Check with:  python -m minitorch_cnn.exercises check DIR conv_transpose
"""
import numpy as np  # noqa: F401


def conv_transpose2d_forward(x, w, b, stride=1, padding=0):
    """y (N, C_out, OH, OW)."""
    raise NotImplementedError


def conv_transpose2d_backward(gy, x, w, b, stride=1, padding=0):
    """Return (gx, gw, gb) with the shapes of x, w and b."""
    raise NotImplementedError
