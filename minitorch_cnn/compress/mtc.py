"""The compressed-model file (``.mtc``): a pruned, weight-shared, Huffman-coded model.

Layout (all integers little-endian)::

    b"MTC1"  u32 header length  zlib(JSON header)  payload  u32 CRC-32 of all that precedes

The header holds the model's ``model_spec`` (registry name and arguments, to rebuild it) and,
for every entry of the model's ``state_dict``, its name, shape, dtype, encoding and the byte
lengths of its parts in the payload. Encodings:

- ``raw``: the array's bytes (biases, batch-norm statistics, weights left uncompressed);
- ``shared``: a dense weight-shared layer: centroids (raw) + Huffman-coded cluster indices;
- ``sparse``: a pruned layer, in the paper's relative indexing (Han et al. 2016, figure 2):
  each kept weight stores the gap to the previous one, bounded to 2^gap_bits - 1 (8 bits for
  conv, 5 for fully connected layers, the paper's); a longer gap is bridged with filler entries
  that hold a zero. Gaps and cluster indices (the filler's index is k, one past the centroids)
  are Huffman-coded; an unshared pruned layer stores its kept values raw instead of indices.

``save`` writes atomically (temp file + ``os.replace``); ``load`` checks the magic, lengths and
CRC, so a truncated or foreign file raises a ValueError, and rebuilds the model through
``models.registry``, giving exactly the outputs of the compressed model that was saved.
"""
import json
import struct
import zlib

import numpy as np

from .. import backend
from ..models import registry
from ..serialization import atomic_write
from . import reparam
from .filters import fit_shapes
from .huffman import huffman_decode, huffman_encode

MAGIC = b"MTC1"
GAP_BITS = (8, 5)  # (conv, fully connected): the paper's relative-index widths


def _gaps(mask, span):
    """(gap, is_filler) per stored entry of the kept positions of ``mask`` (flattened)."""
    positions = np.flatnonzero(mask.reshape(-1))
    d = np.diff(np.concatenate([[-1], positions])) - 1
    fillers = d // span
    entries = np.repeat(np.arange(len(d)), fillers + 1)
    first = np.concatenate([[0], np.cumsum(fillers + 1)[:-1]])
    within = np.arange(len(entries)) - first[entries]
    is_filler = within < fillers[entries]
    gap = np.where(is_filler, span - 1, d[entries] - fillers[entries] * span)
    return gap.astype(np.int64), is_filler


def _encode_layer(layer, gap_bits):
    """The parts of a compressed layer's weight, its encoding and its bits per weight."""
    state = reparam.info(layer)
    mask = state["mask"]
    shared = state["indices"] is not None
    dtype = layer.weight.dtype
    if shared:
        centroids = backend.to_numpy(layer.weight_centroids.data).astype(dtype)
        k = len(centroids)
    values = backend.to_numpy(layer.weight.data).reshape(-1)
    if mask.all():
        if not shared:
            return "raw", [np.ascontiguousarray(values).tobytes()], {}
        return "shared", [centroids.tobytes(), huffman_encode(state["indices"])], {"k": k}
    gap, is_filler = _gaps(mask, 2 ** gap_bits)
    kept = np.flatnonzero(mask.reshape(-1))
    slot = np.cumsum(~is_filler) - 1  # which kept weight each non-filler entry is
    if shared:
        codes = np.full(len(gap), k, np.int64)
        codes[~is_filler] = state["indices"].reshape(-1)[kept][slot[~is_filler]]
        parts = [centroids.tobytes(), huffman_encode(gap), huffman_encode(codes)]
    else:
        stored = np.zeros(len(gap), values.dtype)
        stored[~is_filler] = values[kept][slot[~is_filler]]
        parts = [huffman_encode(gap), stored.tobytes()]
    return "sparse", parts, {"k": k if shared else None, "gap_bits": gap_bits,
                             "entries": int(len(gap))}


def _decode_layer(entry, parts):
    shape, dtype = tuple(entry["shape"]), np.dtype(entry["dtype"])
    size = int(np.prod(shape))
    if entry["encoding"] == "shared":
        centroids = np.frombuffer(parts[0], dtype)
        indices = huffman_decode(parts[1])
        if indices.size != size or (indices.size and indices.max() >= len(centroids)):
            raise ValueError(f"compress.load: {entry['name']}: indices do not fit the layer")
        return centroids[indices].reshape(shape)
    k = entry["k"]
    gap = huffman_decode(parts[1] if k is not None else parts[0])
    if k is not None:
        centroids = np.frombuffer(parts[0], dtype)
        codes = huffman_decode(parts[2])
        if len(codes) != len(gap) or (codes.size and codes.max() > k):
            raise ValueError(f"compress.load: {entry['name']}: indices do not fit the gaps")
        stored = np.concatenate([centroids, np.zeros(1, dtype)])[codes]
    else:
        stored = np.frombuffer(parts[1], dtype)
        if len(stored) != len(gap):
            raise ValueError(f"compress.load: {entry['name']}: values do not fit the gaps")
    positions = np.cumsum(gap + 1) - 1
    if positions.size and positions[-1] >= size:
        raise ValueError(f"compress.load: {entry['name']}: gaps run past the layer's "
                         f"{size} weights")
    w = np.zeros(size, dtype)
    w[positions] = stored
    return w.reshape(shape)


