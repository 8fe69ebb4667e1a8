"""Values with their indices along one dimension, as PyTorch returns them: ``max(dim)``,
``min(dim)``, ``sort``, ``topk`` give a named ``(values, indices)`` pair, ``argmax``,
``argmin`` and ``argsort`` the indices alone.

The values are gathered from the input at the indices (``GatherFn``), so their gradient goes
to exactly the element each value came from, as in PyTorch (``x.max(dim)`` sends a tie's
gradient to the one index it returns; ``x.max()`` and ``x.amax(dims)``, in ``reduce.py``,
share it among the tied elements). Indices are int64 and carry no gradient.
"""
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import xp as array_module
from .reduce import normalize_axis

# the types of torch.return_types: a tuple that unpacks as (values, indices), with names
max_type = namedtuple("max", ["values", "indices"])
min_type = namedtuple("min", ["values", "indices"])
sort_type = namedtuple("sort", ["values", "indices"])
topk_type = namedtuple("topk", ["values", "indices"])


def _grid(xp, index, axis):
    """The advanced-indexing tuple that picks ``x[..., index, ...]`` along ``axis`` elementwise
    (``index`` of the result's shape)."""
    key = []
    for d, n in enumerate(index.shape):
        if d == axis:
            key.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            key.append(xp.arange(n).reshape(shape))
    return tuple(key)


class GatherFn(Function):
    """y = take_along_axis(x, index, axis); index holds distinct positions within each slice
    along ``axis`` (as sort, topk and max give), so the backward is a plain assignment."""

    @staticmethod
    def forward(ctx, x, index, axis):
        xp = array_module(x)
        ctx.shape, ctx.key = x.shape, _grid(xp, index, axis)
        return x[ctx.key]

    @staticmethod
    def backward(ctx, gy):
        gx = array_module(gy).zeros(ctx.shape, gy.dtype)
        gx[ctx.key] = gy
        return gx, None, None


def _dim(op, x, dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}; for several dims at once use "
                        f"amax/amin")
    return normalize_axis(int(dim), x.ndim, op)[0] if x.ndim else 0


def _indices(x, array):
    return type(x)._wrap(array.astype(np.int64, copy=False), x.device)


def _nonempty(op, x, axis):
    if x.ndim and x.shape[axis] == 0:
        raise ValueError(f"{op}: cannot reduce dimension {axis} of size 0 (shape {x.shape})")


def _extremum(op, result_type, x, dim, keepdim):
    """``max``/``min`` along ``dim``: (values, indices) of the first extreme element."""
    axis = _dim(op, x, dim)
    _nonempty(op, x, axis)
    if x.ndim == 0:
        return result_type(x.reshape(()), _indices(x, array_module(x.data).zeros((), np.int64)))
    find = x.data.argmax if op == "max" else x.data.argmin
    index = find(axis=axis, keepdims=True)
    values = GatherFn.apply(x, index, axis)
    index = index.astype(np.int64)
    if not keepdim:
        values = values.squeeze(axis)
        index = index.squeeze(axis)
    return result_type(values, _indices(x, index))


def max_dim(x, dim, keepdim=False):
    """``x.max(dim)``: the largest value along ``dim`` and its (first) index."""
    return _extremum("max", max_type, x, dim, keepdim)


def min_dim(x, dim, keepdim=False):
    """``x.min(dim)``: the smallest value along ``dim`` and its (first) index."""
    return _extremum("min", min_type, x, dim, keepdim)


def arg_extremum(op, x, dim=None, keepdim=False):
    """``argmax``/``argmin``: over the flattened tensor when ``dim`` is None (a 0-d result, or
    all-ones shape with ``keepdim``), else along ``dim``."""
    find = getattr(x.data, op)
    if dim is None:
        if x.data.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
        out = find()
        if keepdim:
            out = out.reshape((1,) * x.ndim)
        return _indices(x, array_module(x.data).asarray(out))
    axis = _dim(op, x, dim)
    _nonempty(op, x, axis)
    if x.ndim == 0:
        return _indices(x, array_module(x.data).zeros((), np.int64))
    return _indices(x, find(axis=axis, keepdims=keepdim))


def _order(xp, a, axis, descending, stable):
    """argsort along ``axis``; descending keeps equal elements in their order (so stable holds
    both ways): the stable ascending order of the reversed array, reversed."""
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable" if stable else None)
    n = a.shape[axis]
    flipped = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return n - 1 - xp.flip(flipped, axis)


def argsort(x, dim=-1, descending=False, stable=False):
    """The indices that sort ``x`` along ``dim`` (int64)."""
    if x.ndim == 0:
        return _indices(x, array_module(x.data).zeros((), np.int64))
    axis = _dim("argsort", x, dim)
    return _indices(x, _order(array_module(x.data), x.data, axis, descending, stable))


def sort(x, dim=-1, descending=False, stable=False):
    """``(values, indices)`` of ``x`` sorted along ``dim``; NaN sorts as the largest value."""
    if x.ndim == 0:
        return sort_type(x.reshape(()), _indices(x, array_module(x.data).zeros((), np.int64)))
    axis = _dim("sort", x, dim)
    index = _order(array_module(x.data), x.data, axis, descending, stable)
    return sort_type(GatherFn.apply(x, index, axis), _indices(x, index))


def topk(x, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along
    ``dim``, largest first (always sorted here, which ``sorted=False`` allows)."""
    axis = _dim("topk", x, dim) if x.ndim else 0
    n = x.shape[axis] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}] (the size of dimension {dim}), "
                         f"got {k!r}")
    if x.ndim == 0:
        return topk_type(x.reshape(()), _indices(x, array_module(x.data).zeros((), np.int64)))
    xp = array_module(x.data)
    index = _order(xp, x.data, axis, largest, True)
    index = xp.take(index, xp.arange(int(k)), axis=axis)
    return topk_type(GatherFn.apply(x, index, axis), _indices(x, index))
