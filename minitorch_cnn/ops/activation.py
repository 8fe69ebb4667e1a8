"""Activations: relu, leaky_relu, elu, relu6, sigmoid, tanh, softmax, log_softmax, and the
ShuffleNet channel shuffle.

Each is one ``Function`` with an analytic backward: these run after every layer, so forward and
backward are each one or two vectorised passes over the data, saving only what backward reads.
ReLU and leaky ReLU run on the ``activation`` kernels (one flat select loop, 2-3x faster than
NumPy's mask-and-multiply); the others are NumPy/CuPy expressions that avoid ``xp.where`` (its
data-dependent branches mispredict on random signs: 10-30x slower than arithmetic).

``inplace=True`` is accepted where PyTorch has it, for compatible signatures, but the result is
always a new array: the autograd here has no version counters to catch an overwritten input that
another op saved for its backward, so writing over the input would be unsafe.
"""
import math

import numpy as np

from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module


_KERNEL_DTYPES = (np.float32, np.float64)  # the kernels' types; others (float16) use xp


def _contiguous(a):
    # (ascontiguousarray makes a 0-d array 1-d: the shape is put back)
    return array_module(a).ascontiguousarray(a).reshape(a.shape)


class ReLUFn(Function):
    @staticmethod
    def forward(ctx, x):
        if x.dtype in _KERNEL_DTYPES:
            y = kernels.get("relu_fwd", ctx.device)(_contiguous(x))
        else:
            y = array_module(x).maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        if gy.dtype in _KERNEL_DTYPES:
            return kernels.get("relu_bwd", ctx.device)(_contiguous(gy), y)
        return gy * (y > 0)


class LeakyReLUFn(Function):
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.slope = negative_slope
        if x.dtype not in _KERNEL_DTYPES:
            ctx.save_for_backward(x)
            return array_module(x).where(x > 0, x, x * negative_slope)
        x = _contiguous(x)
        ctx.save_for_backward(x)
        return kernels.get("leaky_relu_fwd", ctx.device)(x, negative_slope)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        if gy.dtype not in _KERNEL_DTYPES:
            return array_module(gy).where(x > 0, gy, gy * ctx.slope)
        return kernels.get("leaky_relu_bwd", ctx.device)(_contiguous(gy), x, ctx.slope)


class ELUFn(Function):
    @staticmethod
    def forward(ctx, x, alpha=1.0):
        xp = array_module(x)
        # expm1 of min(x, 0): accurate near 0, no overflow for x >> 0 (out=: an array for 0-d)
        y = xp.minimum(x, 0, out=xp.empty_like(x))
        xp.expm1(y, out=y)
        y *= alpha
        y += xp.maximum(x, 0)
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        # d/dx alpha (e^x - 1) = alpha e^x = y + alpha for x <= 0 (at 0 as PyTorch), else 1
        slope = array_module(y).minimum(y, 0, out=array_module(y).empty_like(y))
        slope += ctx.alpha
        slope *= x <= 0
        slope += x > 0
        slope *= gy
        return slope


class ReLU6Fn(Function):
    @staticmethod
    def forward(ctx, x):
        if x.dtype in _KERNEL_DTYPES:
            y = kernels.get("relu6_fwd", ctx.device)(_contiguous(x))
        else:
            y = array_module(x).clip(x, 0, 6)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        if gy.dtype in _KERNEL_DTYPES:
            return kernels.get("relu6_bwd", ctx.device)(_contiguous(gy), y)
        return gy * ((y > 0) & (y < 6))  # as PyTorch's hardtanh: no gradient at 0 and 6


class SigmoidFn(Function):
    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        y = xp.negative(x, out=xp.empty_like(x))  # (out=: an array, not a scalar, for 0-d)
        with np.errstate(over="ignore"):  # exp(-x) = inf for x << 0 gives y = 0, as it should
            xp.exp(y, out=y)
        y += 1
        xp.divide(1, y, out=y)  # (faster than xp.reciprocal in NumPy 2)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        gx = array_module(y).subtract(1, y, out=array_module(y).empty_like(y))
        gx *= y
        gx *= gy
        return gx


