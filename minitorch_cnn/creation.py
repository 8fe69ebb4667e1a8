"""Making tensors: ``tensor`` and ``zeros, ones, full, empty, arange, rand, randn`` (+ ``_like``).

Floating tensors default to float32; random ones draw from the device's seeded generator.
"""
import numpy as np

from . import backend
from .random import generator
from .tensor import Tensor, _shape_args, float32


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a list, scalar, NumPy/CuPy array or Tensor)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _make(fill, shape, dtype, device, requires_grad):
    device = backend.as_device(device)
    dtype = np.dtype(dtype if dtype is not None else float32)
    data = fill(device.xp, _shape_args(shape), dtype)
    return Tensor._wrap(data, device).requires_grad_(requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, d: xp.zeros(s, d), shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, d: xp.ones(s, d), shape, dtype, device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, d: xp.empty(s, d), shape, dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _make(lambda xp, s, d: xp.full(s, fill_value, d), shape, dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    device = backend.as_device(device)
    return _make(lambda xp, s, d: generator(device).random(s, dtype=d),
                 shape, dtype, device, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    device = backend.as_device(device)
    return _make(lambda xp, s, d: generator(device).standard_normal(s, dtype=d),
                 shape, dtype, device, requires_grad)


def randint(low, high, size, dtype=None, device=None):
    """Integers uniform on [low, high)."""
    device = backend.as_device(device)
    dtype = np.dtype(dtype or np.int64)
    return Tensor._wrap(generator(device).integers(low, high, size=_shape_args((size,)),
                                                   dtype=dtype), device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (excluded) by ``step``; int64 for integer arguments,
    float32 otherwise, unless ``dtype`` says."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if integral else float32
    device = backend.as_device(device)
    data = device.xp.arange(start, end, step, dtype=np.dtype(dtype))
    return Tensor._wrap(data, device).requires_grad_(requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The ``n`` x ``m`` (default square) identity matrix."""
    m = n if m is None else m
    return _make(lambda xp, s, d: xp.eye(s[0], s[1], dtype=d), (n, m), dtype, device,
                 requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return _make(lambda xp, s, d: xp.linspace(start, end, s[0], dtype=d), (steps,), dtype,
                 device, requires_grad)


def _like(make):
    def like(t, dtype=None, device=None, requires_grad=False):
        return make(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                    requires_grad=requires_grad)
    like.__name__ = make.__name__ + "_like"
    like.__doc__ = f"``{make.__name__}`` with the shape, dtype and device of ``t``."
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)
rand_like, randn_like = _like(rand), _like(randn)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def from_numpy(array):
    """A CPU tensor sharing memory with the NumPy ``array``."""
    return Tensor._wrap(np.asarray(array), backend.CPU)
