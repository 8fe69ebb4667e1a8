"""Exercise 9: the backward pass of local response normalization (across channels).

AlexNet (Krizhevsky et al. 2012, section 3.3) normalizes each activation by its neighbours in
the channel dimension. With the convention of Caffe and PyTorch (alpha divided by the size n):

    d[n, c] = k + alpha / size * sum_{c' in window(c)} x[n, c']^2
    y[n, c] = x[n, c] / d[n, c]^beta

window(c) holds the channels c - size//2 .. c + size//2 that exist (size is odd here). The
paper writes alpha without the division by size: its k = 2, n = 5, alpha = 1e-4, beta = 0.75
are size = 5, alpha = 5e-4 (= 5 * 1e-4), beta = 0.75, k = 2 in this convention.

The forward is written for you. In the backward, x[n, j] appears twice: in its own numerator,
and in the denominators of every channel c whose window holds j:

    gx[j] = gy[j] / d[j]^beta
          - 2 alpha beta / size * x[j] * sum_{c: j in window(c)} gy[c] * x[c] / d[c]^(beta + 1)

(all at the same n, h, w). For an odd size, "j in window(c)" is the same as "c in window(j)".

Check with:  python -m minitorch_cnn.exercises check DIR lrn
"""
import numpy as np


def lrn_forward(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """x (N, C, H, W) -> y of the same shape."""
    channels = x.shape[1]
    squares = x * x
    d = np.empty_like(x)
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels, c + size // 2 + 1)
        d[:, c] = k + alpha / size * squares[:, lo:hi].sum(axis=1)
    return x / d ** beta


def lrn_backward(gy, x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """dL/dx, shape of x."""
    channels = x.shape[1]
    d = np.empty_like(x)
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels, c + size // 2 + 1)
        d[:, c] = k + alpha / size * (x[:, lo:hi] ** 2).sum(axis=1)
    t = gy * x / d ** (beta + 1)
    window_sum = np.empty_like(x)
    for j in range(channels):
        lo, hi = max(0, j - size // 2), min(channels, j + size // 2 + 1)
        window_sum[:, j] = t[:, lo:hi].sum(axis=1)
    return gy / d ** beta - 2 * alpha * beta / size * x * window_sum
