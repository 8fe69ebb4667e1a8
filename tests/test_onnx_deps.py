"""Without the ``onnx`` extra, ``mt.onnx`` says how to install it (runs with or without onnx)."""
import sys

import pytest

import minitorch_cnn as mt


def test_missing_onnx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes ``import onnx`` fail
    with pytest.raises(ImportError, match=r'pip install -e "\.\[onnx\]"'):
        mt.onnx.export(mt.nn.ReLU(), mt.randn(1, 2), str(tmp_path / "m.onnx"))
    with pytest.raises(ImportError, match=r"needs the package 'onnx'"):
        mt.onnx.load(str(tmp_path / "m.onnx"))
