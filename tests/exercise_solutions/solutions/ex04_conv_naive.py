"""Exercise 4: convolution with loops, forward and backward.

    y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * xp[n, c, i*s + p, j*s + q]

x: (N, C, H, W), w: (O, C, kh, kw), b: (O,), xp is x zero-padded by `padding` on each side of
H and W, s is `stride`. This is cross-correlation (the kernel is not flipped), as in every deep
learning library. The output size: OH = (H + 2*padding - kh) // stride + 1, the same for OW.
For AlexNet's first layer: (227 + 0 - 11) // 4 + 1 = 55.

Backward: every term of the sum above touches one y, one w and one x; its gradient adds
gy[n, o, i, j] * (the other factor) into gw and into gxp. The bias gradient sums gy over n, i, j.
Compute gxp with the padding, then crop it.

Loops are fine here (use small inputs); exercise 5 makes it fast.

Check with:  python -m minitorch_cnn.exercises check DIR conv_naive
"""
import numpy as np


def conv2d_forward_naive(x, w, b, stride=1, padding=0):
    """y (N, O, OH, OW) with explicit loops."""
    n, _, in_h, in_w = x.shape
    out_c, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h = (in_h + 2 * padding - kh) // stride + 1
    out_w = (in_w + 2 * padding - kw) // stride + 1
    y = np.zeros((n, out_c, out_h, out_w))
    for k in range(n):
        for o in range(out_c):
            for i in range(out_h):
                for j in range(out_w):
                    window = xp[k, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    y[k, o, i, j] = (window * w[o]).sum() + b[o]
    return y


def conv2d_backward_naive(gy, x, w, b, stride=1, padding=0):
    """Return (gx, gw, gb) with the shapes of x, w and b."""
    n, _, out_h, out_w = gy.shape
    _, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    for k in range(n):
        for o in range(w.shape[0]):
            for i in range(out_h):
                for j in range(out_w):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    gw[o] += gy[k, o, i, j] * xp[k, :, rows, cols]
                    gxp[k, :, rows, cols] += gy[k, o, i, j] * w[o]
    gx = gxp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
    return gx, gw, gy.sum(axis=(0, 2, 3))
