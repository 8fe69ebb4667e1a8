"""Test set-up: CUDA kernels run on Numba's simulator unless a real GPU is asked for.

``NUMBA_ENABLE_CUDASIM`` must be set before numba is first imported, so it is set here, at the
top of the first file pytest loads. On a GPU machine, run ``NUMBA_ENABLE_CUDASIM=0 pytest`` to
test the CUDA kernels on the GPU itself (with CuPy installed).
"""
import os

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minitorch_cnn as mt  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if mt.cuda.is_available() else [])


def device_params():
    """The devices as pytest params; the cuda one is marked ``cudasim`` (select with -m)."""
    return [pytest.param(d, marks=pytest.mark.cudasim) if d == "cuda" else d for d in DEVICES]


@pytest.fixture(params=device_params())
def device(request):
    return request.param


@pytest.fixture
def torch():
    """PyTorch as an oracle; the test is skipped where it is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    mt.manual_seed(0)
