"""The ONNX ops ``load`` understands, each as this package's differentiable ops.

An op gets the running ``GraphModule`` (for ``training``), the node's attributes as a dict and
its inputs, and returns its outputs. Values are Tensors, or NumPy arrays for what is known
without the data: initializers used as constants and the Shape/Gather/Unsqueeze/Concat chains
that torch emits to compute a flatten's target shape; ops on arrays only compute in NumPy, so
those chains fold to constants at run time and never reach autograd.
"""
import numpy as np

from ..nn import functional as F
from ..ops.functions import pad as pad_tensor
from ..tensor import Tensor

OPS = {}


def op(*names):
    def register(fn):
        for name in names:
            OPS[name] = fn
        return fn
    return register


def _t(v, like=None):
    """A Tensor of ``v`` (a constant array becomes one, in ``like``'s dtype if given)."""
    if isinstance(v, Tensor):
        return v
    dtype = like.dtype if like is not None and np.asarray(v).dtype.kind == "f" else None
    return Tensor(np.asarray(v, dtype=dtype))


def _static(*values):
    return not any(isinstance(v, Tensor) for v in values)


def _scalar(v):
    return float(np.asarray(v).reshape(-1)[0])


def _ints(v):
    return [int(i) for i in np.asarray(v).reshape(-1)]


def _pads_2d(name, pads):
    """ONNX (top, left, bottom, right) as a symmetric (ph, pw), or None if asymmetric."""
    pads = list(pads or [0, 0, 0, 0])
    if len(pads) != 4:
        raise ValueError(f"onnx.load: {name}: only 2-D spatial ops are supported, got pads "
                         f"{pads}")
    return (pads[0], pads[1]) if pads[:2] == pads[2:] else None


def _padded(x, pads, value):
    """x with ONNX (top, left, bottom, right) pads of ``value`` (for asymmetric padding)."""
    t, left, b, r = pads
    return pad_tensor(x, [(0, 0), (0, 0), (t, b), (left, r)], value)


