"""Exercise 10: the backward pass of a locally-connected layer (DeepFace's L4-L6).

A locally-connected layer is a convolution whose filters are not shared: every output position
(i, j) has its own filter bank. Weight w: (OH, OW, O, C, kh, kw), bias b: (O, OH, OW):

    y[n, o, i, j] = b[o, i, j] + sum_{c, p, q} w[i, j, o, c, p, q] * xp[n, c, i*s + p, j*s + q]

(xp: x zero-padded by `padding`). DeepFace (Taigman et al. 2014) uses it on aligned faces, where
an eye is always at the same place and each region deserves its own statistics. The price is
parameters: L4 alone has 55 * 55 * 16 * 16 * 9 * 9 weights.

The forward is written for you. In the backward, the weight gradient is NOT summed over the
output positions (nothing is shared), only over the batch.

Check with:  python -m minitorch_cnn.exercises check DIR local_conv
"""
import numpy as np


def local_conv2d_forward(x, w, b, stride=1, padding=0):
    out_h, out_w, out_c, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = np.empty((x.shape[0], out_c, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.einsum("ncpq,ocpq->no", patch, w[i, j]) + b[:, i, j]
    return y


def local_conv2d_backward(gy, x, w, b, stride=1, padding=0):
    """Return (gx, gw, gb) with the shapes of x, w and b."""
    out_h, out_w, _, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    gxp, gw = np.zeros_like(xp), np.empty_like(w)
    for i in range(out_h):
        for j in range(out_w):
            rows = slice(i * stride, i * stride + kh)
            cols = slice(j * stride, j * stride + kw)
            g = gy[:, :, i, j]
            gw[i, j] = np.einsum("no,ncpq->ocpq", g, xp[:, :, rows, cols])
            gxp[:, :, rows, cols] += np.einsum("no,ocpq->ncpq", g, w[i, j])
    gx = gxp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
    return gx, gw, gy.sum(axis=0)
