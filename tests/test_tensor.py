"""Tensor creation, attributes, conversion, devices and random seeding."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minitorch_cnn as mt
from helpers import assert_close


def test_tensor_copies_and_keeps_or_defaults_its_dtype():
    a = np.arange(6.0).reshape(2, 3)
    t = mt.tensor(a)
    a[0, 0] = 100.0
    assert t.dtype == mt.float64 and t.numpy()[0, 0] == 0.0  # copied, float64 arrays stay
    assert mt.tensor([1.0, 2.0]).dtype == mt.float32  # Python floats give float32
    assert mt.tensor([1, 2]).dtype.kind == "i"
    assert mt.tensor([1, 2], dtype=mt.float64).dtype == mt.float64
    assert mt.tensor(3.5).item() == 3.5 and mt.tensor(3.5).ndim == 0


def test_attributes_and_conversion():
    t = mt.arange(6, dtype=mt.float32).reshape(2, 3)
    assert t.shape == (2, 3) and t.ndim == 2 and t.numel() == 6 and len(t) == 2
    assert isinstance(t.data, np.ndarray) and t.device == mt.Device("cpu")
    host = t.numpy()
    host[0, 0] = 7.0
    assert t.numpy()[0, 0] == 0.0  # numpy() is a copy
    assert t.to(mt.float64).dtype == mt.float64 and t.double().float().dtype == mt.float32
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    assert "tensor(" in repr(t)


@pytest.mark.parametrize("make", [
    lambda **k: mt.zeros(2, 3, **k), lambda **k: mt.ones((2, 3), **k),
    lambda **k: mt.full((2, 3), 1.5, **k), lambda **k: mt.empty(2, 3, **k),
    lambda **k: mt.rand(2, 3, **k), lambda **k: mt.randn(2, 3, **k),
    lambda **k: mt.zeros_like(mt.ones(2, 3), **k), lambda **k: mt.ones_like(mt.ones(2, 3), **k),
    lambda **k: mt.full_like(mt.ones(2, 3), 2.0, **k), lambda **k: mt.rand_like(mt.ones(2, 3), **k),
    lambda **k: mt.randn_like(mt.ones(2, 3), **k), lambda **k: mt.empty_like(mt.ones(2, 3), **k),
])
def test_creation_takes_dtype_and_device(make, device):
    t = make(dtype=mt.float64, device=device)
    assert t.shape == (2, 3) and t.dtype == mt.float64 and t.device == mt.Device(device)
    assert make().dtype == mt.float32


def test_arange_and_randint():
    assert_close(mt.arange(1, 7, 2), [1, 3, 5])
    assert mt.arange(3).dtype == np.int64 and mt.arange(0.0, 1.0, 0.25).dtype == mt.float32
    r = mt.randint(0, 5, (100,))
    assert r.dtype == np.int64 and 0 <= r.numpy().min() and r.numpy().max() < 5


def test_manual_seed_makes_draws_reproducible(device):
    mt.manual_seed(123)
    a = mt.randn(5, device=device).numpy()
    b = mt.rand(3, device=device).numpy()
    mt.manual_seed(123)
    assert_close(mt.randn(5, device=device), a, rtol=0)
    assert_close(mt.rand(3, device=device), b, rtol=0)
    state = mt.get_rng_state()
    c = mt.randn(4, device=device).numpy()
    mt.set_rng_state(state)
    assert_close(mt.randn(4, device=device), c, rtol=0)


def test_devices_parse_and_compare():
    assert mt.Device("cuda:1") == mt.Device("cuda", 1) and mt.Device("cuda").index == 0
    assert mt.Device("cpu") == "cpu" and str(mt.Device("cuda")) == "cuda:0"
    with pytest.raises(ValueError, match="unknown device type"):
        mt.Device("tpu")


def test_moving_between_devices_is_differentiable(device):
    x = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    y = x.to(device)
    assert y.device == mt.Device(device)
    (y * y).sum().backward()
    assert x.grad.device == mt.Device("cpu")
    assert_close(x.grad, [2.0, 4.0])
    assert mt.gradcheck(lambda x: (x.to(device) * 3.0).cpu(), x)


def test_cuda_without_cupy_or_simulator_says_how_to_install():
    code = ("import minitorch_cnn as mt\n"
            "assert not mt.cuda.is_available()\n"
            "try:\n    mt.zeros(2, device='cuda')\n"
            "except RuntimeError as e:\n    print(e)\n")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert "pip install" in out and "cupy" in out.lower()


def test_setitem_writes_data_but_not_into_the_graph():
    x = mt.zeros(3)
    x[1] = 5.0
    assert_close(x, [0.0, 5.0, 0.0])
    w = mt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        w[0] = 1.0


def test_dtype_casts_are_differentiable():
    x = mt.tensor([1.0, 2.0], dtype=mt.float32, requires_grad=True)
    y = x.double() * mt.tensor([3.0, 4.0], dtype=mt.float64)
    assert y.dtype == mt.float64
    y.sum().backward()
    assert x.grad.dtype == mt.float32
    assert_close(x.grad, [3.0, 4.0])