class TanhFn(Function):
    @staticmethod
    def forward(ctx, x):
        y = array_module(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        gx = array_module(y).multiply(y, y, out=array_module(y).empty_like(y))
        array_module(y).subtract(1, gx, out=gx)
        gx *= gy
        return gx


class SoftmaxFn(Function):
    @staticmethod
    def forward(ctx, x, dim):
        xp = array_module(x)
        ctx.dim = dim
        if x.size == 0:  # nothing to normalise (max() of an empty axis has no value)
            ctx.save_for_backward(x)
            return x.copy()
        y = x - x.max(axis=dim, keepdims=True)  # the largest exponent is 0: no overflow
        xp.exp(y, out=y)
        y /= y.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        # dx_i = y_i (gy_i - sum_j gy_j y_j)
        gx = gy - (gy * y).sum(axis=ctx.dim, keepdims=True)
        gx *= y
        return gx


class LogSoftmaxFn(Function):
    @staticmethod
    def forward(ctx, x, dim):
        xp = array_module(x)
        ctx.dim = dim
        if x.size == 0:
            ctx.save_for_backward(x)
            return x.copy()
        y = x - x.max(axis=dim, keepdims=True)
        y -= xp.log(xp.exp(y).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        # dx_i = gy_i - softmax_i sum_j gy_j
        gx = array_module(y).exp(y)
        gx *= -gy.sum(axis=ctx.dim, keepdims=True)
        gx += gy
        return gx


class ChannelShuffleFn(Function):
    @staticmethod
    def forward(ctx, x, groups):
        ctx.groups = groups
        return _shuffle(x, groups)

    @staticmethod
    def backward(ctx, gy):
        return _shuffle(gy, gy.shape[1] // ctx.groups)  # the inverse permutation


def _shuffle(x, groups):
    n, c = x.shape[:2]
    return x.reshape(n, groups, c // groups, math.prod(x.shape[2:])).swapaxes(1, 2).reshape(
        x.shape)


# --- the public functions (re-exported by nn.functional) --------------------------------------
def relu(x, inplace=False):
    """max(x, 0) (Nair & Hinton 2010; AlexNet's non-linearity). ``inplace`` is accepted for
    PyTorch's signature; the result is always a new tensor."""
    return ReLUFn.apply(x)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x for x > 0, ``negative_slope * x`` otherwise (Maas et al. 2013)."""
    return LeakyReLUFn.apply(x, negative_slope=float(negative_slope))


def elu(x, alpha=1.0, inplace=False):
    """x for x > 0, alpha (exp(x) - 1) otherwise (Clevert et al. 2016)."""
    return ELUFn.apply(x, alpha=float(alpha))


def relu6(x, inplace=False):
    """min(max(x, 0), 6) (MobileNet's activation, robust in low precision)."""
    return ReLU6Fn.apply(x)


def sigmoid(x):
    """1 / (1 + exp(-x)); its gradient is y (1 - y)."""
    return SigmoidFn.apply(x)


def tanh(x):
    """The hyperbolic tangent (LeNet-5's squashing); its gradient is 1 - y^2."""
    return TanhFn.apply(x)


def _softmax_dim(name, x, dim):
    ndim = x.ndim
    if dim is None:  # PyTorch's legacy implicit choice, kept for nn.Softmax() compatibility
        dim = 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(f"{name}: dim {dim} is out of range for an input of shape {x.shape}")
    return dim % max(ndim, 1)


def softmax(x, dim=None):
    """softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) along ``dim``, m = max_j x_j.

    Subtracting the maximum changes nothing mathematically and keeps every exponent <= 0, so
    logits of any size (1e4, 1e30) give finite results. ``dim=None`` uses PyTorch's legacy rule
    (0 for 0-, 1- and 3-d inputs, else 1); pass it explicitly.
    """
    dim = _softmax_dim("softmax", x, dim)
    if x.ndim == 0:  # a 0-d input is one class: 1, as PyTorch
        return SoftmaxFn.apply(x.reshape(1), dim=0).reshape(())
    return SoftmaxFn.apply(x, dim=dim)


def log_softmax(x, dim=None):
    """log softmax(x)_i = x_i - m - log sum_j exp(x_j - m) along ``dim``, m = max_j x_j.

    Computed directly, never as log(softmax(x)): stable for huge logits and exact for tiny
    probabilities (whose softmax would underflow to 0 and whose log would be -inf).
    """
    dim = _softmax_dim("log_softmax", x, dim)
    if x.ndim == 0:  # one class: 0, as PyTorch
        return LogSoftmaxFn.apply(x.reshape(1), dim=0).reshape(())
    return LogSoftmaxFn.apply(x, dim=dim)


def channel_shuffle(x, groups):
    """ShuffleNet's channel shuffle (Zhang et al. 2018, sec. 3.1): view the C channels of
    (N, C, *) as a (groups, C/groups) grid, transpose it, and flatten it back, so the next
    grouped convolution sees channels from every group. Channel g * (C/groups) + k moves to
    k * groups + g."""
    if x.ndim < 3:
        raise ValueError(f"channel_shuffle: expected an input of shape (N, C, *) with more than "
                         f"2 dimensions, got {x.shape}")
    if int(groups) != groups or groups <= 0 or x.shape[1] % groups:
        raise ValueError(f"channel_shuffle: groups={groups} must be a positive divisor of the "
                         f"channel count {x.shape[1]} (input shape {x.shape})")
    return ChannelShuffleFn.apply(x, groups=int(groups))
