"""The converter table: one function per ``<Op>Fn`` class, which writes that op's ONNX nodes.

A converter takes the ``GraphBuilder`` and the traced ``Call`` and returns the ONNX value
names of the call's outputs, in order (a thunk instead of a name makes an output only when
something reads it). ``convert_tensor`` registers the tensor ops (arithmetic, activations,
reductions, shapes) and ``convert_layers`` the layer ops (convolutions, pooling,
normalization, LRN, locally connected, graph scatter).
"""
CONVERTERS = {}


def converts(*names):
    """Register the decorated function as the converter of the Function classes ``names``."""
    def register(fn):
        for name in names:
            CONVERTERS[name] = fn
        return fn
    return register


def inexpressible(call, reason):
    """The ValueError for an op that this exporter cannot write as standard ONNX."""
    return ValueError(f"onnx.export: {call.where()} cannot be exported: {reason}")
