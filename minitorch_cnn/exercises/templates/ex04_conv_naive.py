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
import numpy as np  # noqa: F401


def conv2d_forward_naive(x, w, b, stride=1, padding=0):
    """y (N, O, OH, OW) with explicit loops."""
    raise NotImplementedError


def conv2d_backward_naive(gy, x, w, b, stride=1, padding=0):
    """Return (gx, gw, gb) with the shapes of x, w and b."""
    raise NotImplementedError
