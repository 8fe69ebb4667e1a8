"""Post-training int8 quantization (as in Jacob et al., "Quantization and training of neural
networks for efficient integer-arithmetic-only inference", CVPR 2018, and PyTorch's fbgemm path).

``quantize_int8(model, calibration_batches)`` returns a copy of the model whose conv and linear
layers compute in int8:

- BatchNorm folded into the preceding conv (w' = w gamma / sigma, b' = (b - mu) gamma / sigma
  + beta), where the BN directly follows the conv (in a ``Sequential``, or as ``bnN`` after
  ``convN`` in a block, as in ResNet's);
- weights symmetric int8 per output channel (scale max|w| / 127);
- activations affine int8 per tensor (scale and zero point from the range seen on the
  calibration batches: min/max, or a percentile that ignores outliers);
- conv2d = int8 im2col (padding with the zero point) + int8 GEMM with int32 accumulation and
  the requantization to the output's scale fused, with a ReLU that follows in a ``Sequential``
  fused too (the output clamped at its zero point).

Each quantized layer takes and returns float tensors (quantizing its input, dequantizing its
output), so layers it does not know (pooling, adds, concatenations) run as before.
"""
import copy

import numpy as np

from .. import backend, kernels, nn
from ..autograd import no_grad
from ..tensor import Tensor

METHODS = ("minmax", "percentile")


