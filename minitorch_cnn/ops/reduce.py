"""Reductions over axes: sum, mean, max, min and var (``axis`` an int, a tuple or None)."""
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
    return tuple(sorted(set(out)))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


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
        return x.mean(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, gy):
        gy = gy.reshape(_kept_shape(ctx.shape, ctx.axes)) / _count(ctx.shape, ctx.axes)
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
        if x.size == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape}")
        y = x.max(axis=ctx.axes, keepdims=keepdims)
        ctx.save_for_backward(x, y)
        return y


class MinFn(_Extremum):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes = normalize_axis(axis, x.ndim, "min")
        if x.size == 0:
            raise ValueError(f"min: cannot reduce an empty tensor of shape {x.shape}")
        y = x.min(axis=ctx.axes, keepdims=keepdims)
        ctx.save_for_backward(x, y)
        return y


class VarFn(Function):
    """Variance over ``axis``: the population variance (divide by n) unless ``ddof=1``."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, ddof=0):
        ctx.axes = normalize_axis(axis, x.ndim, "var")
        centered = x - x.mean(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.divisor = _count(x.shape, ctx.axes) - ddof
        return (centered * centered).sum(axis=ctx.axes, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, gy):
        centered, = ctx.saved_tensors
        gy = gy.reshape(_kept_shape(centered.shape, ctx.axes))
        return centered * (gy * (2.0 / ctx.divisor))
