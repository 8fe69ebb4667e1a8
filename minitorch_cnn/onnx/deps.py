"""The optional dependencies of ``minitorch_cnn.onnx``, imported on first use.

``onnx`` builds, checks and parses the files; ``onnxruntime`` is only a test oracle and a speed
anchor, never needed to export or load. Both come with ``pip install -e ".[onnx]"``.
"""
import importlib

INSTALL = 'pip install -e ".[onnx]"'


def require(name="onnx"):
    """The module ``name`` (``onnx`` or ``onnxruntime``), or an ImportError naming the extra."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise ImportError(f"minitorch_cnn.onnx needs the package {name!r}, which is not "
                          f"installed: {INSTALL}") from e
