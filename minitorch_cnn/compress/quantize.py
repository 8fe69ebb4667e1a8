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
  the requantization to the output's scale fused, with a ReLU that follows (in a
  ``Sequential``, ResNet's stem and blocks) fused too (the output clamped at its zero point);
  a first conv with few taps (LeNet-5's) as one K-major kernel, bit for bit the same.

Activations stay int8 from layer to layer: a quantized layer returns a ``QTensor`` (codes,
scale, zero point; channels-last for images), and the next one takes its scale and zero point
as they are (no requantization). ReLU, pooling, flatten and ResNet's residual adds run on the
codes (``qmodules.py``). Any other module reads the tensor's ``data``, which dequantizes it,
so every model still runs; the model's output is a float tensor.
"""
import copy

import numpy as np

from .. import backend, kernels, nn
from ..autograd import no_grad
from ..models import resnet
from ..tensor import Tensor
from .qmodules import QuantResidual, wrap
from .qtensor import QTensor, is_int8, quantize_codes

METHODS = ("minmax", "percentile")
# a first conv (float input) with at most this many taps per output runs K-major, in one kernel:
# LeNet-5's conv1 (K = 25) 5.1 ms instead of 7.7 ms (im2col 3.1 + GEMM 4.6), one thread
KMAJOR_K = 64


def _qparams(lo, hi):
    """(scale, zero point) of the affine int8 code of [lo, hi] (which is widened to hold 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    zero = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return scale, zero


class _QuantLayer(nn.Module):
    """An int8 conv or linear layer (see the module docstring). It takes a ``QTensor`` (whose
    scale and zero point it adopts: no requantization between layers) or a float tensor (which
    it quantizes with its calibrated input range), and returns a ``QTensor``. Its int8 weights
    are buffers, so ``.to(device)`` moves them."""

    def __init__(self, layer, relu):
        super().__init__()
        w = backend.to_numpy(layer.weight.data).astype(np.float64)
        self.kind = "conv" if isinstance(layer, nn.Conv2d) else "linear"
        self.groups = 1
        if self.kind == "conv":
            self.groups = layer.groups
            kh, kw = layer.kernel_size
            (dy, dx), padding = layer.dilation, layer.padding
            if isinstance(padding, str):  # "valid", or "same" (stride 1): extra on the far side
                total = (0, 0) if padding == "valid" else (dy * (kh - 1), dx * (kw - 1))
            else:
                total = (2 * padding[0], 2 * padding[1])
            self.geometry = ((kh, kw), layer.stride, (total[0] // 2, total[1] // 2),
                             (dy, dx), total)
        o = w.shape[0]
        flat = w.reshape(o, -1)
        peak = np.abs(flat).max(axis=1)
        w_scale = np.where(peak > 0, peak, 127.0) / 127.0  # a pruned-away filter: 1
        w_q = np.clip(np.floor(flat / w_scale[:, None] + 0.5), -127, 127).astype(np.int16)
        self.w_scale = w_scale
        # int16 codes, (C, kh, kw) order for a float input image, (kh, kw, C) for the
        # channels-last codes of a QTensor; each GEMM gets them in the dtype and zero-padded K
        # that its implementation asks for (``int8_gemm_operand``), made once per device
        self.register_buffer("w_wide", Tensor(w_q))
        if self.kind == "conv":
            self.register_buffer("w_nhwc", Tensor(np.ascontiguousarray(
                w_q.reshape(w.shape).transpose(0, 2, 3, 1).reshape(o, -1))))
        self.register_buffer("w_sums", Tensor(w_q.astype(np.int32).sum(axis=1, dtype=np.int32)))
        self.bias_f = (np.zeros(o) if layer.bias is None
                       else backend.to_numpy(layer.bias.data).astype(np.float64))
        self.out_channels, self.relu = o, relu
        self.in_q = self.out_q = None
        self._workspace, self._rescaled = {}, {}

    def _operand(self, device):
        """(activation dtype, weight dtype, padded K, activation offset) of the GEMM."""
        a_dtype, w_dtype, k_pad, offset = kernels.get("int8_gemm_operand", device)(
            self.w_wide.shape[1])
        return a_dtype, w_dtype, (k_pad if self.groups == 1 else self.w_wide.shape[1]), offset

    def _weights(self, name, device):
        """The weight buffer ``name`` as the GEMM's operand (kept per layout and device)."""
        _, w_dtype, k_pad, _ = self._operand(device)
        key = (name, np.dtype(w_dtype).str, k_pad, str(device), kernels.implementation_for(device))
        found = self._rescaled.get(key)
        if found is None:
            master = getattr(self, name).data
            found = backend.xp(master).zeros((master.shape[0], k_pad), w_dtype)
            found[:, :master.shape[1]] = master
            self._rescaled[key] = found
        return found

    def _buffer(self, key, shape, dtype, xp):
        """A scratch array kept between calls: fresh 10 MB patch matrices cost more in page
        faults than the int8 GEMM that reads them (LeNet-5's conv1 at batch 256). Zeros: the
        columns past K are never written."""
        found = self._workspace.get(key)
        if (found is None or found.shape != shape or found.dtype != dtype
                or backend.xp(found) is not xp):
            found = self._workspace[key] = xp.zeros(shape, dtype)
        return found

    def calibrate(self, in_range, out_range):
        self.in_q, self.out_q = _qparams(*in_range), _qparams(*out_range)

    def _requant(self, s_in, device):
        """(int32 bias, float64 multiplier) per output channel for input scale ``s_in``."""
        key = (s_in, str(device))
        found = self._rescaled.get(key)
        if found is None:
            bias_q = np.floor(self.bias_f / (s_in * self.w_scale) + 0.5)
            bias_q = np.clip(bias_q, -2 ** 31, 2 ** 31 - 1).astype(np.int32)
            multiplier = (s_in * self.w_scale / self.out_q[0]).astype(np.float64)
            found = self._rescaled[key] = (backend.to_device_array(bias_q, device),
                                           backend.to_device_array(multiplier, device))
        return found

    def forward(self, x):
        device = self.w_wide.device
        if is_int8(x) and (x.q.ndim == 4) == (self.kind == "conv"):
            codes, (s_in, z_in), nhwc = x.q, (x.scale, x.zero_point), self.kind == "conv"
        else:
            data = backend.to_device_array(x.data if isinstance(x, Tensor) else x, device)
            codes, (s_in, z_in), nhwc = quantize_codes(data, *self.in_q, device), self.in_q, False
        xp = backend.xp(codes)
        bias_q, multiplier = self._requant(s_in, device)
        a_dtype, _, k_pad, offset = self._operand(device)
        if self.kind == "linear":
            lead, k = codes.shape[:-1], codes.shape[-1]
            a = xp.zeros((int(np.prod(lead)), k_pad), a_dtype)
            a[:, :k] = _offset(codes.reshape(-1, k), offset)
            out = self._gemm(a, self._weights("w_wide", device), bias_q, self.w_sums.data,
                             z_in + offset, multiplier, xp, device)
            out = QTensor.wrap(out.reshape(*lead, -1), *self.out_q, device)
            return out if out.q.ndim != 4 else Tensor._wrap(out.data, device)
        (kh, kw), (sy, sx), (ph, pw), (dy, dx), (th, tw) = self.geometry
        if nhwc:
            n, h, w, c = codes.shape
        else:
            n, c, h, w = codes.shape
        oh, ow = (h + th - dy * (kh - 1) - 1) // sy + 1, (w + tw - dx * (kw - 1) - 1) // sx + 1
        if not nhwc and self.groups == 1 and c * kh * kw <= KMAJOR_K:
            out = xp.empty((n, oh, ow, self.out_channels), np.int8)
            kernels.get("int8_conv2d_kmajor", device)(
                codes, self.w_wide.data, kh, kw, sy, sx, ph, pw, dy, dx, bias_q,
                self.w_sums.data, z_in, multiplier, self.out_q[1], self.relu, out)
            return QTensor.wrap(out, *self.out_q, device)
        width = k_pad if self.groups == 1 else c * kh * kw
        a = self._buffer("cols_nhwc" if nhwc else "cols", (n * oh * ow, width), a_dtype, xp)
        patches = (n, oh, ow, kh, kw, c) if nhwc else (n, oh, ow, c, kh, kw)
        cols = a[:, :c * kh * kw].reshape(patches)  # a view: splits both axes
        src, pad = _offset(codes, offset), z_in + offset
        if nhwc:
            kernels.get("int8_im2col_nhwc", device)(src, cols, sy, sx, ph, pw, dy, dx, pad)
            weights = self._weights("w_nhwc", device)
        else:
            kernels.get("int8_im2col", device)(src, cols, sy, sx, ph, pw, dy, dx, pad)
            weights = self._weights("w_wide", device)
        if self.groups == 1:
            out = self._gemm(a, weights, bias_q, self.w_sums.data, pad, multiplier, xp, device)
        else:
            out = self._grouped(a, weights, c, nhwc, bias_q, pad, multiplier, xp, device)
        return QTensor.wrap(out.reshape(n, oh, ow, -1), *self.out_q, device)

    def _gemm(self, a, weights, bias_q, w_sums, z_in, multiplier, xp, device):
        out = xp.empty((a.shape[0], weights.shape[0]), np.int8)
        kernels.get("int8_gemm_requant", device)(a, weights, bias_q, w_sums, z_in, multiplier,
                                                 self.out_q[1], self.relu, out)
        return out

    def _grouped(self, a, weights, c, nhwc, bias_q, z_in, multiplier, xp, device):
        """One GEMM per group on its input channels' columns of the patch matrix."""
        g, o = self.groups, self.out_channels
        cg, og = c // g, o // g
        taps = a.shape[1] // c
        per_tap = a.reshape(a.shape[0], taps, c) if nhwc else a.reshape(a.shape[0], c, taps)
        out = xp.empty((a.shape[0], o), np.int8)
        for i in range(g):
            part = (per_tap[:, :, i * cg:(i + 1) * cg] if nhwc
                    else per_tap[:, i * cg:(i + 1) * cg, :])
            rows = slice(i * og, (i + 1) * og)
            out[:, rows] = self._gemm(xp.ascontiguousarray(part).reshape(a.shape[0], -1),
                                      weights[rows], bias_q[rows], self.w_sums.data[rows], z_in,
                                      multiplier[rows], xp, device)
        return out


def _offset(codes, offset):
    """int8 codes as the GEMM's activations: themselves, or code + 128 as uint8."""
    if not offset:
        return codes
    return codes.view(np.uint8) ^ np.uint8(0x80)


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


def _convert(module, layers, residuals):
    """Fold BN and replace conv / linear children by _QuantLayer, ResNet blocks by
    QuantResidual and ReLU / pooling by their int8-aware versions (recursively)."""
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
            fused = isinstance(child, nn.Conv2d) and child.activation == "relu"  # fuse's
            q = _QuantLayer(child, relu or fused)
            q.float_layer = child
            children[name] = q
            if relu:
                children[after] = nn.Identity()
            layers.append(q)
        elif isinstance(child, (resnet.BasicBlock, resnet.Bottleneck)):
            _convert(child, layers, residuals)
            for conv in ("conv1", "conv2") if isinstance(child, resnet.Bottleneck) else ("conv1",):
                getattr(child, conv).relu = True  # relu(bn(conv(x))) in the block's forward
            children[name] = QuantResidual(child)
            residuals.append(children[name])
        elif wrap(child) is not None:
            children[name] = wrap(child)
        elif child is not None:
            _convert(child, layers, residuals)
    if isinstance(module, resnet.ResNet):
        module.conv1.relu = True  # the stem: relu(bn1(conv1(x)))


def quantize_int8(model, calibration_batches, method="minmax", percentile=99.99, device=None):
    """An int8 copy of ``model`` (in eval mode), calibrated on ``calibration_batches`` (an
    iterable of input batches, tensors or arrays, or of (input, target) pairs), on ``device``
    (default: the CPU; ``"cuda"`` runs the CUDA kernels; ``.to(device)`` moves it later).

    ``method``: ``"minmax"`` (the range seen) or ``"percentile"`` (the ``percentile`` and
    100 - ``percentile`` percentiles of each activation, which ignores rare outliers).
    The model's output is a float tensor.
    """
    if method not in METHODS:
        raise ValueError(f"quantize_int8: method must be one of {METHODS}, got {method!r}")
    if not 50.0 < percentile <= 100.0:
        raise ValueError(f"quantize_int8: percentile must be in (50, 100], got {percentile}")
    batches = [b[0] if isinstance(b, (tuple, list)) else b for b in calibration_batches]
    if not batches:
        raise ValueError("quantize_int8: calibration_batches is empty")
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d) and m.activation not in (None, "relu"):
            raise ValueError(f"quantize_int8: {name} has a fused {m.activation} (nn.utils.fuse) "
                             "that int8 layers do not apply; quantize the model before fusing")
    qmodel = copy.deepcopy(model).to("cpu").eval()
    layers, residuals = [], []
    _convert(qmodel, layers, residuals)
    if not layers:
        raise ValueError(f"quantize_int8: {type(model).__name__} has no Conv2d or Linear "
                         "layer to quantize")
    stats = {id(q): ([], []) for q in layers + residuals}

    def record(q, x, y):
        stats[id(q)][0].append(_summary(backend.to_numpy(x.data), method, percentile))
        stats[id(q)][1].append(_summary(backend.to_numpy(y.data), method, percentile))
        return y

    def recording(q):
        if isinstance(q, QuantResidual):  # the block's own float forward, its add in float
            return lambda x: record(q, x, q.block(x))

        def forward(x):
            float_out = q.float_layer(x)
            if q.relu:
                float_out = nn.functional.relu(float_out)
            return record(q, x, float_out)
        return forward

    for q in layers + residuals:
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
        for q in layers + residuals:
            object.__delattr__(q, "forward")
    for q in layers + residuals:
        ins, outs = stats[id(q)]
        if not ins:
            raise ValueError(f"quantize_int8: a layer was not reached by the calibration "
                             f"batches: {getattr(q, 'float_layer', q)!r}")
        if isinstance(q, QuantResidual):
            q.in_q, q.out_q = _qparams(*_combine(ins)), _qparams(*_combine(outs))
        else:
            q.calibrate(_combine(ins), _combine(outs))
            del q.float_layer
    qmodel.register_forward_hook(_float_output)
    return qmodel.to(device) if device is not None else qmodel


def _float_output(module, args, output):
    """The model's output as plain float tensors (int8 codes dequantized)."""
    if isinstance(output, (tuple, list)):
        return type(output)(_float_output(module, args, o) for o in output)
    if isinstance(output, QTensor):
        return Tensor._wrap(output.data, output.device)
    return output


def _summary(a, method, percentile):
    if method == "minmax" or a.size == 0:
        return float(a.min()), float(a.max())
    flat = a.reshape(-1)
    if flat.size > 1_000_000:
        flat = flat[:: flat.size // 1_000_000]
    return (float(np.percentile(flat, 100.0 - percentile)), float(np.percentile(flat, percentile)))


def _combine(ranges):
    return min(r[0] for r in ranges), max(r[1] for r in ranges)
