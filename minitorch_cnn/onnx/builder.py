"""``GraphBuilder``: the ONNX graph being written during an export.

It names every value (a traced Tensor, a parameter, a constant), collects the nodes and the
initializers, and offers the small helpers the converters share (integer constants, the
symbolic batch dimension). Parameters and buffers become initializers under their module
names (``layer1.0.conv1.weight``) the first time a node uses them; any other tensor or array
that the traced ops read but did not produce becomes a constant initializer.
"""
import numpy as np

from .. import backend
from ..tensor import Tensor
from .deps import require

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class GraphBuilder:
    def __init__(self, opset, dynamic_batch):
        self.onnx = require("onnx")
        self.opset, self.dynamic_batch = opset, dynamic_batch
        self.nodes, self.initializers = [], []
        self._names = {}       # id(Tensor or array) -> value name, or a thunk that makes it
        self._named = {}       # id(Tensor or array) -> (name, array) of parameters and buffers
        self._keep = []        # the keys' objects, alive for the export (ids stay unique)
        self._used, self._consts, self._count = set(), {}, 0

    # --- names ------------------------------------------------------------------------------
    def fresh(self, prefix):
        self._count += 1
        return f"{prefix}_{self._count}"

    def add_named(self, name, tensor):
        """A parameter or buffer: an initializer called ``name`` when first used."""
        for key in (tensor, tensor.data):
            self._named[id(key)] = (name, tensor.data)
            self._keep.append(key)

    def bind(self, tensor, name):
        """``tensor`` is the ONNX value ``name`` (or a thunk returning it, called on first
        use: outputs such as pooling indices are only computed when something reads them)."""
        self._names[id(tensor)] = name
        self._names.setdefault(id(tensor.data), name)
        self._keep.append(tensor)

    def value(self, x, dtype=None):
        """The ONNX name of ``x``: a traced or named Tensor or array, else a new constant
        (Python scalars get ``dtype``)."""
        key = id(x)
        if isinstance(x, Tensor) and key not in self._names and key not in self._named:
            key = id(x.data)  # e.g. a detached view of the same array
        found = self._names.get(key)
        if callable(found):
            found = self._names[key] = found()
        if found is not None:
            return found
        if key in self._named:
            name, array = self._named[key]
            if name not in self._used:
                self._used.add(name)
                self.initializers.append(self._tensor(array, name))
            return name
        array = backend.to_numpy(x.data) if isinstance(x, Tensor) else np.asarray(
            x, dtype=dtype if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else None)
        return self.const(array)

    def const(self, array, prefix="const"):
        array = np.array(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        key = (array.dtype.str, array.shape, array.tobytes()) if array.size <= 64 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.fresh(prefix)
        self.initializers.append(self._tensor(array, name))
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values):
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1))

    def _tensor(self, array, name):
        return self.onnx.numpy_helper.from_array(np.array(backend.to_numpy(array), order="C"),
                                                 name)

    # --- nodes ------------------------------------------------------------------------------
    def node(self, op, inputs, outputs=1, **attrs):
        """Append an ``op`` node; returns its output name (a list when ``outputs`` > 1)."""
        names = [self.fresh(op.lower()) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), names,
                                                     name=self.fresh(op), **attrs))
        return names[0] if outputs == 1 else names

    def reshape(self, x, in_shape, out_shape):
        """Reshape to ``out_shape``. With a dynamic batch the leading dimensions the input has
        in the same places are kept (0: a reshape leaves them as they are, the batch among
        them wherever it sits); without any, the first is inferred (-1). So the graph serves
        any batch size."""
        target = list(out_shape)
        if self.dynamic_batch and target:
            kept = 0
            while kept < min(len(target), len(in_shape)) and in_shape[kept] == target[kept]:
                kept += 1
            target[:kept] = [0] * kept
            if not kept:
                target[0] = -1
        return self.node("Reshape", [x, self.ints(target)])
