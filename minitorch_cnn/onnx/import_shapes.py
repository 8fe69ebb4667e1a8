"""The shape ops of ONNX import (Identity, Constant, Shape, Cast, Gather, Unsqueeze, Squeeze,
Concat, Flatten, Reshape, Transpose, Slice, Split, Pad, ReduceMean), registered in
``import_ops.OPS`` as the layer ops are."""
import numpy as np

from ..ops.functions import cat, pad as pad_tensor
from ..tensor import Tensor
from .import_ops import _ints, _scalar, _static, _t, op


# --- shapes -------------------------------------------------------------------------------
@op("Identity")
def identity(m, a, x):
    return [x]


@op("Constant")
def constant(m, a):
    for key in ("value", "value_float", "value_int", "value_floats", "value_ints"):
        if key in a:
            return [np.asarray(a[key])]
    raise ValueError(f"onnx.load: Constant with attributes {sorted(a)} is not supported")


@op("Shape")
def shape(m, a, x):
    dims = np.asarray(x.shape, dtype=np.int64)
    return [dims[a.get("start", 0):a.get("end", len(dims))]]


@op("Cast")
def cast(m, a, x):
    dtype = m.onnx.helper.tensor_dtype_to_np_dtype(a["to"])
    return [np.asarray(x).astype(dtype) if _static(x) else x.astype(dtype)]


@op("Gather")
def gather(m, a, x, indices):
    axis, index = a.get("axis", 0), np.asarray(indices)
    if _static(x):
        return [np.take(np.asarray(x), index, axis=axis)]
    key = [slice(None)] * (axis % x.ndim) + [int(index) if index.ndim == 0 else index]
    return [x[tuple(key)]]


def _axes(m, a, axes):
    return _ints(axes) if axes is not None else list(a.get("axes", []))


@op("Unsqueeze")
def unsqueeze(m, a, x, axes=None):
    axes = _axes(m, a, axes)
    if _static(x):
        return [np.expand_dims(np.asarray(x), tuple(axes))]
    out_ndim = x.ndim + len(axes)
    shape, src = [], iter(x.shape)
    for i in range(out_ndim):
        shape.append(1 if i in {ax % out_ndim for ax in axes} else next(src))
    return [x.reshape(shape)]


@op("Squeeze")
def squeeze(m, a, x, axes=None):
    axes = _axes(m, a, axes)
    if _static(x):
        x = np.asarray(x)
        return [np.squeeze(x, tuple(axes)) if axes else np.squeeze(x)]
    drop = {ax % x.ndim for ax in axes} if axes else {i for i, n in enumerate(x.shape) if n == 1}
    return [x.reshape([n for i, n in enumerate(x.shape) if i not in drop])]


@op("Concat")
def concat(m, a, *xs):
    if _static(*xs):
        return [np.concatenate([np.asarray(x).reshape(np.shape(x) or (1,)) for x in xs],
                               axis=a["axis"])]
    tensors = [_t(x, next(t for t in xs if isinstance(t, Tensor))) for x in xs]
    return [cat(tensors, axis=a["axis"] % tensors[0].ndim)]


@op("Flatten")
def flatten(m, a, x):
    axis = a.get("axis", 1) % max(x.ndim, 1)
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    return [x.reshape(lead, -1)]


@op("Reshape")
def reshape(m, a, x, target):
    target = _ints(target)
    if not a.get("allowzero", 0):
        target = [x.shape[i] if n == 0 else n for i, n in enumerate(target)]
    return [np.asarray(x).reshape(target) if _static(x) else x.reshape(target)]


@op("Transpose")
def transpose(m, a, x):
    perm = a.get("perm", list(range(x.ndim))[::-1])
    return [np.transpose(x, perm) if _static(x) else x.permute(*perm)]


@op("Slice")
def slice_(m, a, x, starts, ends, axes=None, steps=None):
    starts, ends = _ints(starts), _ints(ends)
    axes = _ints(axes) if axes is not None else list(range(len(starts)))
    steps = _ints(steps) if steps is not None else [1] * len(starts)
    key = [slice(None)] * len(x.shape)
    for s, e, ax, st in zip(starts, ends, axes, steps):
        n = x.shape[ax]
        e = max(min(e, n), -n - 1) if st > 0 else e
        key[ax] = slice(s, None if (st < 0 and e < -n) else e, st)
    return [np.asarray(x)[tuple(key)] if _static(x) else x[tuple(key)]]


@op("Split")
def split(m, a, x, sizes=None):
    axis = a.get("axis", 0) % len(x.shape)
    n = x.shape[axis]
    if sizes is None:
        sizes = a.get("split")
    if sizes is None:
        count = a.get("num_outputs", a["_outputs"])
        step = -(-n // count)
        sizes = [min(step, n - i * step) for i in range(count)]
    out, start = [], 0
    for size in _ints(sizes):
        key = [slice(None)] * len(x.shape)
        key[axis] = slice(start, start + size)
        out.append(x[tuple(key)])
        start += size
    return out


@op("Pad")
def pad(m, a, x, pads=None, value=None, axes=None):
    mode = a.get("mode", "constant")
    if mode not in ("constant", b"constant"):
        raise ValueError(f"onnx.load: Pad mode {mode!r} is not supported (only constant)")
    pads = _ints(pads) if pads is not None else list(a["pads"])
    dims = _ints(axes) if axes is not None else list(range(x.ndim))
    width = [(0, 0)] * x.ndim
    for i, ax in enumerate(dims):
        width[ax % x.ndim] = (pads[i], pads[i + len(dims)])
    fill = _scalar(value) if value is not None else a.get("value", 0.0)
    return [pad_tensor(x, width, fill)]


@op("ReduceMean")
def reduce_mean(m, a, x, axes=None):
    axes = _axes(m, a, axes)
    keep = bool(a.get("keepdims", 1))
    return [x.mean(axis=tuple(axes) if axes else None, keepdims=keep)]
