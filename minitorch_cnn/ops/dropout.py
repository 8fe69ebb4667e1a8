"""Dropout (Srivastava et al. 2014): ``dropout`` zeroes single units, ``dropout2d`` whole
channels. Masks come from the seeded generator of the input's device (``mt.manual_seed``)."""
import numpy as np

from ..autograd import Function
from ..random import generator
from .arguments import check_probability


class DropoutFn(Function):
    """y = x * mask, the mask (of a shape that broadcasts to x's) holding 0 or 1/(1-p)."""

    @staticmethod
    def forward(ctx, x, p, mask_shape):
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        # each unit is kept with probability 1 - p
        keep = generator(ctx.device).random(mask_shape, dtype=draw_dtype) >= p
        mask = keep * x.dtype.type(1 / (1 - p) if p < 1 else 0)  # p = 1: all zero, as PyTorch
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, gy):
        mask, = ctx.saved_tensors
        return gy * mask


def _apply(x, p, training, mask_shape):
    if not training or p == 0:
        return x  # the identity: inverted dropout needs no test-time scaling
    return DropoutFn.apply(x, p=float(p), mask_shape=mask_shape)


def dropout(x, p=0.5, training=True, inplace=False):
    """Inverted dropout: in training each element is zeroed with probability ``p`` and the kept
    ones are scaled by 1/(1-p); in eval (``training=False``) it is the identity.

    AlexNet (Krizhevsky et al. 2012, sec. 4.2) drops with p = 0.5 in training and instead
    *multiplies the outputs by 0.5 at test time*. Both keep a unit's expected value the same in
    training and testing: E[mask * x] = (1-p) x there, balanced by the test-time factor (1-p);
    here E[mask * x] = x, so the test-time network is the plain one and needs no factor.
    A net trained one way gives the other's activations up to that constant factor.

    ``p`` must lie in [0, 1]; p = 1 gives zeros in training (and zero gradients), as PyTorch.
    ``inplace`` is accepted for PyTorch's signature; the result is always a new tensor.
    """
    check_probability("dropout", p)
    return _apply(x, p, training, x.shape)


def dropout2d(x, p=0.5, training=True, inplace=False):
    """Channel dropout (Tompson et al. 2015): each channel of each sample of (N, C, H, W) is
    zeroed as a whole with probability ``p`` and kept channels are scaled by 1/(1-p). Neighbouring
    pixels of a feature map are strongly correlated, so dropping single pixels barely
    regularises a convolutional layer; dropping whole maps does. A 3-d input is taken as (N, C, L)
    (PyTorch's current behaviour)."""
    check_probability("dropout2d", p)
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected an input of shape (N, C, H, W) or (N, C, L), "
                         f"got {x.shape}")
    return _apply(x, p, training, x.shape[:2] + (1,) * (x.ndim - 2))
