"""``export(model, example_input, path)``: a model as a checked ONNX file.

The model runs once in eval mode on ``example_input`` under ``trace``; every recorded op goes
through its converter (``table.CONVERTERS``), parameters and buffers become initializers under
their state-dict names, and the graph is checked with ``onnx.checker`` before it is written
(atomically). The graph is the computation the trace saw: Python control flow is fixed at the
traced branch, and values the model computed outside the ops (a graph's edge list, a shape)
are constants. With ``dynamic_batch`` the first dimension of the inputs and outputs is
symbolic ("N") and the graph is written to serve any batch size.
"""

import numpy as np

from ..serialization import atomic_write
from ..tensor import Tensor
from . import convert_capsules, convert_layers, convert_tensor  # noqa: F401  (the converters)
from .builder import GraphBuilder
from .table import CONVERTERS

OPSETS = (13, 14, 15, 16, 17)
IR_VERSION = 8  # the IR of opset 17 (onnx 1.12): readable by every ONNX Runtime since 1.12


def _flatten_outputs(out, model):
    """(the output Tensors, their default names). A named tuple (CapsNet's output) gives its
    Tensor fields under their names and leaves out the None ones; a field holding anything
    else was computed outside the ops (in NumPy) and cannot be a graph output."""
    if isinstance(out, Tensor):
        return [out], ["output"]
    fields = getattr(out, "_fields", None)
    if fields is not None:
        for name, value in zip(fields, out):
            if value is not None and not isinstance(value, Tensor):
                raise ValueError(
                    f"onnx.export: {type(model).__name__}'s output {name!r} is a "
                    f"{type(value).__name__} computed outside the ops, which a graph cannot "
                    f"express (its values would be frozen at the example's)")
        kept = [(n, v) for n, v in zip(fields, out) if v is not None]
        if kept:
            return [v for _, v in kept], [n for n, _ in kept]
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out) and out:
        names = ["output"] if len(out) == 1 else [f"output_{i}" for i in range(len(out))]
        return list(out), names
    raise ValueError(f"onnx.export: the model must return a Tensor or a tuple of Tensors, "
                     f"got {type(out).__name__}")


def build(model, example_input, opset=17, dynamic_batch=True, input_names=None,
          output_names=None):
    """The checked ``onnx.ModelProto`` of ``model`` traced on ``example_input``: a Tensor, or
    a tuple of the model's arguments, whose Tensors become the graph's inputs and whose other
    values (a graph's edge list) are fixed in the graph."""
    if opset not in OPSETS:
        raise ValueError(f"onnx.export: opset must be one of {OPSETS}, got {opset!r}")
    from .trace import trace
    inputs = tuple(example_input) if isinstance(example_input, (tuple, list)) else \
        (example_input,)
    graph_inputs = [x for x in inputs if isinstance(x, Tensor)]
    if not graph_inputs:
        raise TypeError("onnx.export: example_input must be a Tensor or a tuple holding at "
                        "least one Tensor")
    input_names = list(input_names or (["input"] if len(graph_inputs) == 1 else
                                       [f"input_{i}" for i in range(len(graph_inputs))]))
    was_training = model.training
    model.eval()
    try:
        out, calls = trace(model, *inputs)
    finally:
        model.train(was_training)
    outputs, default_names = _flatten_outputs(out, model)
    output_names = list(output_names or default_names)
    b = GraphBuilder(opset, dynamic_batch)
    for name, p in model.named_parameters():
        b.add_named(name, p)
    for name, buf in model.named_buffers():
        b.add_named(name, buf)
    for x, name in zip(graph_inputs, input_names):
        b.bind(x, name)
    for call in calls:
        converter = CONVERTERS.get(call.name)
        if converter is None:
            raise ValueError(f"onnx.export: {call.where()} cannot be exported: no ONNX "
                             f"converter for {call.name}")
        for t, name in zip(call.outputs, converter(b, call)):
            b.bind(t, name)
    for t, name in zip(outputs, output_names):
        b.nodes.append(b.onnx.helper.make_node("Identity", [b.value(t)], [name],
                                               name=b.fresh("Identity")))
    return _model(b, graph_inputs, input_names, outputs, output_names)


def _value_info(b, name, t):
    helper = b.onnx.helper
    shape = list(t.shape)
    if b.dynamic_batch and shape:
        shape[0] = "N"
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(t.dtype))
    return helper.make_tensor_value_info(name, elem, shape)


def _model(b, inputs, input_names, outputs, output_names):
    onnx = b.onnx
    graph = onnx.helper.make_graph(
        b.nodes, "minitorch_cnn", [_value_info(b, n, x) for x, n in zip(inputs, input_names)],
        [_value_info(b, n, t) for t, n in zip(outputs, output_names)], b.initializers)
    proto = onnx.helper.make_model(graph, producer_name="minitorch_cnn",
                                   opset_imports=[onnx.helper.make_opsetid("", b.opset)],
                                   ir_version=IR_VERSION)
    onnx.checker.check_model(proto)
    return proto


def export(model, example_input, path, opset=17, dynamic_batch=True, input_names=None,
           output_names=None):
    """Trace ``model`` (in eval mode) on ``example_input`` and write it to ``path`` as a
    checked ONNX model; returns the ``onnx.ModelProto``. A layer that standard ONNX cannot
    express raises a ValueError naming the layer and the reason."""
    proto = build(model, example_input, opset, dynamic_batch, input_names, output_names)
    data = proto.SerializeToString()
    atomic_write(path, lambda f: f.write(data))
    return proto
