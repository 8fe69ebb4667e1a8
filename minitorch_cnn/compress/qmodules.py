"""The int8 versions of what sits between the quantized conv / linear layers of a CNN, so
that activations stay int8 from one layer to the next (``quantize_int8``). Each module works
on the codes of a ``QTensor``, keeping its scale and zero point, and runs its float layer on
any other input:

- ``QuantReLU``: codes clamped at the zero point (the code of 0);
- ``QuantMaxPool2d``: max of the codes (the code is monotone in the value);
- ``QuantAvgPool2d`` / ``QuantAdaptiveAvgPool2d``: the mean of the codes rounded to nearest,
  the padding counted as the zero point;
- ``QuantResidual``: a ResNet block (BasicBlock or Bottleneck) whose add is done on int8
  codes, requantized to the add's calibrated scale with the ReLU fused.

Flattening (``nn.Flatten``, ``x.flatten(1)``, ``x.view(N, -1)``) is ``QTensor.flatten``.
"""
import math

import numpy as np

from .. import backend, kernels, nn
from ..ops.arguments import pair
from .qtensor import QTensor, add, is_int8, to_int8


def _out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


class QuantReLU(nn.Module):
    """ReLU; on int8 codes max(q, zero point)."""

    def forward(self, x):
        if not is_int8(x):
            return nn.functional.relu(x)
        if x.zero_point == -128:  # the range starts at 0: nothing is below it
            return x
        return x.like(backend.xp(x.q).maximum(x.q, np.int8(x.zero_point)))


class QuantMaxPool2d(nn.MaxPool2d):
    """MaxPool2d (floor mode, no indices) on the channels-last codes."""

    def forward(self, x):
        if not is_int8(x) or x.q.ndim != 4:
            return super().forward(x)
        (kh, kw), (sy, sx) = pair(self.kernel_size, "kernel_size", "MaxPool2d"), \
            pair(self.stride, "stride", "MaxPool2d")
        (ph, pw), (dy, dx) = pair(self.padding, "padding", "MaxPool2d"), \
            pair(self.dilation, "dilation", "MaxPool2d")
        n, h, w, c = x.q.shape
        out = backend.xp(x.q).empty((n, _out_size(h, kh, sy, ph, dy),
                                     _out_size(w, kw, sx, pw, dx), c), np.int8)
        kernels.get("int8_max_pool2d_nhwc", x.device)(x.q, out, kh, kw, sy, sx, ph, pw, dy, dx)
        return x.like(out)


def _avg_pool(x, rows, cols, divisor):
    xp = backend.xp(x.q)
    n, _, _, c = x.q.shape
    bounds = [xp.asarray(np.asarray(b, np.int64)) for b in (*rows, *cols)]
    out = xp.empty((n, len(rows[0]), len(cols[0]), c), np.int8)
    kernels.get("int8_avg_pool_nhwc", x.device)(x.q, out, *bounds, divisor, x.zero_point)
    return x.like(out)


class QuantAvgPool2d(nn.AvgPool2d):
    """AvgPool2d (floor mode, no divisor override) on the channels-last codes."""

    def forward(self, x):
        if not is_int8(x) or x.q.ndim != 4:
            return super().forward(x)
        (kh, kw), (sy, sx) = pair(self.kernel_size, "kernel_size", "AvgPool2d"), \
            pair(self.stride, "stride", "AvgPool2d")
        ph, pw = pair(self.padding, "padding", "AvgPool2d")
        _, h, w, _ = x.q.shape
        rows = np.arange(_out_size(h, kh, sy, ph, 1)) * sy - ph
        cols = np.arange(_out_size(w, kw, sx, pw, 1)) * sx - pw
        return _avg_pool(x, (rows, rows + kh), (cols, cols + kw),
                         kh * kw if self.count_include_pad else 0)


class QuantAdaptiveAvgPool2d(nn.AdaptiveAvgPool2d):
    """AdaptiveAvgPool2d on the channels-last codes: bin i of a side n covers
    [floor(i n / out), ceil((i + 1) n / out)), as the float op's."""

    def forward(self, x):
        if not is_int8(x) or x.q.ndim != 4:
            return super().forward(x)
        size = self.output_size
        size = (size, size) if isinstance(size, int) or size is None else tuple(size)
        bounds = []
        for n, o in zip(x.q.shape[1:3], size):
            o = n if o is None else o
            bounds.append(([i * n // o for i in range(o)],
                           [math.ceil((i + 1) * n / o) for i in range(o)]))
        return _avg_pool(x, bounds[0], bounds[1], 0)


class QuantResidual(nn.Module):
    """A ResNet block in int8: relu(convs(x) + shortcut(x)), the convs (BN folded, the inner
    ReLUs fused) and the projection shortcut quantized, the add requantized to the block's
    calibrated output range with the ReLU fused (``in_q`` / ``out_q``: (scale, zero point)
    of the block's input and output, set by ``quantize_int8``)."""

    def __init__(self, block):
        super().__init__()
        self.block = block
        self.in_q = self.out_q = None

    def convs(self):
        names = ("conv1", "conv2", "conv3")
        return [getattr(self.block, n) for n in names if hasattr(self.block, n)]

    def forward(self, x):
        x = to_int8(x, self.in_q)
        downsample = self.block.downsample
        identity = x if downsample is None else downsample(x)
        out = x
        for conv in self.convs():
            out = conv(out)
        if not (is_int8(out) and is_int8(identity)):
            return self.block.relu(out + identity)
        return add(out, identity, self.out_q, relu=True)


WRAPPERS = {nn.ReLU: lambda m: QuantReLU(),
            nn.MaxPool2d: lambda m: None if m.return_indices or m.ceil_mode else QuantMaxPool2d(
                m.kernel_size, m.stride, m.padding, m.dilation),
            nn.AvgPool2d: lambda m: None if m.ceil_mode or m.divisor_override else QuantAvgPool2d(
                m.kernel_size, m.stride, m.padding, count_include_pad=m.count_include_pad),
            nn.AdaptiveAvgPool2d: lambda m: QuantAdaptiveAvgPool2d(m.output_size),
            nn.Dropout: lambda m: nn.Identity()}  # int8 models only infer (eval)


def wrap(module):
    """The int8-aware replacement of ``module``, or None where it has none."""
    make = WRAPPERS.get(type(module))
    return make(module) if make is not None else None


__all__ = ["QTensor", "QuantReLU", "QuantMaxPool2d", "QuantAvgPool2d", "QuantAdaptiveAvgPool2d",
           "QuantResidual", "wrap"]
