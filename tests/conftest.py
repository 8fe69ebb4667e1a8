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

# Hypothesis profiles (the differential fuzzing against PyTorch, tests/test_fuzz_*.py): "ci",
# the default, a bounded 25 examples per test; ``pytest --hypothesis-profile=long`` thousands.
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the test extra is not installed: the fuzz suites skip themselves
    pass
else:
    _relaxed = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.filter_too_much])
    settings.register_profile("ci", max_examples=25, derandomize=True, **_relaxed)
    settings.register_profile("long", max_examples=2000, **_relaxed)
    settings.load_profile("ci")

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


def pytest_addoption(parser):
    parser.addoption("--conv-algorithm", default=None,
                     help="run every test with this convolution algorithm wherever it applies "
                          "(im2col, winograd2, winograd4): the oracle tests of each")


@pytest.fixture(autouse=True)
def _conv_algorithm(request):
    name = request.config.getoption("--conv-algorithm")
    if name is None:
        yield
        return
    from minitorch_cnn.ops import conv_algorithms
    with conv_algorithms.force(name):
        yield