def _qparams(lo, hi):
    """(scale, zero point) of the affine int8 code of [lo, hi] (which is widened to hold 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    zero = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return scale, zero


def quantize_tensor(x, scale, zero, out=None):
    """float array -> int8 codes (the ``int8_quantize`` kernel)."""
    out = np.empty(x.shape, np.int8) if out is None else out
    kernels.get("int8_quantize", "cpu")(np.ascontiguousarray(x), float(scale), int(zero), out)
    return out


def dequantize(q, scale, zero):
    return ((q.astype(np.float32) - np.float32(zero)) * np.float32(scale)).astype(np.float32)


class _QuantLayer(nn.Module):
    """An int8 conv or linear layer with float input and output (see the module docstring)."""

    def __init__(self, layer, relu):
        super().__init__()
        w = backend.to_numpy(layer.weight.data).astype(np.float64)
        self.kind = "conv" if isinstance(layer, nn.Conv2d) else "linear"
        if self.kind == "conv":
            if isinstance(layer.padding, str) or layer.groups != 1:
                raise ValueError(f"quantize_int8: {layer!r}: only groups=1 and numeric "
                                 "padding are quantized")
            self.geometry = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        flat = w.reshape(w.shape[0], -1)
        peak = np.abs(flat).max(axis=1)
        self.w_scale = np.where(peak > 0, peak, 127.0) / 127.0  # a pruned-away filter: 1
        self.w_q = np.clip(np.floor(flat / self.w_scale[:, None] + 0.5), -127, 127
                           ).astype(np.int8)
        self.w_sums = self.w_q.astype(np.int32).sum(axis=1).astype(np.int32)
        self.w_wide = self.w_q.astype(np.int16)  # the CPU GEMM's operand layout
        self.bias_f = (np.zeros(w.shape[0]) if layer.bias is None
                       else backend.to_numpy(layer.bias.data).astype(np.float64))
        self.out_channels, self.relu = w.shape[0], relu
        self.in_q = self.out_q = None
        self._workspace = {}

    def _buffer(self, key, shape, dtype):
        """A scratch array kept between calls: fresh 10 MB patch matrices cost more in page
        faults than the int8 GEMM that reads them (LeNet-5's conv1 at batch 256)."""
        found = self._workspace.get(key)
        if found is None or found.shape != shape:
            found = self._workspace[key] = np.empty(shape, dtype)
        return found

    def calibrate(self, in_range, out_range):
        self.in_q, self.out_q = _qparams(*in_range), _qparams(*out_range)
        s_in = self.in_q[0]
        bias_q = np.floor(self.bias_f / (s_in * self.w_scale) + 0.5)
        self.bias_q = np.clip(bias_q, -2 ** 31, 2 ** 31 - 1).astype(np.int32)
        self.multiplier = (s_in * self.w_scale / self.out_q[0]).astype(np.float64)

    def forward(self, x):
        xd = backend.to_numpy(x.data if isinstance(x, Tensor) else x)
        xd = np.ascontiguousarray(xd, np.float32)
        xq = quantize_tensor(xd, *self.in_q, out=self._buffer("xq", xd.shape, np.int8))
        if self.kind == "conv":
            (kh, kw), (sy, sx), (ph, pw), (dy, dx) = self.geometry
            n, c, h, w = xq.shape
            oh = (h + 2 * ph - dy * (kh - 1) - 1) // sy + 1
            ow = (w + 2 * pw - dx * (kw - 1) - 1) // sx + 1
            cols = self._buffer("cols", (n, oh, ow, c, kh, kw), np.int16)
            kernels.get("int8_im2col", "cpu")(xq, cols, sy, sx, ph, pw, dy, dx, self.in_q[1])
            a = cols.reshape(n * oh * ow, -1)
        else:
            a = xq.reshape(-1, xq.shape[-1]).astype(np.int16)
        out = self._buffer("out", (a.shape[0], self.out_channels), np.int8)
        kernels.get("int8_gemm_requant", "cpu")(a, self.w_wide, self.bias_q, self.w_sums,
                                                self.in_q[1], self.multiplier, self.out_q[1],
                                                self.relu, out)
        if self.kind == "conv":
            y = np.empty((n, self.out_channels, oh, ow), np.float32)
            kernels.get("int8_dequantize_nchw", "cpu")(out.reshape(n, oh, ow, -1),
                                                       *self.out_q, y)
        else:
            y = dequantize(out, *self.out_q).reshape(*xq.shape[:-1], -1)
        return Tensor(y)


def _fold_bn(conv, bn):
    """Fold ``bn`` (eval statistics) into ``conv`` in place."""
    w = backend.to_numpy(conv.weight.data).astype(np.float64)
    mean = backend.to_numpy(bn.running_mean.data).astype(np.float64)
    var = backend.to_numpy(bn.running_var.data).astype(np.float64)
    gamma = (backend.to_numpy(bn.weight.data).astype(np.float64) if bn.weight is not None
             else np.ones_like(mean))
    beta = (backend.to_numpy(bn.bias.data).astype(np.float64) if bn.bias is not None
            else np.zeros_like(mean))
    b = (np.zeros_like(mean) if conv.bias is None
         else backend.to_numpy(conv.bias.data).astype(np.float64))
    factor = gamma / np.sqrt(var + bn.eps)
    conv.weight.data = (w * factor[:, None, None, None]).astype(np.float32)
    conv.bias = nn.Parameter(Tensor((((b - mean) * factor) + beta).astype(np.float32)))


def _convert(module, layers):
    """Fold BN and replace conv / linear children by _QuantLayer (recursively)."""
    names = list(module._modules)
    children = module._modules
    sequential = isinstance(module, nn.Sequential)
    for i, name in enumerate(names):
        child = children[name]
        if isinstance(child, (nn.Conv2d, nn.Linear)):
            following = children[names[i + 1]] if i + 1 < len(names) else None
            bn_name = None
            if isinstance(child, nn.Conv2d) and isinstance(following, nn.BatchNorm2d):
                bn_name = names[i + 1] if sequential else None
            if not sequential and name.startswith("conv"):
                candidate = "bn" + name[len("conv"):]
                if isinstance(children.get(candidate), nn.BatchNorm2d):
                    bn_name = candidate
            if bn_name is not None:
                _fold_bn(child, children[bn_name])
                children[bn_name] = nn.Identity()
            j = i + 2 if bn_name and sequential else i + 1
            after = names[j] if j < len(names) else None
            relu = sequential and after is not None and isinstance(children[after], nn.ReLU)
            q = _QuantLayer(child, relu)
            q.float_layer = child
            children[name] = q
            if relu:
                children[after] = nn.Identity()
            layers.append(q)
        elif child is not None:
            _convert(child, layers)


def quantize_int8(model, calibration_batches, method="minmax", percentile=99.99):
    """An int8 copy of ``model`` (in eval mode), calibrated on ``calibration_batches`` (an
    iterable of input batches, tensors or arrays, or of (input, target) pairs).

    ``method``: ``"minmax"`` (the range seen) or ``"percentile"`` (the ``percentile`` and
    100 - ``percentile`` percentiles of each activation, which ignores rare outliers).
    """
    if method not in METHODS:
        raise ValueError(f"quantize_int8: method must be one of {METHODS}, got {method!r}")
    if not 50.0 < percentile <= 100.0:
        raise ValueError(f"quantize_int8: percentile must be in (50, 100], got {percentile}")
    batches = [b[0] if isinstance(b, (tuple, list)) else b for b in calibration_batches]
    if not batches:
        raise ValueError("quantize_int8: calibration_batches is empty")
    qmodel = copy.deepcopy(model).to("cpu").eval()
    layers = []
    _convert(qmodel, layers)
    if not layers:
        raise ValueError(f"quantize_int8: {type(model).__name__} has no Conv2d or Linear "
                         "layer to quantize")
    stats = {id(q): ([], []) for q in layers}

    def recording(q):
        def forward(x):
            float_out = q.float_layer(x)
            if q.relu:
                float_out = nn.functional.relu(float_out)
            stats[id(q)][0].append(_summary(backend.to_numpy(x.data), method, percentile))
            stats[id(q)][1].append(_summary(backend.to_numpy(float_out.data), method,
                                            percentile))
            return float_out
        return forward

    for q in layers:
        object.__setattr__(q, "forward", recording(q))
    try:
        with no_grad():
            for i, b in enumerate(batches):
                x = b if isinstance(b, Tensor) else Tensor(np.asarray(b, np.float32))
                try:
                    qmodel(x.to("cpu"))
                except (ValueError, TypeError, IndexError) as e:
                    raise ValueError(f"quantize_int8: calibration batch {i} of shape "
                                     f"{tuple(x.shape)} does not fit the model: {e}") from None
    finally:
        for q in layers:
            object.__delattr__(q, "forward")
    for q in layers:
        ins, outs = stats[id(q)]
        if not ins:
            raise ValueError(f"quantize_int8: a layer was not reached by the calibration "
                             f"batches: {q.float_layer!r}")
        q.calibrate(_combine(ins), _combine(outs))
        del q.float_layer
    return qmodel


def _summary(a, method, percentile):
    if method == "minmax" or a.size == 0:
        return float(a.min()), float(a.max())
    flat = a.reshape(-1)
    if flat.size > 1_000_000:
        flat = flat[:: flat.size // 1_000_000]
    return (float(np.percentile(flat, 100.0 - percentile)), float(np.percentile(flat, percentile)))


def _combine(ranges):
    return min(r[0] for r in ranges), max(r[1] for r in ranges)
