"""Helpers shared by the tests."""
import numpy as np

import minitorch_cnn as mt


def make(rng, *shape, device="cpu", dtype=np.float64, requires_grad=True, low=-1.0, high=1.0):
    """A random tensor of ``shape`` (float64 by default, as gradcheck wants)."""
    data = rng.uniform(low, high, shape).astype(dtype)
    return mt.tensor(data, device=device, requires_grad=requires_grad)


def assert_close(actual, expected, rtol=1e-6, atol=1e-8):
    """Compare a Tensor or array with an expected array."""
    actual = actual.numpy() if isinstance(actual, mt.Tensor) else np.asarray(actual)
    np.testing.assert_allclose(actual, np.asarray(expected), rtol=rtol, atol=atol)


def n_params(model, skip=None):
    """The number of parameters of ``model``, leaving out those whose name starts with ``skip``."""
    return sum(p.numel() for k, p in model.named_parameters()
               if skip is None or not k.startswith(skip))


def assert_all_gradients(model):
    """Every parameter of ``model`` received a finite gradient."""
    missing = [k for k, p in model.named_parameters()
               if p.grad is None or not np.isfinite(p.grad.numpy()).all()]
    assert not missing, f"no (finite) gradient for {missing}"


def interrupt_training_epoch(monkeypatch, train_module, at=2):
    """Make ``train_module.run_epoch`` raise KeyboardInterrupt (Ctrl-C) when the ``at``-th
    training epoch starts; returns the real ``run_epoch``."""
    real, calls = train_module.run_epoch, []

    def interrupted(model, loader, device, opt=None, desc="", **kw):
        if opt is not None:
            calls.append(1)
            if len(calls) == at:
                raise KeyboardInterrupt
        return real(model, loader, device, opt, desc, **kw)
    monkeypatch.setattr(train_module, "run_epoch", interrupted)
    return real
