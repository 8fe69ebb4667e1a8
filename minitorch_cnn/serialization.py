"""Checkpoints: ``mt.save(obj, path)`` and ``mt.load(path)``, NumPy ``.npz`` without pickle.

``obj`` is a state dict, or any nesting of dicts, lists and tuples whose leaves are tensors,
NumPy arrays, numbers, strings, booleans or None (a checkpoint: model, optimizer and scheduler
state dicts, epoch, RNG state). Each array becomes one entry of the ``.npz`` under its path in
the nesting joined by ``/`` (``model/features.0.weight``, ``optimizer/state/0/exp_avg``), so a
state dict saved alone has its own keys and can be read by ``numpy.load``; the structure and
the non-array leaves are kept as JSON in the entry ``__minitorch_cnn__``. No code is pickled:
files load with ``allow_pickle=False``.

Writes are atomic: the file is written to a temporary file in the same folder, flushed to disk,
then renamed over ``path``, so an interrupted save leaves the old file (or none), never half a
file. A truncated, damaged or foreign file raises a ``ValueError`` naming it, and so does one
whose headers declare more data than it holds: files are checked before anything is allocated
(``checked_read.py``), as a checkpoint may come from anywhere.

A path ending in ``.safetensors`` reads and writes the safetensors format instead (a flat dict
of arrays; ``pip install "minitorch_cnn[safetensors]"``), so weights exported from other
frameworks load by name.
"""
import json
import os
import tempfile
import zipfile

import numpy as np

from . import backend
from .checked_read import check_safetensors, read_npz
from .tensor import Tensor

META = "__minitorch_cnn__"
FORMAT_VERSION = 1
SAFETENSORS_INSTALL = 'pip install "minitorch_cnn[safetensors]"'


def save(obj, path, metadata=None):
    """Write ``obj`` (a state dict or checkpoint, see the module docstring) to ``path``.

    ``metadata``, a JSON-able dict (the trainer's: the model's registry name and constructor
    arguments), is stored beside ``obj`` without changing what ``load`` returns; read it back
    with ``load_metadata(path)``.
    """
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        atomic_write(path, lambda f: f.write(_safetensors_bytes(obj, path)))
        return
    arrays = {}
    tree = _encode(obj, "", arrays)
    header = {"format": FORMAT_VERSION, "tree": tree}
    if metadata is not None:
        header["metadata"] = _checked_metadata(metadata)
    meta = json.dumps(header)
    # savez to an open file keeps ``path`` exactly as given (no ".npz" appended)
    atomic_write(path, lambda f: np.savez(f, **arrays, **{META: np.array(meta)}))


def load(path, device=None, map_location=None, weights_only=None):
    """Read what ``save`` wrote; tensors come back on ``device`` (default cpu).

    A plain ``.npz`` written by ``numpy.savez`` (a state dict exported from another framework)
    loads as a dict of tensors by its keys.

    PyTorch's arguments: ``map_location`` is a device (a string or ``mt.device``), the same as
    ``device``; ``weights_only`` may be True or False and changes nothing, as these files hold
    no code to run in the first place (never pickle), only arrays and plain values.
    """
    path = os.fspath(path)
    if map_location is not None:
        if not isinstance(map_location, (str, backend.Device)):
            raise TypeError(f"mt.load: map_location must be a device (a string such as 'cpu' "
                            f"or an mt.device), got {type(map_location).__name__}: files hold "
                            "no devices of their own, so there is nothing to map from")
        if device is not None and backend.as_device(device) != backend.as_device(map_location):
            raise ValueError(f"mt.load: device={device} and map_location={map_location} "
                             "disagree")
        device = map_location
    if weights_only not in (None, True, False):
        raise TypeError(f"mt.load: weights_only must be True or False, got {weights_only!r}")
    device = backend.as_device(device)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mt.load: no such file: {path}")
    if path.endswith(".safetensors"):
        return _load_safetensors(path, device)
    arrays = read_npz(path, "mt.load")
    if META not in arrays:
        return {k: Tensor._wrap(backend.to_device_array(a, device), device)
                for k, a in arrays.items()}
    try:
        meta = json.loads(str(arrays.pop(META)))
        version = meta.get("format")
    except (ValueError, AttributeError, RecursionError) as e:
        raise ValueError(f"mt.load: {path} is damaged: its {META} entry is not the JSON "
                         f"object of a checkpoint: {e}") from None
    if version != FORMAT_VERSION:
        raise ValueError(f"mt.load: {path} has checkpoint format {version}, this "
                         f"version reads format {FORMAT_VERSION}")
    try:
        return _decode(meta["tree"], arrays, device, path)
    except (KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
        raise ValueError(f"mt.load: {path} is damaged: its structure ({META}) does not "
                         f"describe a checkpoint: {type(e).__name__}: {e}") from None


def load_metadata(path):
    """The ``metadata`` dict that ``save`` stored in ``path`` ({} when it has none: an older file,
    a plain ``numpy.savez`` or a safetensors file). Reads only the small JSON entry."""
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        return {}
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mt.load: no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if META not in npz.files:
                return {}
            header = json.loads(str(npz[META]))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, AttributeError) as e:
        raise ValueError(f"mt.load: {path} is not a readable minitorch_cnn checkpoint: "
                         f"{e}") from None
    return header.get("metadata") or {}


