"""Shape ops: reshape, permute, expand, cat, stack, pad, indexing, dtype casts and device moves.

They move or copy elements without arithmetic, so each backward is the inverse movement.
"""
import numpy as np

from .. import kernels
from ..autograd import Function
from ..backend import to_device_array
from ..backend import xp as array_module
from .broadcast import sum_to_shape


class ReshapeFn(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, gy):
        return gy.reshape(ctx.shape)


class PermuteFn(Function):
    @staticmethod
    def forward(ctx, x, axes):
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"permute: {tuple(axes)} is not a permutation of the "
                             f"{x.ndim} dimensions of a tensor of shape {x.shape}")
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, gy):
        return gy.transpose(np.argsort([a % gy.ndim for a in ctx.axes]))


class ExpandFn(Function):
    """A broadcast view of ``x`` with ``shape`` (-1 keeps a dimension, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, shape):
        lead = len(shape) - x.ndim
        if lead < 0:
            raise ValueError(f"expand: shape {tuple(shape)} has fewer dimensions than the "
                             f"tensor of shape {x.shape}")
        shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        ctx.shape = x.shape
        try:
            return array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {x.shape} cannot be expanded to "
                             f"{shape}") from None

    @staticmethod
    def backward(ctx, gy):
        return sum_to_shape(gy, ctx.shape)


def _check_same_except(op, arrays, axis, stacking):
    first = arrays[0]
    for a in arrays[1:]:
        same = a.shape == first.shape if stacking else (
            a.ndim == first.ndim and all(m == n for i, (m, n) in
                                         enumerate(zip(a.shape, first.shape)) if i != axis))
        if not same:
            what = "equal shapes" if stacking else f"equal shapes except in dimension {axis}"
            raise ValueError(f"{op}: expected {what}, got {first.shape} and {a.shape}")


class CatFn(Function):
    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("cat: expected at least one tensor")
        axis = axis % xs[0].ndim
        _check_same_except("cat", xs, axis, stacking=False)
        ctx.axis = axis
        ctx.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return array_module(xs[0]).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return tuple(array_module(gy).split(gy, ctx.bounds, axis=ctx.axis))


class StackFn(Function):
    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("stack: expected at least one tensor")
        _check_same_except("stack", xs, None, stacking=True)
        ctx.axis = axis % (xs[0].ndim + 1)
        return array_module(xs[0]).stack(xs, axis=ctx.axis)

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        return tuple(xp.take(gy, i, axis=ctx.axis) for i in range(gy.shape[ctx.axis]))


class PadFn(Function):
    """Constant padding; ``pad_width`` is NumPy's: one ``(before, after)`` pair per dimension."""

    @staticmethod
    def forward(ctx, x, pad_width, value=0.0):
        if len(pad_width) != x.ndim or any(b < 0 or a < 0 for b, a in pad_width):
            raise ValueError(f"pad: expected {x.ndim} non-negative (before, after) pairs for a "
                             f"tensor of shape {x.shape}, got {pad_width}")
        ctx.inner = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
        return array_module(x).pad(x, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.inner]


def _is_advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(not (k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)))
               for k in keys)


class GetItemFn(Function):
    """``x[key]`` with NumPy's rules. Basic keys (ints, slices, None, ...) route the gradient back
    to the selected view; integer or boolean arrays scatter-add it, so repeated indices sum."""

    @staticmethod
    def forward(ctx, x, key):
        try:
            y = x[key]
        except IndexError as e:
            raise IndexError(f"indexing a tensor of shape {x.shape}: {e}") from None
        ctx.shape, ctx.key, ctx.advanced = x.shape, key, _is_advanced(key)
        if ctx.advanced:
            ctx.scatter_add = kernels.get("scatter_add", ctx.device)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        gx = xp.zeros(ctx.shape, gy.dtype)
        if not ctx.advanced:
            gx[ctx.key] = gy
            return gx
        flat_index = xp.arange(gx.size).reshape(ctx.shape)[ctx.key]
        ctx.scatter_add(gx.reshape(-1), xp.ascontiguousarray(flat_index).reshape(-1),
                        xp.ascontiguousarray(gy).reshape(-1))
        return gx


class CastFn(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy.astype(ctx.dtype)


class ToDeviceFn(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.output_device = device
        y = to_device_array(x, device)
        return x.copy() if y is x else y  # a move never aliases (the simulator shares NumPy)

    @staticmethod
    def backward(ctx, gy):
        return to_device_array(gy, ctx.device)
