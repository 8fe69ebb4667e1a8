"""Converters of the tensor ops: arithmetic, activations, reductions and shape ops.

Shapes come from the trace; with a dynamic batch, the first dimension is written as "keep"
(Reshape 0, Expand 1, Slice to the end) wherever the trace kept it, so the graph runs at any
batch size.
"""
import numpy as np

from .builder import INT64_MAX, INT64_MIN
from .table import converts, inexpressible

_BINARY = {"AddFn": "Add", "SubFn": "Sub", "MulFn": "Mul", "DivFn": "Div", "PowFn": "Pow",
           "MaximumFn": "Max", "MinimumFn": "Min"}
_UNARY = {"NegFn": "Neg", "ExpFn": "Exp", "LogFn": "Log", "SqrtFn": "Sqrt", "AbsFn": "Abs",
          "ReLUFn": "Relu", "SigmoidFn": "Sigmoid", "TanhFn": "Tanh", "ToDeviceFn": "Identity"}
_ONNX_DTYPES = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7,
                "bool": 9, "float16": 10, "float64": 11}


def onnx_dtype(call, dtype):
    found = _ONNX_DTYPES.get(np.dtype(dtype).name)
    if found is None:
        raise inexpressible(call, f"dtype {np.dtype(dtype)} has no ONNX type here")
    return found


@converts(*_BINARY)
def binary(b, call):
    """NumPy's type promotion made explicit: an operand of another dtype than the result
    (float32 times a NumPy float64 scalar is float64) is cast first."""
    dtype = call.outputs[0].dtype
    operands = []
    for v in (call.arguments["a"], call.arguments["b"]):
        name = b.value(v, dtype)
        if getattr(v, "dtype", dtype) != dtype:
            name = b.node("Cast", [name], to=onnx_dtype(call, dtype))
        operands.append(name)
    return [b.node(_BINARY[call.name], operands)]


@converts(*_UNARY)
def unary(b, call):
    return [b.node(_UNARY[call.name], [b.value(call.arguments["x"])])]


@converts("LeakyReLUFn")
def leaky_relu(b, call):
    return [b.node("LeakyRelu", [b.value(call.arguments["x"])],
                   alpha=float(call.arguments["negative_slope"]))]


@converts("ELUFn")
def elu(b, call):
    return [b.node("Elu", [b.value(call.arguments["x"])], alpha=float(call.arguments["alpha"]))]


