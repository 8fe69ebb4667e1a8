"""Reductions over axes: sum, mean, max, min and var (``axis`` an int, a tuple or None).

Over zero elements, as PyTorch: sum 0, mean and var nan (their backward then finite where the
gradient has elements at all), max and min an error (no value exists); an empty tensor reduced
over non-empty axes gives an empty result."""
import numpy as np

from ..autograd import Function
from ..backend import xp as array_module


def normalize_axis(axis, ndim, op="reduction"):
    """``axis`` as a sorted tuple of non-negative ints (every axis when None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions")
        out.append(a % max(ndim, 1))
    if ndim == 0:  # dim 0 (or -1) of a 0-d tensor, as PyTorch: the one element, nothing to reduce
        return ()
    return tuple(sorted(set(out)))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape, axes, keepdims):
    return _kept_shape(shape, axes) if keepdims else tuple(
        n for i, n in enumerate(shape) if i not in axes)


def _empty_reduction(op, shape, axes):
    """max/min of zero elements has no value: PyTorch's error, named."""
    if _count(shape, axes) == 0:
        raise ValueError(f"{op}: cannot reduce over zero elements (a tensor of shape {shape}, "
                         f"axes {axes})")


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class SumFn(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes = normalize_axis(axis, x.ndim, "sum")
        ctx.shape = x.shape
        return x.sum(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, gy):
        gy = gy.reshape(_kept_shape(ctx.shape, ctx.axes))
        return array_module(gy).broadcast_to(gy, ctx.shape)


class MeanFn(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes = normalize_axis(axis, x.ndim, "mean")
        ctx.shape = x.shape
        if _count(x.shape, ctx.axes) == 0:  # the mean of nothing: nan, without a warning
            return array_module(x).full(_reduced_shape(x.shape, ctx.axes, keepdims), np.nan,
                                        x.dtype)
        return x.mean(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, gy):
        count = _count(ctx.shape, ctx.axes)
        if count == 0:  # x has no elements: an empty gradient
            return array_module(gy).zeros(ctx.shape, gy.dtype)
        gy = gy.reshape(_kept_shape(ctx.shape, ctx.axes)) / count
        return array_module(gy).broadcast_to(gy, ctx.shape)


class _Extremum(Function):
    """The gradient goes to the extreme elements; tied elements share it evenly."""

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.axes)
        hit = x == y.reshape(kept)
        return hit * (gy.reshape(kept) / hit.sum(axis=ctx.axes, keepdims=True))


class MaxFn(_Extremum):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes = normalize_axis(axis, x.ndim, "max")
        _empty_reduction("max", x.shape, ctx.axes)
        y = x.max(axis=ctx.axes, keepdims=keepdims)
        ctx.save_for_backward(x, y)
        return y


class MinFn(_Extremum):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes = normalize_axis(axis, x.ndim, "min")
        _empty_reduction("min", x.shape, ctx.axes)
        y = x.min(axis=ctx.axes, keepdims=keepdims)
        ctx.save_for_backward(x, y)
        return y


class VarFn(Function):
    """Variance over ``axis``: the population variance (divide by n) unless ``ddof=1``."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, ddof=0):
        ctx.axes = normalize_axis(axis, x.ndim, "var")
        count = _count(x.shape, ctx.axes)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 or 1 - ddof elements: nan
            mean = x.sum(axis=ctx.axes, keepdims=True) / max(count, 1)  # (nan below)
            centered = x - mean
            ctx.save_for_backward(centered)
            ctx.divisor = float(count - ddof)
            return (centered * centered).sum(axis=ctx.axes, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, gy):
        centered, = ctx.saved_tensors
        gy = gy.reshape(_kept_shape(centered.shape, ctx.axes))
        with np.errstate(divide="ignore", invalid="ignore"):  # divisor 0: nan, as PyTorch
            return centered * (gy * (2.0 / ctx.divisor if ctx.divisor else np.inf))