def _checked_metadata(metadata):
    if not isinstance(metadata, dict):
        raise TypeError(f"mt.save: metadata must be a dict, got {type(metadata).__name__}")
    try:
        return json.loads(json.dumps(metadata))
    except (TypeError, ValueError) as e:
        raise TypeError(f"mt.save: metadata must hold only JSON values (dicts, lists, strings, "
                        f"numbers, booleans, None): {e}") from None


# --- the nesting as JSON, arrays by key -------------------------------------------------------
def _join(prefix, key):
    return f"{prefix}/{key}" if prefix else str(key)


def _encode(obj, prefix, arrays):
    if isinstance(obj, Tensor) or _is_array(obj):
        array = np.asarray(backend.to_numpy(obj.data if isinstance(obj, Tensor) else obj))
        if array.dtype.kind == "O":
            raise TypeError(f"mt.save: {prefix or 'the object'} is an object array; only "
                            "numeric, boolean and string arrays can be saved without pickle")
        key = prefix or "array"
        if key in arrays or key == META:
            raise ValueError(f"mt.save: two entries map to the key {key!r}")
        arrays[key] = array
        return {"array": key, "tensor": isinstance(obj, Tensor)}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        keys = list(obj)
        if all(isinstance(k, str) for k in keys):
            return {"dict": {k: _encode(v, _join(prefix, k), arrays) for k, v in obj.items()}}
        if all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in keys):
            return {"items": [[k, _encode(v, _join(prefix, k), arrays)] for k, v in obj.items()]}
    elif isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, _join(prefix, i), arrays) for i, v in enumerate(obj)]}
    raise TypeError(f"mt.save: cannot save {type(obj).__name__} at {prefix or 'the top'}; "
                    "checkpoints hold tensors, arrays, numbers, strings, None, and dicts "
                    "(string or int keys), lists and tuples of them")


def _decode(node, arrays, device, path):
    if not isinstance(node, dict):
        return node
    if "array" in node:
        if node["array"] not in arrays:
            raise ValueError(f"mt.load: {path} is damaged: entry {node['array']!r} is missing")
        array = arrays[node["array"]]
        if not node["tensor"]:
            return array
        return Tensor._wrap(backend.to_device_array(array, device), device)
    if "dict" in node:
        return {k: _decode(v, arrays, device, path) for k, v in node["dict"].items()}
    if "items" in node:
        return {k: _decode(v, arrays, device, path) for k, v in node["items"]}
    values = [_decode(v, arrays, device, path) for v in node.get("list", node.get("tuple", []))]
    return tuple(values) if "tuple" in node else values


def _is_array(obj):
    return isinstance(obj, np.ndarray) or hasattr(obj, "__cuda_array_interface__")


def atomic_write(path, write):
    """Call ``write(f)`` on a temporary file beside ``path`` (binary), then rename it to
    ``path``: a reader sees the old file or the whole new one, never half of one; on any error
    (Ctrl-C included) the temporary file is removed and ``path`` is untouched."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # includes KeyboardInterrupt: never leave the temporary file behind
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- safetensors ------------------------------------------------------------------------------
def _safetensors():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(f"reading or writing .safetensors files needs the safetensors "
                          f"package: {SAFETENSORS_INSTALL}") from None
    return safetensors.numpy


def _safetensors_bytes(obj, path):
    st = _safetensors()
    if not isinstance(obj, dict):
        raise TypeError(f"mt.save: {path}: a .safetensors file holds a flat dict of arrays "
                        f"(a state dict), got {type(obj).__name__}")
    arrays = {}
    for k, v in obj.items():
        if not (isinstance(v, Tensor) or _is_array(v)):
            raise TypeError(f"mt.save: {path}: a .safetensors file holds only arrays; entry "
                            f"{k!r} is a {type(v).__name__}")
        arrays[k] = np.ascontiguousarray(backend.to_numpy(v.data if isinstance(v, Tensor)
                                                          else v))
    return st.save(arrays)


def _load_safetensors(path, device):
    check_safetensors(path, "mt.load")
    st = _safetensors()
    try:
        arrays = st.load_file(path)
    except Exception as e:  # safetensors raises its own error types
        raise ValueError(f"mt.load: {path} is not a readable safetensors file: {e}") from None
    return {k: Tensor._wrap(backend.to_device_array(a, device), device)
            for k, a in arrays.items()}
