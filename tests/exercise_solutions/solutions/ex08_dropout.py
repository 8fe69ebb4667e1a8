"""Exercise 8: inverted dropout.

In training, each activation is kept with probability 1 - p and zeroed otherwise. Inverted
dropout (what PyTorch and this engine do) scales the kept ones by 1 / (1 - p), so that the
expected value of each activation is unchanged and evaluation needs no change at all:

    y = x * mask / (1 - p)          (mask: 1 where kept, 0 where dropped)

The AlexNet paper (p = 0.5) did the opposite: no scaling in training, outputs multiplied by 0.5
at test time. Both give the same expectations.

Here the mask is given (a boolean array of x's shape, True where kept), so that the checker can
compare with the engine's F.dropout.

Check with:  python -m minitorch_cnn.exercises check DIR dropout
"""
import numpy as np  # noqa: F401


def dropout_forward(x, p, mask):
    return x * mask / (1 - p)


def dropout_backward(gy, p, mask):
    """dL/dx for the forward above."""
    return gy * mask / (1 - p)
