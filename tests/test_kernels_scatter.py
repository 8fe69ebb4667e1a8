"""The scatter-add kernel (the backward of integer indexing): CPU and CUDA against the NumPy
reference, with repeated indices."""
import numpy as np
import pytest

from minitorch_cnn import kernels

IMPLEMENTATIONS = ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_add_matches_reference(implementation, dtype, rng):
    index = rng.integers(0, 7, 50)
    src = rng.standard_normal(50).astype(dtype)
    expected = np.zeros(7, dtype)
    kernels.load("scatter_add", "reference")(expected, index, src)
    out = np.zeros(7, dtype)
    kernels.load("scatter_add", implementation)(out, index, src)
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(expected, np.bincount(index, src, 7), rtol=1e-5)


def test_empty_index_is_a_no_op():
    out = np.ones(3)
    for implementation in ("reference", "cpu", "cuda"):
        kernels.load("scatter_add", implementation)(out, np.zeros(0, np.int64), np.zeros(0))
    np.testing.assert_array_equal(out, 1.0)


def test_registry_errors_and_reference_switch():
    with pytest.raises(KeyError, match="no kernel named"):
        kernels.load("nope", "cpu")
    with pytest.raises(ValueError, match="implementation must be one of"):
        kernels.load("scatter_add", "tpu")
    assert kernels.implementation_for("cuda") == "cuda"
    with kernels.use("reference"):
        assert kernels.get("scatter_add", "cpu") is kernels.load("scatter_add", "reference")
    assert kernels.get("scatter_add", "cpu") is kernels.load("scatter_add", "cpu")
    with pytest.raises(ValueError, match="expected 'reference' or 'default'"):
        kernels.use("fast")


def test_every_registered_kernel_exists_in_all_three_implementations():
    for name in kernels.FAMILIES:
        fns = [kernels.load(name, impl) for impl in kernels.IMPLEMENTATIONS]
        assert all(callable(f) for f in fns), name


@pytest.mark.parametrize("user_setting", [None, "ACTIVE"])
def test_cpu_thread_start_leaves_the_wait_policy_as_it_found_it(user_setting):
    # OMP_WAIT_POLICY is PASSIVE only while Numba's OpenMP loads (kernels/cpu/__init__.py)
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if user_setting:
        env["OMP_WAIT_POLICY"] = user_setting
    code = ("import os, numpy as np\n"
            "from minitorch_cnn import kernels\n"
            "kernels.load('relu_fwd', 'cpu')(np.ones(4, np.float32))\n"
            "print(os.environ.get('OMP_WAIT_POLICY'))\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == str(user_setting)
