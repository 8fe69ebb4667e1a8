"""The training command on the bundled MNIST sample: it learns, resumes exactly, stops cleanly
on Ctrl-C, evaluates checkpoints, and names what is wrong with bad input."""
import csv

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import train as train_cmd
from helpers import interrupt_training_epoch

FAST = ["--limit", "400", "--test-limit", "200", "--batch-size", "40", "--lr", "0.003",
        "--workers", "0"]


def metrics(out):
    with open(out / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_training_learns(tmp_path, capsys):
    out = tmp_path / "run"
    assert train_cmd.main(FAST + ["--epochs", "3", "--out", str(out)]) == 0
    rows = metrics(out)
    loss = [float(r["train_loss"]) for r in rows]
    acc = [float(r["train_acc"]) for r in rows]
    assert loss[2] < loss[1] < loss[0] and acc[2] > acc[0]
    assert float(rows[-1]["val_acc"]) > 0.5  # 3 short epochs on 360 digits; chance is 0.1
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line.startswith("test accuracy: ") and float(last_line.split()[-1]) > 0.5
    assert {"last.npz", "model.npz", "metrics.csv"} <= {p.name for p in out.iterdir()}
    assert train_cmd.main(["evaluate", str(out / "last.npz")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2].startswith("top-1 accuracy:") and lines[-1].startswith("top-5 accuracy:")
    top1 = float(lines[-2].split()[-1])
    assert top1 == pytest.approx(float(last_line.split()[-1]))
    assert train_cmd.main(["evaluate", str(out / "model.npz"), "--model", "lenet5-relu",
                           "--limit", "200"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-2] == lines[-2]


def test_resume_equals_uninterrupted(tmp_path):
    args = FAST + ["--limit", "200", "--test-limit", "40", "--augment", "--scheduler", "step",
                   "--optimizer", "sgd",
                   "--lr", "0.05"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert train_cmd.main(args + ["--epochs", "3", "--out", str(whole)]) == 0
    assert train_cmd.main(args + ["--epochs", "1", "--out", str(part)]) == 0
    assert train_cmd.main(["--resume", str(part / "last.npz"), "--epochs", "3",
                           "--out", str(part)]) == 0
    a, b = mt.load(whole / "model.npz"), mt.load(part / "model.npz")
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in metrics(whole)]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in metrics(part)]


def test_ctrl_c_keeps_the_last_complete_checkpoint(tmp_path, monkeypatch, capsys):
    interrupt_training_epoch(monkeypatch, train_cmd)
    out = tmp_path / "run"
    assert train_cmd.main(FAST + ["--limit", "100", "--epochs", "3", "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert "last.npz" in names and "model.npz" not in names
    assert not any(n.endswith(".tmp") for n in names)
    assert mt.load(out / "last.npz")["epoch"] == 1


def test_bad_input_names_what_is_valid(tmp_path, capsys):
    assert train_cmd.main(["--model", "lenet7", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'lenet7'" in err and "LeNet5" in err and "lenet5-relu" in err
    assert train_cmd.main(["--dataset", "imagenet", "--out", str(tmp_path)]) == 2
    assert "valid datasets: mnist-sample" in capsys.readouterr().err
    assert train_cmd.main(["--dataset", "mnist", str(tmp_path / "nope")]) == 2
    assert "nope does not exist" in capsys.readouterr().err
    assert train_cmd.main(["--dataset", "mnist"]) == 2
    assert "expected mnist DIR" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"junk")
    assert train_cmd.main(["evaluate", str(tmp_path / "junk.npz")]) == 2
    assert "junk.npz is not a readable" in capsys.readouterr().err


def test_mnist_folder_dataset(tmp_path):
    """``--dataset mnist DIR`` reads IDX files: here the bundled ones, copied."""
    import shutil
    from minitorch_cnn.data.datasets import SAMPLE_ROOT
    shutil.copytree(SAMPLE_ROOT, tmp_path / "mnist")
    out = tmp_path / "run"
    assert train_cmd.main(FAST + ["--limit", "80", "--epochs", "1", "--dataset", "mnist",
                                  str(tmp_path / "mnist"), "--out", str(out)]) == 0


def test_any_zoo_model_on_grey_digits(tmp_path):
    """A model without ``in_channels`` (made for RGB) sees the digits in three channels."""
    out = tmp_path / "run"
    assert train_cmd.main(["--model", "resnet18", "--limit", "8", "--test-limit", "4",
                           "--batch-size", "4", "--epochs", "1", "--workers", "0",
                           "--out", str(out)]) == 0
    assert mt.load(out / "model.npz")["conv1.weight"].shape == (64, 3, 7, 7)


@pytest.mark.slow
def test_default_run_reaches_95_percent(tmp_path, capsys):
    assert train_cmd.main(["--out", str(tmp_path)]) == 0
    accuracy = float(capsys.readouterr().out.strip().splitlines()[-1].split()[-1])
    assert accuracy >= 0.95
