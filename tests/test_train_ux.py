"""What a new user of the training command hits on day one: checkpoints that say which model
they hold, options checked before any work, and ``--resume`` going on with its own run."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import train as train_cmd
from minitorch_cnn.models import registry
from minitorch_cnn.models import spec as model_spec
from minitorch_cnn.serialization import load_metadata
from helpers import interrupt_training_epoch

TINY = ["--limit", "80", "--test-limit", "40", "--batch-size", "40", "--workers", "0"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One finished 1-epoch run of the default model (lenet5-relu)."""
    out = tmp_path_factory.mktemp("run")
    assert train_cmd.main(TINY + ["--epochs", "1", "--out", str(out)]) == 0
    return out


def test_every_checkpoint_stores_the_model_spec(run):
    expected = {"name": "lenet5-relu",
                "kwargs": {"variant": "relu", "num_classes": 10, "in_channels": 1}}
    for name in ("last.npz", "model.npz"):
        assert load_metadata(run / name)["model_spec"] == expected
    assert mt.load(run / "last.npz")["model_spec"] == expected
    state = mt.load(run / "model.npz")  # still a plain state dict
    assert set(state) == set(registry.create("lenet5-relu").state_dict())


def test_evaluate_uses_the_stored_model_and_refuses_a_contradicting_one(run, capsys):
    assert train_cmd.main(["evaluate", str(run / "model.npz")]) == 0
    top1 = capsys.readouterr().out.strip().splitlines()[-2]
    # the sigmoid LeNet5 takes these weights without complaint (same names and shapes)
    assert train_cmd.main(["evaluate", str(run / "model.npz"), "--model", "LeNet5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --model LeNet5 contradicts") and "lenet5-relu" in err
    assert len(err.splitlines()) == 1
    for agreeing in ("lenet5-relu", "LENET5-RELU"):
        assert train_cmd.main(["evaluate", str(run / "last.npz"), "--model", agreeing]) == 0
        assert capsys.readouterr().out.strip().splitlines()[-2] == top1


def test_a_file_without_a_spec_still_needs_model(run, tmp_path, capsys):
    bare = tmp_path / "bare.npz"
    mt.save(mt.load(run / "model.npz"), bare)
    assert train_cmd.main(["evaluate", str(bare)]) == 2
    assert "--model" in capsys.readouterr().err
    assert train_cmd.main(["evaluate", str(bare), "--model", "lenet5-relu"]) == 0


def test_the_banner_names_the_registry_model(run, tmp_path, capsys):
    assert train_cmd.main(TINY + ["--epochs", "1", "--out", str(tmp_path)]) == 0
    assert "lenet5-relu: 61,706 parameters" in capsys.readouterr().out


def test_spec_aliases_agree_with_what_they_stand_for():
    relu = registry.create_for_data("lenet5-relu", 10, 1).model_spec
    assert not model_spec.contradicts("lenet5-relu", relu)
    assert model_spec.contradicts("LeNet5", relu) and model_spec.contradicts("lenet5", relu)
    explicit = registry.create("LeNet5", variant="relu").model_spec
    assert not model_spec.contradicts("lenet5-relu", explicit)
    assert not model_spec.contradicts("LeNet5", explicit)
    assert model_spec.contradicts("resnet18", relu)


BAD = [
    (["--val-fraction", "1.5"], "--val-fraction must be in [0, 1), got 1.5"),
    (["--val-fraction", "-0.5"], "--val-fraction must be in [0, 1)"),
    (["--val-fraction", "nan"], "--val-fraction must be in [0, 1), got nan"),
    (["--epochs", "-1"], "--epochs must be >= 1, got -1"),
    (["--epochs", "0"], "--epochs must be >= 1, got 0"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--lr", "0"], "--lr must be > 0"),
    (["--lr", "inf"], "--lr must be > 0, got inf"),
    (["--momentum", "1.5"], "--momentum must be in [0, 1]"),
    (["--weight-decay", "-0.0001"], "--weight-decay must be >= 0"),
    (["--image-size", "0"], "--image-size must be >= 1"),
    (["--limit", "-5"], "--limit must be >= 0"),
    (["--test-limit", "-1"], "--test-limit must be >= 0"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--workers", "-2"], "--workers must be >= 0"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_numeric_options_are_range_checked_before_any_work(argv, message, tmp_path, capsys):
    out = tmp_path / "never"
    assert train_cmd.main(argv + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {err[7:]}" and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_evaluate_options_are_range_checked(run, capsys):
    assert train_cmd.main(["evaluate", str(run / "last.npz"), "--limit", "-1"]) == 2
    assert "--limit must be >= 0" in capsys.readouterr().err
    assert train_cmd.main(["evaluate", str(run / "last.npz"), "--batch-size", "0"]) == 2
    assert "--batch-size must be >= 1" in capsys.readouterr().err


def test_a_split_without_training_images_is_an_error(tmp_path, capsys):
    assert train_cmd.main(["--limit", "1", "--val-fraction", "0.9", "--out", str(tmp_path)]) == 2
    assert "leaves no training image" in capsys.readouterr().err


def test_resume_goes_on_in_its_folder_with_its_options(tmp_path, monkeypatch, capsys):
    real = interrupt_training_epoch(monkeypatch, train_cmd)
    first = tmp_path / "first"
    assert train_cmd.main(TINY + ["--epochs", "2", "--scheduler", "step", "--seed", "3",
                                  "--out", str(first)]) == 130
    monkeypatch.setattr(train_cmd, "run_epoch", real)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the default --out, runs/train, would be here
    assert train_cmd.main(["--resume", str(first / "last.npz"), "--workers", "0"]) == 0
    assert list(elsewhere.iterdir()) == []
    ckpt = mt.load(first / "last.npz")
    assert ckpt["epoch"] == 2  # its --epochs 2, not the default 8
    assert ckpt["args"]["seed"] == 3 and ckpt["args"]["scheduler"] == "step"
    assert (first / "model.npz").exists()
    # an option given again wins: one more epoch, into another folder
    other = tmp_path / "other"
    assert train_cmd.main(["--resume", str(first / "last.npz"), "--epochs", "3", "--out",
                           str(other), "--workers", "0"]) == 0
    assert mt.load(other / "last.npz")["epoch"] == 3
    assert "step schedule of" in capsys.readouterr().err  # laid out for 2 epochs, not 3
    assert train_cmd.main(["--resume", str(first / "last.npz"), "--epochs", "1"]) == 2
    assert "has 2 epochs done already" in capsys.readouterr().err
    assert train_cmd.main(["--resume", str(first / "last.npz"), "--model", "LeNet5"]) == 2
    assert "contradicts" in capsys.readouterr().err
    assert train_cmd.main(["--resume", str(first / "model.npz")]) == 2
    assert "not a training checkpoint" in capsys.readouterr().err


def test_save_metadata_round_trip(tmp_path):
    path = tmp_path / "w.npz"
    mt.save({"w": mt.ones(2)}, path, metadata={"model_spec": {"name": "x", "kwargs": {}}})
    assert load_metadata(path) == {"model_spec": {"name": "x", "kwargs": {}}}
    assert set(mt.load(path)) == {"w"}
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    assert load_metadata(tmp_path / "plain.npz") == {}
    with pytest.raises(TypeError, match="JSON"):
        mt.save({"w": mt.ones(2)}, path, metadata={"f": object()})
