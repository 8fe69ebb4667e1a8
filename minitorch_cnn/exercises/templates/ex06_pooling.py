"""Exercise 6: the backward passes of max and average pooling.

The forward passes are written for you (no padding; windows of kernel_size x kernel_size moved by
stride; with kernel 3 and stride 2 they overlap, as in AlexNet's "overlapping pooling").

Max pooling routes the gradient: each gy[n, c, i, j] goes, whole, to the one input that was the
maximum of its window; the others get nothing from that window. Average pooling spreads it:
each input of the window receives gy / (kernel_size * kernel_size). Where windows overlap, an
input collects contributions from several windows: add them.

Check with:  python -m minitorch_cnn.exercises check DIR pooling
"""
import numpy as np


def _out_size(size, kernel_size, stride):
    return (size - kernel_size) // stride + 1


def max_pool2d_forward(x, kernel_size, stride):
    """y[n, c, i, j] = max of x[n, c, i*s : i*s + k, j*s : j*s + k]."""
    n, c, in_h, in_w = x.shape
    out_h, out_w = _out_size(in_h, kernel_size, stride), _out_size(in_w, kernel_size, stride)
    y = np.empty((n, c, out_h, out_w), dtype=x.dtype)
    k, s = kernel_size, stride
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k]
            y[:, :, i, j] = window.max(axis=(2, 3))
    return y


def max_pool2d_backward(gy, x, kernel_size, stride):
    """dL/dx, shape of x."""
    raise NotImplementedError


def avg_pool2d_forward(x, kernel_size, stride):
    """y[n, c, i, j] = mean of x[n, c, i*s : i*s + k, j*s : j*s + k]."""
    n, c, in_h, in_w = x.shape
    out_h, out_w = _out_size(in_h, kernel_size, stride), _out_size(in_w, kernel_size, stride)
    y = np.empty((n, c, out_h, out_w), dtype=x.dtype)
    k, s = kernel_size, stride
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k]
            y[:, :, i, j] = window.mean(axis=(2, 3))
    return y


def avg_pool2d_backward(gy, x, kernel_size, stride):
    """dL/dx, shape of x."""
    raise NotImplementedError