def clip_node(b, x, dtype, low, high):
    bounds = ["" if v is None else b.const(np.asarray(v, dtype)) for v in (low, high)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return b.node("Clip", [x, *bounds])


@converts("ReLU6Fn")
def relu6(b, call):
    x = call.arguments["x"]
    return [clip_node(b, b.value(x), x.dtype, 0, 6)]


@converts("ClipFn")
def clip(b, call):
    a = call.arguments
    return [clip_node(b, b.value(a["x"]), a["x"].dtype, a["min"], a["max"])]


@converts("SoftmaxFn", "LogSoftmaxFn")
def softmax(b, call):
    x = call.arguments["x"]
    op = "Softmax" if call.name == "SoftmaxFn" else "LogSoftmax"
    return [b.node(op, [b.value(x)], axis=int(call.arguments["dim"]) % max(x.ndim, 1))]


@converts("WhereFn")
def where(b, call):
    a = call.arguments
    dtype = call.outputs[0].dtype
    condition = b.value(a["condition"])
    if getattr(a["condition"], "dtype", None) != np.bool_:
        condition = b.node("Cast", [condition], to=9)
    return [b.node("Where", [condition, b.value(a["a"], dtype), b.value(a["b"], dtype)])]


@converts("MatMulFn")
def matmul(b, call):
    return [b.node("MatMul", [b.value(call.arguments["a"]), b.value(call.arguments["b"])])]


@converts("LinearFn")
def linear(b, call):
    """y = x W^T + b: Gemm for a matrix input, else MatMul by W^T and Add."""
    a = call.arguments
    x, w, bias = b.value(a["x"]), b.value(a["weight"]), a["bias"]
    if a["x"].ndim == 2:
        inputs = [x, w] + ([b.value(bias)] if bias is not None else [])
        return [b.node("Gemm", inputs, transB=1)]
    y = b.node("MatMul", [x, b.node("Transpose", [w], perm=[1, 0])])
    return [y if bias is None else b.node("Add", [y, b.value(bias)])]


# --- reductions ---------------------------------------------------------------------------
def _axes(x, axis):
    if axis is None:
        return list(range(x.ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return sorted(int(a) % x.ndim for a in axes)


def reduce(b, op, x, axes, keepdims):
    """ReduceOp over ``axes`` (an input from opset 18 on, and always for ReduceSum)."""
    if op == "ReduceSum" or b.opset >= 18:
        return b.node(op, [x, b.ints(axes)], keepdims=int(keepdims))
    return b.node(op, [x], axes=list(axes), keepdims=int(keepdims))


@converts("SumFn", "MeanFn", "MaxFn", "MinFn")
def reduction(b, call):
    a = call.arguments
    op = {"SumFn": "ReduceSum", "MeanFn": "ReduceMean", "MaxFn": "ReduceMax",
          "MinFn": "ReduceMin"}[call.name]
    return [reduce(b, op, b.value(a["x"]), _axes(a["x"], a["axis"]), a["keepdims"])]


@converts("VarFn")
def var(b, call):
    a = call.arguments
    x, axes = b.value(a["x"]), _axes(a["x"], a["axis"])
    count = int(np.prod([a["x"].shape[i] for i in axes]))
    centered = b.node("Sub", [x, reduce(b, "ReduceMean", x, axes, True)])
    mean_square = reduce(b, "ReduceMean", b.node("Mul", [centered, centered]), axes,
                         a["keepdims"])
    if not a["ddof"]:
        return [mean_square]
    factor = np.asarray(count / (count - a["ddof"]), a["x"].dtype)
    return [b.node("Mul", [mean_square, b.const(factor)])]


# --- shapes -------------------------------------------------------------------------------
@converts("ReshapeFn")
def reshape(b, call):
    x = call.arguments["x"]
    return [b.reshape(b.value(x), x.shape, call.outputs[0].shape)]


@converts("PermuteFn")
def permute(b, call):
    x = call.arguments["x"]
    return [b.node("Transpose", [b.value(x)],
                   perm=[int(a) % x.ndim for a in call.arguments["axes"]])]


@converts("ExpandFn")
def expand(b, call):
    """Expand broadcasts both ways, so a kept dimension is written 1 (any batch size)."""
    x, out = call.arguments["x"], call.outputs[0].shape
    lead = len(out) - x.ndim
    shape = [1 if i >= lead and x.shape[i - lead] == n else n for i, n in enumerate(out)]
    return [b.node("Expand", [b.value(x), b.ints(shape)])]


@converts("CatFn")
def cat(b, call):
    xs = call.arguments["xs"]
    return [b.node("Concat", [b.value(x) for x in xs],
                   axis=int(call.arguments["axis"]) % xs[0].ndim)]


@converts("StackFn")
def stack(b, call):
    xs, axis = call.arguments["xs"], int(call.arguments["axis"]) % (call.outputs[0].ndim)
    parts = [b.node("Unsqueeze", [b.value(x), b.ints([axis])]) for x in xs]
    return [b.node("Concat", parts, axis=axis)]


@converts("PadFn")
def pad(b, call):
    a = call.arguments
    widths = [tuple(int(v) for v in w) for w in a["pad_width"]]
    pads = [w[0] for w in widths] + [w[1] for w in widths]
    value = b.const(np.asarray(a["value"], a["x"].dtype))
    return [b.node("Pad", [b.value(a["x"]), b.ints(pads), value], mode="constant")]


@converts("CastFn")
def cast(b, call):
    return [b.node("Cast", [b.value(call.arguments["x"])],
                   to=onnx_dtype(call, call.outputs[0].dtype))]


@converts("GetItemFn")
def getitem(b, call):
    """Basic indexing (ints, slices, None, ...) as Slice/Squeeze/Unsqueeze; one integer or
    boolean array on one axis as Gather."""
    x, key = call.arguments["x"], call.arguments["key"]
    keys = list(key) if isinstance(key, tuple) else [key]
    if sum(k is Ellipsis for k in keys) > 1:
        raise inexpressible(call, "more than one Ellipsis in an index")
    consumed = sum(k is not None and k is not Ellipsis for k in keys)
    if any(k is Ellipsis for k in keys):
        i = next(j for j, k in enumerate(keys) if k is Ellipsis)
        keys[i:i + 1] = [slice(None)] * (x.ndim - consumed)
    keys += [slice(None)] * (x.ndim - sum(k is not None for k in keys))
    arrays = [i for i, k in enumerate(keys) if k is not None and not isinstance(
        k, (int, np.integer, slice))]
    if len(arrays) > 1:
        raise inexpressible(call, "indexing with more than one array (advanced indexing)")
    value, axis, removed, added = b.value(x), 0, [], []
    starts, ends, axes, steps = [], [], [], []
    gather, out_axis = None, 0
    for k in keys:
        if k is None:
            added.append(out_axis)
            out_axis += 1
            continue
        out_axis += not isinstance(k, (int, np.integer))
        n = x.shape[axis]
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            if (start, stop, step) != (0, n, 1):
                if step > 0 and stop >= n:
                    stop = INT64_MAX
                if step < 0 and stop < 0:
                    stop = INT64_MIN
                starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
        elif isinstance(k, (int, np.integer)):
            i = int(k) % n
            starts.append(i), ends.append(i + 1), axes.append(axis), steps.append(1)
            removed.append(axis)
        else:
            index = np.asarray(k)
            if index.dtype == np.bool_:
                if index.ndim != 1:
                    raise inexpressible(call, "a boolean mask over several axes")
                index = np.nonzero(index)[0]
            gather = (axis, index.astype(np.int64))
        axis += 1
    if starts:
        value = b.node("Slice", [value, b.ints(starts), b.ints(ends), b.ints(axes),
                                 b.ints(steps)])
    if gather is not None:
        g_axis, index = gather
        if index.ndim != 1:
            raise inexpressible(call, "an index array of more than one dimension")
        value = b.node("Gather", [value, b.const(index)], axis=g_axis)
    if removed:
        value = b.node("Squeeze", [value, b.ints(removed)])
    if added:
        value = b.node("Unsqueeze", [value, b.ints(added)])
    return [value]
