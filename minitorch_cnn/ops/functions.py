"""Functions on tensors, re-exported at the package top (``mt.cat``, ``mt.stack``, ``mt.where``
...): each is one tensor op of this tier (``elementwise``, ``linalg``, ``shape``) applied to its
arguments, or a composition of Tensor methods (``split``). Those with a tensor first are also
Tensor's methods (``x.exp()`` is ``exp(x)``).
"""
import numpy as np

from . import elementwise as ew
from . import linalg
from . import shape as shape_ops


def cat(tensors, axis=0, dim=None):
    """Join tensors of equal shape but along ``dim`` (PyTorch's ``cat``)."""
    return shape_ops.CatFn.apply(*tensors, axis=dim if dim is not None else axis)


concat = cat


def stack(tensors, axis=0, dim=None):
    """Join tensors of one shape along a new dimension ``dim``."""
    return shape_ops.StackFn.apply(*tensors, axis=dim if dim is not None else axis)


def split(x, split_size_or_sections, dim=0):
    """PyTorch's ``split``: pieces of ``split_size`` along ``dim`` (the last may be smaller), or
    pieces of the listed sizes."""
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, n - i) for i in range(0, n, split_size_or_sections)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} do not add up to dimension {dim} of "
                             f"size {n}")
    lead = (slice(None),) * (dim % x.ndim)
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(x[lead + (slice(s, s + m),)] for s, m in zip(starts, sizes))


def pad(x, pad_width, value=0.0):
    """Constant padding with NumPy's ``pad_width``: an int, or (before, after) pairs per dim."""
    if isinstance(pad_width, int):
        pad_width = ((pad_width, pad_width),) * x.ndim
    return shape_ops.PadFn.apply(x, pad_width=tuple(tuple(p) for p in pad_width), value=value)


def where(condition, a, b):
    return ew.WhereFn.apply(condition, a, b)


def maximum(a, b):
    return ew.MaximumFn.apply(a, b)


def minimum(a, b):
    return ew.MinimumFn.apply(a, b)


def matmul(a, b):
    return linalg.MatMulFn.apply(a, b)


def exp(x):
    return ew.ExpFn.apply(x)


def log(x):
    return ew.LogFn.apply(x)


def sqrt(x):
    return ew.SqrtFn.apply(x)


def abs(x):
    return ew.AbsFn.apply(x)


def clip(x, min=None, max=None):
    """Elements of ``x`` limited to [min, max] (either bound may be None, not both)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return ew.ClipFn.apply(x, min=min, max=max)
