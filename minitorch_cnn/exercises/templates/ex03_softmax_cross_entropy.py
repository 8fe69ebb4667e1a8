"""Exercise 3: softmax and the cross-entropy loss.

    softmax(x)_ij = exp(x_ij) / sum_k exp(x_ik)            (along axis 1, x: (N, C))
    cross_entropy(x, t) = -1/N sum_n log softmax(x)_{n, t_n}   (t: (N,) class indices)

softmax(x) = softmax(x - c) for any c per row: subtract the row maximum so exp never overflows
(exp(1000) overflows to inf, and large logits do occur).

softmax's Jacobian is not diagonal: every output depends on every input of its row,
dy_i/dx_j = y_i (delta_ij - y_j). Contract it with gy rather than building it.

The loss's gradient is short: d loss / dx = (softmax(x) - onehot(t)) / N.

Check with:  python -m minitorch_cnn.exercises check DIR softmax_cross_entropy
"""
import numpy as np  # noqa: F401


def softmax(x):
    """Row-wise softmax of x (N, C), numerically stable."""
    raise NotImplementedError


def softmax_backward(gy, x):
    """dL/dx for y = softmax(x), given gy = dL/dy (N, C)."""
    raise NotImplementedError


def cross_entropy_forward(x, target):
    """The mean cross-entropy loss (a float) of logits x (N, C) and integer targets (N,)."""
    raise NotImplementedError


def cross_entropy_backward(x, target):
    """d loss / dx, shape (N, C), for the mean loss above."""
    raise NotImplementedError
