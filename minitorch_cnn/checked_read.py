"""Reading array files that may be damaged or hostile: ``.npz`` archives and ``.safetensors``.

A checkpoint or weight file is data from elsewhere. It is read without pickle, and what it
declares is checked against what it holds before anything is allocated: every archive member is
stored or deflated (at most deflate's 1032:1 ratio), every ``.npy`` header is parsed with a
bounded size, and the bytes its shape and dtype declare must be exactly the member's size, so a
header claiming a terabyte in a kilobyte file is refused instead of allocated; a safetensors
header must lie within the file and each tensor's offsets must match its shape and dtype. Any
failure, whatever the library raises (zip, zlib, JSON, NumPy), becomes a ``ValueError`` naming
the file.
"""
import json
import math
import os
import struct
import zipfile

import numpy as np

NPY_MAGIC = b"\x93NUMPY"
MAX_DEFLATE_RATIO = 1032  # the most DEFLATE can compress (258-byte matches in ~2 bits)
MAX_HEADER = 10_000  # bytes of a .npy header (NumPy's own limit for untrusted files)
MAX_SAFETENSORS_HEADER = 100 << 20  # the safetensors library's own limit
SAFETENSORS_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2,
                        "I16": 2, "F16": 2, "BF16": 2, "U32": 4, "I32": 4, "F32": 4, "U64": 8,
                        "I64": 8, "F64": 8}


def read_npz(path, where):
    """All arrays of the ``.npz`` file ``path`` by name, checked (see the module docstring);
    ``where`` (the caller, e.g. ``"mt.load"``) starts every error message."""
    try:
        with open(path, "rb") as f:
            if f.read(len(NPY_MAGIC)) == NPY_MAGIC:
                raise ValueError("it holds a single .npy array, not an .npz archive")
        size = os.path.getsize(path)
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                _check_member(archive, info, size)
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}  # reads (and CRC-checks) everything
    except Exception as e:  # a damaged file can fail in any of the libraries
        raise ValueError(f"{where}: {path} is not a readable minitorch_cnn checkpoint (a NumPy "
                         f".npz file without pickled objects); it may be truncated, damaged or "
                         f"of another format: {e}") from None


def _check_member(archive, info, archive_size):
    name = info.filename
    if not name.endswith(".npy"):
        raise ValueError(f"member {name!r} is not a .npy array")
    if info.compress_type == zipfile.ZIP_STORED:
        limit = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        limit = MAX_DEFLATE_RATIO * info.compress_size + 1024
    else:
        raise ValueError(f"member {name!r} uses compression method {info.compress_type}")
    if info.compress_size > archive_size or info.file_size > limit:
        raise ValueError(f"member {name!r} declares {info.file_size} bytes, more than "
                         f"{min(limit, archive_size)} bytes of the file can hold")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(member, max_header_size=MAX_HEADER)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(member, max_header_size=MAX_HEADER)
        else:
            raise ValueError(f"member {name!r} is .npy version {version}, expected 1.0 or 2.0")
        shape, _, dtype = header
        if dtype.hasobject:
            raise ValueError(f"member {name!r} holds Python objects (it would need pickle)")
        declared = math.prod(int(n) for n in shape) * dtype.itemsize
        if any(int(n) < 0 for n in shape) or member.tell() + declared != info.file_size:
            raise ValueError(f"member {name!r} declares shape {tuple(shape)} of {dtype} "
                             f"({declared} bytes) but holds {info.file_size - member.tell()}")


def check_safetensors(path, where):
    """Check the header of the ``.safetensors`` file ``path`` against its size before the
    safetensors library reads it; raise a ``ValueError`` naming the file otherwise."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ValueError("shorter than the 8-byte header length")
            (n,) = struct.unpack("<Q", head)
            if n > min(size - 8, MAX_SAFETENSORS_HEADER):
                raise ValueError(f"its header declares {n} bytes, the file has {size}")
            header = json.loads(f.read(n))
        data = size - 8 - n
        if not isinstance(header, dict):
            raise ValueError("its header is not a JSON object")
        for key, entry in header.items():
            if key == "__metadata__":
                continue
            start, end = entry["data_offsets"]
            itemsize = SAFETENSORS_ITEMSIZE[entry["dtype"]]
            count = math.prod(int(d) for d in entry["shape"])
            if not 0 <= start <= end <= data or end - start != count * itemsize:
                raise ValueError(f"tensor {key!r} declares shape {entry['shape']} of "
                                 f"{entry['dtype']} at bytes {start}..{end} of {data}")
    except Exception as e:
        raise ValueError(f"{where}: {path} is not a readable safetensors file: {e}") from None
