"""Exercise 1: the affine (fully-connected) layer, forward and backward.

    y = x W^T + b        x: (N, D), W: (M, D) (PyTorch's layout), b: (M,), y: (N, M)

Backward: given gy = dL/dy of shape (N, M), return dL/dx, dL/dW, dL/db. Each gradient has the
shape of its input. Write y for one example first (y_n = W x_n + b), differentiate, then notice
that W and b are shared by all N examples of the batch: their gradients add up over n.

Check with:  python -m minitorch_cnn.exercises check DIR linear
"""
import numpy as np  # noqa: F401


def linear_forward(x, w, b):
    """y = x @ w.T + b, shape (N, M)."""
    raise NotImplementedError


def linear_backward(gy, x, w, b):
    """Return (gx, gw, gb) with the shapes of x, w and b."""
    raise NotImplementedError