def encode(model):
    """The ``.mtc`` bytes of ``model`` and one row per state entry: (name, weights, kept,
    bits per weight or None, bytes)."""
    spec = getattr(model, "model_spec", None) or getattr(model, "base_spec", None)
    if not spec:
        raise ValueError(f"compress.save: {type(model).__name__} has no model_spec; build it "
                         "with minitorch_cnn.models.registry.create so the file can rebuild it")
    layers = {f"{n}.weight" if n else "weight": m for n, m in reparam.weight_layers(model)}
    entries, payload, rows = [], [], []
    for name, tensor in model.state_dict().items():
        if name.endswith("weight_centroids") and name[:-len("_centroids")] in layers:
            continue
        array = np.ascontiguousarray(backend.to_numpy(tensor.data))
        layer = layers.get(name)
        entry = {"name": name, "shape": list(array.shape), "dtype": array.dtype.str}
        if layer is not None and reparam.info(layer) is not None:
            gap_bits = GAP_BITS[0] if reparam.is_conv(layer) else GAP_BITS[1]
            encoding, parts, extra = _encode_layer(layer, gap_bits)
            entry.update(extra)
            kept = int(reparam.mask_of(layer).sum())
            bits = (int(np.ceil(np.log2(extra["k"]))) if extra.get("k") else None)
        else:
            encoding, parts, kept, bits = "raw", [array.tobytes()], array.size, None
        entry.update(encoding=encoding, parts=[len(p) for p in parts])
        entries.append(entry)
        payload += parts
        rows.append((name, int(array.size), kept, bits, sum(len(p) for p in parts)))
    header = zlib.compress(json.dumps({"model_spec": spec, "entries": entries},
                                      separators=(",", ":")).encode(), 9)
    body = MAGIC + struct.pack("<I", len(header)) + header + b"".join(payload)
    return body + struct.pack("<I", zlib.crc32(body)), rows


def save(model, path):
    """Write the compressed ``model`` to ``path`` (atomically); returns the per-entry rows of
    ``encode`` (name, weights, kept, bits, bytes)."""
    data, rows = encode(model)
    atomic_write(path, lambda f: f.write(data))
    return rows


def load(path):
    """The model stored in the ``.mtc`` file ``path`` (plain layers, on the CPU)."""
    with open(path, "rb") as f:
        data = f.read()
    where = f"compress.load({path!r})"
    if data[:4] != MAGIC:
        raise ValueError(f"{where}: not a .mtc compressed-model file (bad magic "
                         f"{data[:4]!r}, expected {MAGIC!r})")
    if len(data) < 12:
        raise ValueError(f"{where}: truncated file ({len(data)} bytes)")
    if struct.unpack("<I", data[-4:])[0] != zlib.crc32(data[:-4]):
        raise ValueError(f"{where}: truncated or corrupt file (CRC-32 mismatch)")
    (header_len,) = struct.unpack("<I", data[4:8])
    try:
        header = json.loads(zlib.decompress(data[8:8 + header_len]))
    except (zlib.error, ValueError) as e:
        raise ValueError(f"{where}: corrupt header ({e})") from None
    spec = header["model_spec"]
    model = registry.create(spec["name"], **spec.get("kwargs", {}))
    pos, end, state = 8 + header_len, len(data) - 4, {}
    for entry in header["entries"]:
        parts = []
        for n in entry["parts"]:
            if pos + n > end:
                raise ValueError(f"{where}: truncated file ({entry['name']} runs past the end)")
            parts.append(data[pos:pos + n])
            pos += n
        if entry["encoding"] == "raw":
            array = np.frombuffer(parts[0], np.dtype(entry["dtype"])).reshape(entry["shape"])
        else:
            array = _decode_layer(entry, parts)
        state[entry["name"]] = array.copy()
    if pos != end:
        raise ValueError(f"{where}: corrupt file ({end - pos} payload bytes not accounted for)")
    fit_shapes(model, {name: a.shape for name, a in state.items()})  # filter-pruned models
    model.load_state_dict(state)
    return model
