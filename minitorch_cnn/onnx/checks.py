"""Reading an ONNX file safely: parse, then validate, before anything is built from it.

Nothing in a file is executed: the bytes are parsed as a protobuf ``ModelProto`` and checked
(``onnx.checker``, the opset, every input of every node defined before use, only standard-
domain ops that ``import_ops`` implements, initializers stored inside the file). Each failure
is a ValueError that says what is wrong with which file; unsupported ops are listed all at
once.
"""
import os

from .deps import require

OPSET_RANGE = (11, 21)  # the default-domain opsets whose semantics import_ops follows


def read_model(path, supported_ops):
    """The validated ``onnx.ModelProto`` stored at ``path``."""
    onnx = require("onnx")
    if not os.path.isfile(path):
        raise ValueError(f"onnx.load: {path!r} is not a file")
    with open(path, "rb") as f:
        data = f.read()
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as e:  # protobuf's DecodeError, or a RuntimeWarning-wrapped variant
        raise ValueError(f"onnx.load: {path!r} is not an ONNX model (not a protobuf "
                         f"ModelProto, or truncated): {e}") from None
    if not proto.HasField("graph") or not proto.graph.node:
        raise ValueError(f"onnx.load: {path!r} holds no graph (not an ONNX model, or "
                         f"truncated)")
    _check_opset(path, proto)
    _check_external(path, proto)
    _check_defined(path, proto)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as e:
        raise ValueError(f"onnx.load: {path!r} is not a valid ONNX model: "
                         f"{str(e).splitlines()[0]}") from None
    _check_ops(path, proto, supported_ops)
    return proto


def _check_opset(path, proto):
    versions = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    version = versions.get("ai.onnx")
    lo, hi = OPSET_RANGE
    if version is None or not lo <= version <= hi:
        raise ValueError(f"onnx.load: {path!r} uses opset {version} of the default domain; "
                         f"supported: {lo} to {hi}")


def _check_external(path, proto):
    for t in proto.graph.initializer:
        if t.data_location == 1:  # EXTERNAL
            raise ValueError(f"onnx.load: {path!r} keeps initializer {t.name!r} in an "
                             f"external file; save the model with its data inside")


def _check_ops(path, proto, supported_ops):
    unsupported = sorted({(n.domain or "", n.op_type) for n in proto.graph.node
                          if n.domain not in ("", "ai.onnx") or n.op_type not in supported_ops})
    if unsupported:
        names = ", ".join(f"{d}::{op}" if d else op for d, op in unsupported)
        raise ValueError(f"onnx.load: {path!r} uses ops this importer does not support: "
                         f"{names}")


def _check_defined(path, proto):
    graph = proto.graph
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    for node in graph.node:
        for name in node.input:
            if name not in known:
                raise ValueError(f"onnx.load: {path!r}: node {node.name or node.op_type!r} "
                                 f"({node.op_type}) reads {name!r}, which no initializer, "
                                 f"graph input or earlier node provides (missing initializer?)")
        known.update(node.output)
    for out in graph.output:
        if out.name not in known:
            raise ValueError(f"onnx.load: {path!r}: graph output {out.name!r} is never "
                             f"computed")
