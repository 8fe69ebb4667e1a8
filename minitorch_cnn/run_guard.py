"""What keeps a long training run safe: stopping cleanly on SIGINT/SIGTERM, stopping on a
non-finite loss with the op that made it, and checking the output folder before training.

Used by the training command (``train.py``): a run stopped by a signal exits with status
128 + the signal (130 for SIGINT, 143 for SIGTERM) and leaves its ``last.npz`` (written atomically
at the end of every epoch and once before the first) to ``--resume`` from; a run whose loss
becomes NaN or Inf stops before stepping, names the op that made the first NaN/Inf (the batch is
replayed under ``mt.autograd.detect_anomaly()``), and keeps the last good checkpoint.
"""
import contextlib
import os
import shutil
import signal
import threading

import minitorch_cnn as mt

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived during training (a KeyboardInterrupt, so that everything that
    cleans up after Ctrl-C, such as an atomic write's temporary file, does so here too)."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_status = 128 + signum


class NonFiniteLoss(RuntimeError):
    """The training loss (or the gradients) became NaN or Inf."""


@contextlib.contextmanager
def stop_on_signals():
    """Within the block, SIGINT and SIGTERM raise ``Stopped`` in the main thread.

    The handlers are installed even where SIGINT was ignored at start-up (a background job of a
    shell without job control), so that ``kill -INT`` stops a training run as ``kill -TERM``
    does, and a Python-level handler is used for SIGINT too, so that the interrupt is raised at
    the next bytecode of the main thread wherever it is (a Numba compilation included). Outside
    the main thread (where signals cannot be handled) the block runs unguarded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Stopped(signum)
    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def check_out_dir(out, checkpoint_bytes=0, copies=3):
    """Make ``out`` and make sure it is writable and has room for ``copies`` checkpoints of
    ``checkpoint_bytes`` (an atomic save holds the old file and the new one at once, and the
    final weights come on top); raise a ``ValueError`` naming the folder otherwise."""
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, f".write-test-{os.getpid()}")
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
        os.unlink(probe)
    except OSError as e:
        raise ValueError(f"--out {out}: cannot write there ({e.strerror or e}); choose another "
                         "folder with --out") from None
    need = copies * checkpoint_bytes + (1 << 20)  # + metrics.csv and curves.png
    free = shutil.disk_usage(out).free
    if free < need:
        raise ValueError(f"--out {out}: not enough free space: the checkpoints need about "
                         f"{need / 2**20:.1f} MiB, {free / 2**20:.1f} MiB are free")


def save_checkpoint(state, path, metadata=None):
    """``mt.save`` that turns a failed write (disk full, folder removed) into a ``ValueError``
    naming the file; the previous checkpoint is left as it was (the save is atomic)."""
    try:
        mt.save(state, path, metadata=metadata)
    except OSError as e:
        raise ValueError(f"cannot write the checkpoint {path} ({e.strerror or e}); the "
                         "previous checkpoint, if any, is unchanged") from None


def non_finite_parameters(model):
    """The names of ``model``'s parameters that hold a NaN or an Inf."""
    return [name for name, p in model.named_parameters()
            if not bool(p.device.xp.isfinite(p.data).all())]


def diagnose(model, loss_fn, x, y):
    # loss_fn(model, output, x, y): the trainer's loss (a model's own, or the cross-entropy)
    """Why the loss of ``model`` on the batch ``(x, y)`` is not finite: the parameters that
    already are not, or else the op found by replaying forward and backward under anomaly
    mode (no step is taken; the gradients are cleared again)."""
    bad = non_finite_parameters(model)
    if bad:
        return (f"parameters already non-finite: {', '.join(bad[:5])}"
                + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
                + " (an earlier update overflowed; try a lower --lr or --clip-grad-norm)")
    try:
        with mt.autograd.detect_anomaly(), mt.enable_grad():
            loss = loss_fn(model, model(x), x, y)
            loss.backward()
    except mt.autograd.AnomalyError as e:
        return str(e)
    finally:
        for p in model.parameters():
            p.grad = None
    return "the replay under detect_anomaly() found no NaN or Inf (a random op, e.g. dropout?)"
