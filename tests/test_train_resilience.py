"""The training command under trouble: a signal mid-epoch leaves a checkpoint that resumes
bit-identically, a NaN loss stops the run naming the op, a bad --out fails before training,
and --clip-grad-norm clips."""
import csv
import os
import signal

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import run_guard
from minitorch_cnn import train as train_cmd

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaNs made on purpose

TINY = ["--limit", "100", "--test-limit", "20", "--batch-size", "30", "--workers", "0",
        "--optimizer", "sgd", "--lr", "0.05", "--scheduler", "step", "--augment"]


def _signal_during(monkeypatch, signum, epoch, after_batches):
    """Send ``signum`` to this process after ``after_batches`` batches of training epoch
    ``epoch`` (1-based), as ``kill`` from outside would."""
    real, seen = train_cmd.run_epoch, []

    def run_epoch(model, loader, device, opt=None, desc="", **kw):
        if opt is not None:
            seen.append(1)
            if len(seen) == epoch:
                def batches():
                    for i, batch in enumerate(loader):
                        if i == after_batches:
                            os.kill(os.getpid(), signum)
                        yield batch
                return real(model, batches(), device, opt, desc, **kw)
        return real(model, loader, device, opt, desc, **kw)
    monkeypatch.setattr(train_cmd, "run_epoch", run_epoch)


def _rows(out):
    with open(out / "metrics.csv") as f:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]


@pytest.mark.slow
def test_sigint_mid_epoch_then_resume_is_bit_identical(tmp_path, monkeypatch, capsys):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert train_cmd.main(TINY + ["--epochs", "3", "--out", str(whole)]) == 0
    _signal_during(monkeypatch, signal.SIGINT, epoch=2, after_batches=1)
    assert train_cmd.main(TINY + ["--epochs", "3", "--out", str(part)]) == 130
    assert "interrupted by SIGINT" in capsys.readouterr().err
    names = {p.name for p in part.iterdir()}
    assert "model.npz" not in names and not any(n.endswith(".tmp") for n in names)
    assert mt.load(part / "last.npz")["epoch"] == 1
    monkeypatch.undo()
    assert train_cmd.main(["--resume", str(part / "last.npz"), "--epochs", "3",
                           "--out", str(part)]) == 0
    a, b = mt.load(whole / "model.npz"), mt.load(part / "model.npz")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    assert _rows(whole) == _rows(part)


@pytest.mark.slow
def test_sigterm_in_the_first_epoch_exits_143_with_a_resumable_checkpoint(tmp_path,
                                                                            monkeypatch):
    whole, out = tmp_path / "whole", tmp_path / "run"
    _signal_during(monkeypatch, signal.SIGTERM, epoch=1, after_batches=1)
    assert train_cmd.main(TINY + ["--epochs", "1", "--out", str(out)]) == 143
    ckpt = mt.load(out / "last.npz")
    assert ckpt["epoch"] == 0 and ckpt["history"] == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are restored
    monkeypatch.undo()
    assert train_cmd.main(["--resume", str(out / "last.npz"), "--epochs", "1",
                           "--out", str(out)]) == 0
    assert train_cmd.main(TINY + ["--epochs", "1", "--out", str(whole)]) == 0
    a, b = mt.load(whole / "model.npz"), mt.load(out / "model.npz")
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def test_nan_loss_stops_naming_the_op_and_keeps_the_last_good_checkpoint(tmp_path,
                                                                         monkeypatch, capsys):
    real, calls = train_cmd.F.cross_entropy, []

    def cross_entropy(logits, y):
        calls.append(1)
        if len(calls) <= 4:  # the 4 batches of epoch 1 (3 training, 1 validation) are fine
            return real(logits, y)
        return mt.log(real(logits, y) - 1e3)  # NaN from here on
    monkeypatch.setattr(train_cmd.F, "cross_entropy", cross_entropy)
    out = tmp_path / "run"
    with np.errstate(invalid="ignore"):
        status = train_cmd.main(TINY + ["--epochs", "3", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert "the training loss is nan at batch 1 of epoch 2/3" in err
    assert "LogFn produced NaN in the forward pass" in err and "from inputs of shapes ()" in err
    assert f"{__file__}:" in err and "mt.log(real(logits, y) - 1e3)" in err
    assert "holds the last good epoch (1)" in err
    ckpt = mt.load(out / "last.npz")
    assert ckpt["epoch"] == 1
    assert all(np.isfinite(v.numpy()).all() for v in ckpt["model"].values())


def test_nan_parameters_are_named(tmp_path, monkeypatch, capsys):
    real = train_cmd.run_epoch

    def run_epoch(model, loader, device, opt=None, desc="", **kw):
        if opt is not None and desc.startswith("epoch 2"):
            next(iter(model.parameters())).data[0] = np.inf  # as an overflowing update would
        return real(model, loader, device, opt, desc, **kw)
    monkeypatch.setattr(train_cmd, "run_epoch", run_epoch)
    with np.errstate(invalid="ignore", over="ignore"):
        assert train_cmd.main(TINY + ["--epochs", "2", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "parameters already non-finite: features.0.weight" in err
    assert mt.load(tmp_path / "last.npz")["epoch"] == 1


def test_unwritable_out_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "run"
    assert train_cmd.main(TINY + ["--epochs", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert f"--out {out}: cannot write there" in captured.err
    assert "epoch 1" not in captured.out


def test_full_disk_fails_before_training(tmp_path, monkeypatch, capsys):
    usage = run_guard.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(run_guard.shutil, "disk_usage",
                        lambda path: usage._replace(free=100_000))
    out = tmp_path / "run"
    assert train_cmd.main(TINY + ["--epochs", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert f"--out {out}: not enough free space" in captured.err and "0.1 MiB are free" in \
        captured.err
    assert "epoch 1" not in captured.out and not (out / "last.npz").exists()


def test_clip_grad_norm_option_clips_every_step(tmp_path, monkeypatch):
    real, norms = mt.nn.utils.clip_grad_norm_, []

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        total = real(parameters, max_norm, *args, **kwargs)
        after = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum() for p in parameters))
        norms.append((max_norm, total.item(), after))
        return total
    monkeypatch.setattr(mt.nn.utils, "clip_grad_norm_", spy)
    out = tmp_path / "run"
    assert train_cmd.main(TINY + ["--epochs", "1", "--clip-grad-norm", "0.05",
                                  "--out", str(out)]) == 0
    assert len(norms) == 3  # one per training batch
    for max_norm, before, after in norms:
        assert max_norm == 0.05 and before > 0.05 and after == pytest.approx(0.05, rel=1e-4)
    assert mt.load(out / "last.npz")["args"]["clip_grad_norm"] == 0.05
