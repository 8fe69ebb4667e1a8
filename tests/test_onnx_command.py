"""``python -m minitorch_cnn export`` and ``evaluate`` of an ``.onnx`` file."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.__main__ import main
from minitorch_cnn.models import registry
from onnx_support import run_ort

pytest.importorskip("onnx")


@pytest.fixture
def checkpoint(tmp_path):
    mt.manual_seed(0)
    model = registry.create_for_data("lenet5-relu", 10, 1)
    path = tmp_path / "last.npz"
    mt.save({"model": model.state_dict(), "args": {"model": "lenet5-relu",
                                                   "dataset": ["mnist-sample"]}}, str(path))
    return model.eval(), path


def test_export_command_writes_the_checkpoint_model(checkpoint, tmp_path, capsys):
    model, path = checkpoint
    out = tmp_path / "m.onnx"
    assert main(["export", str(path), "--out", str(out)]) == 0
    assert "input (N, 1, 28, 28)" in capsys.readouterr().out
    x = mt.randn(2, 1, 28, 28)
    with mt.no_grad():
        np.testing.assert_allclose(run_ort(out, x.numpy())[0], model(x).numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_export_command_bare_state_dict_and_input(tmp_path, capsys):
    path, out = tmp_path / "model.npz", tmp_path / "m.onnx"
    mt.save(registry.create("NiN").state_dict(), str(path))
    assert main(["export", str(path), "--out", str(out)]) == 2
    assert "bare state dict: say which model with --model" in capsys.readouterr().err
    assert main(["export", str(path), "--out", str(out), "--model", "NiN", "--input", "3",
                 "40", "36"]) == 0
    assert "input (N, 3, 40, 36)" in capsys.readouterr().out


def test_evaluate_accepts_onnx(checkpoint, tmp_path, capsys):
    _, path = checkpoint
    out = tmp_path / "m.onnx"
    assert main(["export", str(path), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(path), "--limit", "64"]) == 0
    from_checkpoint = capsys.readouterr().out.splitlines()[-2:]
    assert main(["evaluate", str(out), "--limit", "64"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == from_checkpoint
