"""Checkpoints and weight files from elsewhere: no pickle, declared sizes checked before anything
is allocated, and whatever the damage (truncation, flipped bits), only a ValueError."""
import io
import json
import struct
import zipfile

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.models import load_weights


def _npz_with_member(path, header, payload=b"\0" * 64, name="w.npy"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    buf.write(payload)
    with zipfile.ZipFile(path, "w") as z:  # a valid archive: the CRCs are right
        z.writestr(name, buf.getvalue())
    return path


def test_absurd_declared_shape_is_refused_before_allocating(tmp_path):
    path = _npz_with_member(tmp_path / "bomb.npz", {"descr": "<f8", "fortran_order": False,
                                                    "shape": (10**11,)})
    # NumPy alone would try to allocate the 745 GiB first (MemoryError)
    with pytest.raises(ValueError, match=r"bomb.npz.*declares shape \(100000000000,\) of "
                                         r"float64 \(800000000000 bytes\) but holds 64"):
        mt.load(path)
    with pytest.raises(ValueError, match="load_weights: .*bomb.npz.*declares shape"):
        load_weights(nn.Linear(2, 2), path)


def test_object_arrays_and_foreign_members_are_refused(tmp_path):
    pickled = _npz_with_member(tmp_path / "obj.npz", {"descr": "|O", "fortran_order": False,
                                                      "shape": (8,)})
    with pytest.raises(ValueError, match="obj.npz.*Python objects"):
        mt.load(pickled)
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as z:
        z.writestr("payload.py", "print('hi')")
    with pytest.raises(ValueError, match="other.npz.*'payload.py' is not a .npy array"):
        mt.load(tmp_path / "other.npz")


def _safetensors(path, header, data=b""):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_safetensors_headers_are_checked_before_reading(tmp_path):
    # (checked before the safetensors package is imported: these run without it)
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 2**60) + b"{}")
    with pytest.raises(ValueError, match="huge.safetensors.*header declares"):
        mt.load(huge)
    lying = _safetensors(tmp_path / "lying.safetensors",
                         {"w": {"dtype": "F32", "shape": [10**9], "data_offsets": [0, 16]}},
                         b"\0" * 16)
    with pytest.raises(ValueError, match=r"lying.safetensors.*'w' declares shape \[1000000000\]"):
        mt.load(lying)
    outside = _safetensors(tmp_path / "outside.safetensors",
                           {"w": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}},
                           b"\0" * 16)
    with pytest.raises(ValueError, match="load_weights: .*outside.safetensors.*bytes 8..24"):
        load_weights(nn.Linear(2, 2), outside)