def _auto_pad(name, attrs, x, kernel, strides, dilations):
    mode = attrs.get("auto_pad", "NOTSET")
    if mode in ("NOTSET", b"NOTSET"):
        return list(attrs.get("pads", [0, 0, 0, 0]))
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode == "VALID":
        return [0, 0, 0, 0]
    pads = [0, 0, 0, 0]
    for i, (n, k, s, d) in enumerate(zip(x.shape[2:], kernel, strides, dilations)):
        total = max(0, (-(-n // s) - 1) * s + d * (k - 1) + 1 - n)
        small, large = total // 2, total - total // 2
        pads[i], pads[i + 2] = (small, large) if mode == "SAME_UPPER" else (large, small)
    return pads


# --- layers -------------------------------------------------------------------------------
@op("Conv")
def conv(m, a, x, w, b=None):
    kernel = a.get("kernel_shape", w.shape[2:])
    strides, dilations = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
    pads = _auto_pad("Conv", a, x, kernel, strides, dilations)
    sym = _pads_2d("Conv", pads)
    if sym is None:
        x, sym = _padded(x, pads, 0.0), (0, 0)
    return [F.conv2d(x, w, b, tuple(strides), sym, tuple(dilations), int(a.get("group", 1)))]


@op("ConvTranspose")
def conv_transpose(m, a, x, w, b=None):
    if "output_shape" in a or a.get("auto_pad", "NOTSET") not in ("NOTSET", b"NOTSET"):
        raise ValueError("onnx.load: ConvTranspose with output_shape or auto_pad is not "
                         "supported")
    sym = _pads_2d("ConvTranspose", a.get("pads"))
    if sym is None:
        raise ValueError(f"onnx.load: ConvTranspose with asymmetric pads {a['pads']} is not "
                         f"supported")
    return [F.conv_transpose2d(x, w, b, tuple(a.get("strides", [1, 1])), sym,
                               tuple(a.get("output_padding", [0, 0])), int(a.get("group", 1)),
                               tuple(a.get("dilations", [1, 1])))]


@op("Gemm")
def gemm(m, a, x, w, c=None):
    if a.get("transA", 0):
        x = x.transpose()
    alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
    if a.get("transB", 0) and alpha == 1.0 and (c is None or beta == 1.0):
        return [F.linear(x, w, c if c is None else _t(c, x))]
    y = x @ (w.transpose() if a.get("transB", 0) else w)
    if alpha != 1.0:
        y = y * alpha
    return [y if c is None else y + _t(c, x) * beta]


@op("BatchNormalization")
def batch_norm(m, a, x, scale, bias, mean, var):
    if not isinstance(mean, Tensor) or not isinstance(var, Tensor):
        mean, var = _t(mean, x), _t(var, x)
    return [F.batch_norm(x, mean, var, scale, bias, training=m.training,
                         momentum=1.0 - a.get("momentum", 0.9), eps=a.get("epsilon", 1e-5))]


def _pool_args(name, a, x):
    kernel = a["kernel_shape"]
    strides = a.get("strides", [1] * len(kernel))
    dilations = a.get("dilations", [1] * len(kernel))
    pads = _auto_pad(name, a, x, kernel, strides, dilations)
    return tuple(kernel), tuple(strides), pads, tuple(dilations), bool(a.get("ceil_mode", 0))


@op("MaxPool")
def max_pool(m, a, x):
    kernel, strides, pads, dilations, ceil = _pool_args("MaxPool", a, x)
    sym = _pads_2d("MaxPool", pads)
    shape, top, left = x.shape, 0, 0
    if sym is None or any(p > k // 2 for p, k in zip(sym, kernel)):
        x, sym, (top, left) = _padded(x, pads, -np.inf), (0, 0), pads[:2]
    if a["_outputs"] == 1:
        return [F.max_pool2d(x, kernel, strides, sym, dilations, ceil)]
    if a.get("storage_order", 0):
        raise ValueError("onnx.load: MaxPool indices in column-major order are not supported")
    y, plane = F.max_pool2d(x, kernel, strides, sym, dilations, ceil, return_indices=True)
    # this package's per-plane h * W + w (of the padded input) as ONNX's flat index over the
    # whole unpadded (N, C, H, W) tensor
    row, col = np.divmod(np.asarray(plane.data), x.shape[3])
    n, c, h, w = shape
    base = (np.arange(n * c, dtype=np.int64) * h * w).reshape(n, c, 1, 1)
    return [y, Tensor((row - top) * w + col - left + base)]


@op("Mod")
def mod(m, a, x, y):
    left, right = (np.asarray(v.data if isinstance(v, Tensor) else v) for v in (x, y))
    if left.dtype.kind == "f" and not _static(x, y):
        raise ValueError("onnx.load: Mod of float tensors is not supported")
    out = np.fmod(left, right) if a.get("fmod", 0) else np.mod(left, right)
    return [out if _static(x, y) else Tensor(out)]


@op("ConstantOfShape")
def constant_of_shape(m, a, shape):
    value = np.asarray(a.get("value", np.zeros(1, np.float32)))
    return [np.full(_ints(shape), value.reshape(-1)[0], dtype=value.dtype)]


@op("ScatterElements")
def scatter_elements(m, a, data, indices, updates):
    """data with updates written (reduction "none") or added ("add") at indices along axis;
    differentiable in updates and data, by a scatter-add of the flat positions."""
    from ..ops.graph import index_add
    reduction = a.get("reduction", "none")
    if reduction not in ("none", "add"):
        raise ValueError(f"onnx.load: ScatterElements reduction {reduction!r} is not supported")
    index = np.asarray(indices.data if isinstance(indices, Tensor) else indices, np.int64)
    shape, axis = tuple(np.shape(data)), a.get("axis", 0) % len(np.shape(data))
    coords = list(np.indices(index.shape))
    coords[axis] = np.where(index < 0, index + shape[axis], index)
    flat = np.ravel_multi_index(tuple(coords), shape).reshape(-1)
    updates = _t(updates)
    if reduction == "none" and np.unique(flat).size != flat.size:
        raise ValueError("onnx.load: ScatterElements with repeated indices and reduction "
                         "'none' (the written value is unspecified) is not supported")
    scattered = index_add(updates.reshape(-1), flat, int(np.prod(shape))).reshape(shape)
    if _static(data) and not np.any(data):
        return [scattered]
    base = _t(data, updates)
    if reduction == "none":
        keep = np.ones(int(np.prod(shape)), updates.dtype)
        keep[flat] = 0
        base = base * Tensor(keep.reshape(shape))
    return [base + scattered]


@op("AveragePool")
def avg_pool(m, a, x):
    kernel, strides, pads, _, ceil = _pool_args("AveragePool", a, x)
    sym = _pads_2d("AveragePool", pads)
    include = bool(a.get("count_include_pad", 0))
    if sym is None:
        padded = _padded(x, pads, 0.0)
        y = F.avg_pool2d(padded, kernel, strides, 0, ceil, True)
        if include:
            return [y]
        # pads excluded: the window sums over the number of input elements in each window
        # (both pools divide by the same window size, which cancels)
        ones = np.zeros((1, 1) + tuple(padded.shape[2:]), x.dtype)
        ones[:, :, pads[0]:pads[0] + x.shape[2], pads[1]:pads[1] + x.shape[3]] = 1
        counts = F.avg_pool2d(Tensor(ones), kernel, strides, 0, ceil, True)
        return [y / counts.detach()]
    return [F.avg_pool2d(x, kernel, strides, sym, ceil, include)]


@op("GlobalAveragePool")
def global_avg_pool(m, a, x):
    return [F.adaptive_avg_pool2d(x, 1)]


@op("LRN")
def lrn(m, a, x):
    size = int(a["size"])
    if size % 2 == 0:
        raise ValueError(f"onnx.load: LRN with an even size ({size}) centres its window "
                         f"differently from this package's; not supported")
    return [F.local_response_norm(x, size, a.get("alpha", 1e-4), a.get("beta", 0.75),
                                  a.get("bias", 1.0))]


@op("Dropout")
def dropout(m, a, x, ratio=None, training_mode=None):
    p = _scalar(ratio) if ratio is not None else a.get("ratio", 0.5)
    return [F.dropout(x, p, training=m.training)]


# --- activations and arithmetic -------------------------------------------------------------
@op("Relu")
def relu(m, a, x):
    return [F.relu(x)]


@op("Sigmoid")
def sigmoid(m, a, x):
    return [F.sigmoid(x)]


@op("Tanh")
def tanh(m, a, x):
    return [F.tanh(x)]


@op("LeakyRelu")
def leaky_relu(m, a, x):
    return [F.leaky_relu(x, a.get("alpha", 0.01))]


@op("Clip")
def clip(m, a, x, low=None, high=None):
    low = a.get("min") if low is None else _scalar(low)
    high = a.get("max") if high is None else _scalar(high)
    if low == 0.0 and high == 6.0:
        return [F.relu6(x)]
    return [x.clip(low, high) if low is not None or high is not None else x]


@op("Softmax", "LogSoftmax")
def softmax(m, a, x):
    axis = a.get("axis", -1 if m.opset >= 13 else 1)
    if m.opset < 13 and axis % x.ndim != x.ndim - 1:
        raise ValueError("onnx.load: Softmax before opset 13 over other than the last axis is "
                         "not supported")
    return [F.softmax(x, axis) if a["_op"] == "Softmax" else F.log_softmax(x, axis)]


def _binary(fn, int_fn=None):
    def run(m, a, x, y):
        if _static(x, y):
            x, y = np.asarray(x), np.asarray(y)
            return [np.asarray((int_fn or fn)(x, y) if x.dtype.kind in "iu" else fn(x, y))]
        left = _t(x, y if isinstance(y, Tensor) else None)
        right = _t(y, left)
        return [fn(left, right)]
    return run


OPS["Add"] = _binary(lambda x, y: x + y)
OPS["Sub"] = _binary(lambda x, y: x - y)
OPS["Mul"] = _binary(lambda x, y: x * y)
OPS["Div"] = _binary(lambda x, y: x / y, lambda x, y: np.trunc(x / y).astype(x.dtype))
OPS["Pow"] = _binary(lambda x, y: x ** y)
OPS["MatMul"] = _binary(lambda x, y: x @ y)


# the shape ops register themselves in OPS too
from . import import_shapes  # noqa: E402,F401
