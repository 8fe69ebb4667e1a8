"""``QTensor``: the int8 activations that quantized layers pass to each other.

A ``QTensor`` is a float tensor stored as int8 codes ``q`` with one ``scale`` and
``zero_point`` (value = scale (q - zero_point)). A 4-d tensor keeps its codes channels-last,
(N, H, W, C): the layout the int8 GEMM writes and the next int8 im2col reads. ``shape`` still
says (N, C, H, W), as for every tensor. The quantized modules of ``quantize_int8`` read the
codes. Anything else that reads ``data`` (an op, ``numpy()``, a module that is not quantized)
gets the dequantized float32 array (NCHW). From then on the tensor is a plain float tensor:
``q`` is None, so a change made through ``data`` is never lost.
"""
import numpy as np

from .. import backend, kernels
from ..tensor import Tensor

SHIFT = 24  # fixed-point bits of the residual add's multipliers


def is_int8(x):
    """Whether ``x`` is a QTensor that still holds its codes."""
    return isinstance(x, QTensor) and x.q is not None


class QTensor(Tensor):
    """int8 codes with their (scale, zero point); see the module docstring."""

    __slots__ = ("q", "scale", "zero_point", "_float")

    @classmethod
    def wrap(cls, q, scale, zero_point, device):
        t = object.__new__(cls)
        t.q, t.scale, t.zero_point, t._float = q, float(scale), int(zero_point), None
        t._device = device
        t.grad, t._ctx, t._out_index, t._requires_grad = None, None, 0, False
        return t

    @property
    def data(self):
        if self.q is not None:
            self._float = dequantize_codes(self.q, self.scale, self.zero_point, self._device)
            self.q = None
        return self._float

    @data.setter
    def data(self, value):
        self._float, self.q = value, None

    @property
    def shape(self):
        if self.q is None:
            return tuple(self._float.shape)
        s = self.q.shape
        return (s[0], s[3], s[1], s[2]) if len(s) == 4 else tuple(s)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def dtype(self):
        return np.dtype(np.float32) if self.q is not None else self._float.dtype

    def numel(self):
        return int(np.prod(self.shape))

    def like(self, q):
        """A QTensor of codes ``q`` with this one's scale, zero point and device."""
        return QTensor.wrap(q, self.scale, self.zero_point, self._device)

    def flatten(self, start_dim=0, end_dim=-1):
        """``flatten(1)`` of codes stays int8 (in the (C, H, W) order of the float tensor)."""
        if self.q is None or start_dim % self.ndim != 1 or end_dim % self.ndim != self.ndim - 1:
            return super().flatten(start_dim, end_dim)
        q = self.q
        if q.ndim == 4 and q.shape[1] * q.shape[2] > 1:
            q = backend.xp(q).ascontiguousarray(q.transpose(0, 3, 1, 2))
        return self.like(q.reshape(q.shape[0], -1))

    def reshape(self, *shape):
        """``reshape(N, -1)`` is ``flatten(1)``; any other shape gives a float tensor."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) \
            else shape
        n = self.shape[0] if self.ndim > 1 else None
        if self.q is not None and n and len(shape) == 2 and shape[0] in (n, -1) \
                and shape[1] in (-1, self.numel() // n):
            return self.flatten(1)
        return super().reshape(*shape)

    view = reshape


def dequantize_codes(q, scale, zero, device):
    """float32 (q - zero) scale; channels-last 4-d codes come back as (N, C, H, W)."""
    xp = backend.xp(q)
    if q.ndim == 4:
        n, h, w, c = q.shape
        out = xp.empty((n, c, h, w), np.float32)
        kernels.get("int8_dequantize_nchw", device)(q, float(scale), int(zero), out)
        return out
    return ((q.astype(np.float32) - np.float32(zero)) * np.float32(scale)).astype(np.float32)


def quantize_codes(x, scale, zero, device):
    """int8 codes of the float array ``x`` (the ``int8_quantize`` kernel), same layout."""
    x = backend.xp(x).ascontiguousarray(x, np.float32)
    out = backend.xp(x).empty(x.shape, np.int8)
    kernels.get("int8_quantize", device)(x, float(scale), int(zero), out)
    return out


def to_int8(x, qparams):
    """``x`` as a QTensor: itself if it holds codes, else quantized with ``qparams`` (4-d
    tensors go channels-last)."""
    if is_int8(x):
        return x
    data = x.data if isinstance(x, Tensor) else x
    q = quantize_codes(data, *qparams, x.device)
    if q.ndim == 4:
        q = backend.xp(q).ascontiguousarray(q.transpose(0, 2, 3, 1))
    return QTensor.wrap(q, *qparams, x.device)


def add(a, b, out_q, relu):
    """int8 ``a + b`` requantized to ``out_q`` = (scale, zero point), with a fused ReLU."""
    if a.q.shape != b.q.shape:
        raise ValueError(f"quantize_int8: residual add of shapes {a.shape} and {b.shape}")
    scale, zero = out_q
    out = backend.xp(a.q).empty(a.q.shape, np.int8)
    kernels.get("int8_add_requant", a.device)(
        a.q, b.q, a.zero_point, b.zero_point, round(a.scale / scale * 2 ** SHIFT),
        round(b.scale / scale * 2 ** SHIFT), SHIFT, zero, relu, out)
    return QTensor.wrap(out, scale, zero, a.device)
