"""``load(path)``: an ONNX graph as a trainable ``GraphModule``.

The file is parsed and validated first (``checks.read_model``); then each float initializer
that a layer uses as weights (Conv, ConvTranspose, Gemm, MatMul operands, the scale and bias
of BatchNormalization, the bias added after a MatMul) becomes a ``Parameter``,
BatchNormalization's mean and variance become buffers (updated in training, as PyTorch's),
and every other initializer stays a constant. ``forward`` runs the nodes in the file's order
(ONNX requires a topological order) through ``import_ops``, so the result trains with
``backward`` and ``mt.optim`` like any model. Parameter names are the initializer names with
characters other than letters, digits and ``_`` replaced by ``_`` (``layer1.0.conv1.weight``
-> ``layer1_0_conv1_weight``); ``initializer_names`` maps them back.
"""
import re

import numpy as np

from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .checks import read_model
from .deps import require
from .import_ops import OPS

_WEIGHT_INPUTS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (0, 1, 2),
                  "MatMul": (0, 1), "BatchNormalization": (1, 2)}


def _attributes(onnx, node):
    out = {}
    for attr in node.attribute:
        value = onnx.helper.get_attribute_value(attr)
        if isinstance(value, onnx.TensorProto):
            value = onnx.numpy_helper.to_array(value)
        elif isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list):
            value = [v.decode() if isinstance(v, bytes) else v for v in value]
        out[attr.name] = value
    out["_op"], out["_outputs"] = node.op_type, len(node.output)
    return out


def _roles(graph):
    """initializer name -> "param", "buffer" or "const"."""
    producers = {o: n.op_type for n in graph.node for o in n.output}
    roles = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if i in _WEIGHT_INPUTS.get(node.op_type, ()):
                roles[name] = "param"
            elif node.op_type == "BatchNormalization" and i in (3, 4):
                roles.setdefault(name, "buffer")
            elif node.op_type == "Add" and any(producers.get(o) == "MatMul"
                                               for o in node.input):
                roles[name] = "param"  # torch's Linear on a >2-D input: MatMul + Add(bias)
    return roles


class GraphModule(Module):
    """The module ``load`` returns: ``forward(*inputs)`` runs the imported graph."""

    def __init__(self, proto):
        super().__init__()
        onnx = self.onnx = require("onnx")
        graph = proto.graph
        self.opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
        roles = _roles(graph)
        self.initializer_names, self._values = {}, {}
        taken = set()
        for init in graph.initializer:
            array = onnx.numpy_helper.to_array(init)
            role = roles.get(init.name, "const") if array.dtype.kind == "f" else "const"
            if role == "const":
                self._values[init.name] = array
                continue
            attr = re.sub(r"\W", "_", init.name) or "_"
            while attr in taken or hasattr(self, attr):
                attr = "p_" + attr
            taken.add(attr)
            self.initializer_names[attr] = init.name
            tensor = Tensor(np.array(array))
            if role == "param":
                self.register_parameter(attr, Parameter(tensor))
            else:
                self.register_buffer(attr, tensor)
        self._attr_of = {v: k for k, v in self.initializer_names.items()}
        initializers = {t.name for t in graph.initializer}
        self.input_names = [i.name for i in graph.input if i.name not in initializers]
        self.output_names = [o.name for o in graph.output]
        self._nodes = [(n.op_type, list(n.input), list(n.output), _attributes(onnx, n))
                       for n in graph.node]
        self._input_shapes = [
            tuple(d.dim_value if d.HasField("dim_value") else d.dim_param or None
                  for d in i.type.tensor_type.shape.dim)
            for i in graph.input if i.name not in initializers]

    def input_shape(self, i=0):
        """The declared shape of input ``i``: ints, and names or None for symbolic sizes."""
        return self._input_shapes[i]

    def _initial(self):
        env = dict(self._values)
        for name, attr in self._attr_of.items():
            env[name] = getattr(self, attr)
        return env

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise ValueError(f"GraphModule: expected {len(self.input_names)} inputs "
                             f"({', '.join(self.input_names)}), got {len(inputs)}")
        env = self._initial()
        env.update(zip(self.input_names, inputs))
        for op_type, ins, outs, attrs in self._nodes:
            args = [env[name] if name else None for name in ins]
            while args and args[-1] is None:
                args.pop()
            results = OPS[op_type](self, attrs, *args)
            env.update(zip(outs, results))
        out = tuple(env[name] for name in self.output_names)
        return out[0] if len(out) == 1 else out

    def extra_repr(self):
        return (f"inputs={self.input_names}, outputs={self.output_names}, "
                f"nodes={len(self._nodes)}")


def load(path):
    """The ONNX model at ``path`` as a ``GraphModule`` (in eval mode, as exported models are
    meant to run; call ``.train()`` to fine-tune). A malformed file, an unsupported opset or
    op (all of them listed) raise a ValueError before anything is built."""
    model = GraphModule(read_model(path, set(OPS)))
    return model.eval()
