"""ONNX export and import (the ``onnx`` extra: ``pip install -e ".[onnx]"``).

``export(model, example_input, path, opset=17, dynamic_batch=True)`` traces a model and writes
a checked ONNX file; ``load(path)`` imports a standard ONNX graph (such as the ones
``torch.onnx.export`` writes for torchvision models) as a trainable ``Module``. The ``onnx``
package is imported on first use; ONNX Runtime is only a test oracle and a speed anchor.
"""


def export(model, example_input, path, opset=17, dynamic_batch=True, input_names=None,
           output_names=None):
    from .exporter import export as _export
    return _export(model, example_input, path, opset, dynamic_batch, input_names, output_names)


export.__doc__ = """Trace ``model`` (eval mode) on ``example_input`` and write a checked ONNX
model to ``path``; see ``minitorch_cnn.onnx.exporter``."""


def load(path):
    """An ONNX file as a trainable ``Module``; see ``minitorch_cnn.onnx.importer``."""
    from .importer import load as _load
    return _load(path)
