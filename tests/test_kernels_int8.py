"""The int8 inference kernels (im2col with zero-point padding, int8 GEMM with int32
accumulation and fused requantization / ReLU): CPU and CUDA (simulator) bit for bit against
the NumPy references."""
import numpy as np
import pytest

from minitorch_cnn import kernels

IMPLEMENTATIONS = ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)]

# (N, C, H, W), (kh, kw), (sy, sx), (ph, pw), (dy, dx)
GEOMETRIES = [
    ((2, 3, 6, 7), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 2, 9, 8), (3, 2), (2, 3), (2, 0), (2, 1)),
    ((2, 1, 5, 5), (1, 1), (1, 1), (0, 0), (1, 1)),
]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_int8_im2col_matches_reference(implementation, case, dtype, rng):
    shape, (kh, kw), (sy, sx), (ph, pw), (dy, dx) = case
    x = rng.integers(-128, 128, shape).astype(np.int8)
    oh = (shape[2] + 2 * ph - dy * (kh - 1) - 1) // sy + 1
    ow = (shape[3] + 2 * pw - dx * (kw - 1) - 1) // sx + 1
    out = {}
    for impl in ("reference", implementation):
        cols = np.full((shape[0], oh, ow, shape[1], kh, kw), 99, dtype)
        kernels.load("int8_im2col", impl)(x, cols, sy, sx, ph, pw, dy, dx, -7)
        out[impl] = cols
    np.testing.assert_array_equal(out[implementation], out["reference"])
    if ph:  # the padding holds the zero point
        assert out["reference"][0, 0, 0, 0, 0, 0] == -7


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("m,k,o", [(1, 1, 1), (7, 25, 6), (9, 300, 5), (4, 16, 3)])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_int8_gemm_requant_matches_reference(implementation, m, k, o, relu, dtype, rng):
    a = rng.integers(-128, 128, (m, k)).astype(dtype)
    w = rng.integers(-127, 128, (o, k)).astype(dtype)
    bias = rng.integers(-5000, 5000, o).astype(np.int32)
    w_sums = w.astype(np.int32).sum(1).astype(np.int32)
    multiplier = rng.uniform(1e-4, 2e-2, o)
    out = {}
    for impl in ("reference", implementation):
        y = np.zeros((m, o), np.int8)
        kernels.load("int8_gemm_requant", impl)(a, w, bias, w_sums, 5, multiplier, -3, relu, y)
        out[impl] = y
    np.testing.assert_array_equal(out[implementation], out["reference"])
    acc = (a.astype(np.int64) @ w.astype(np.int64).T + bias - 5 * w_sums)
    expected = np.clip(np.floor(acc * multiplier + 0.5) - 3, -3 if relu else -128, 127)
    np.testing.assert_array_equal(out["reference"], expected)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_int8_quantize_matches_reference(implementation, rng):
    x = (rng.standard_normal((3, 4, 5)) * 3).astype(np.float32)
    x.reshape(-1)[:4] = [0.25, -0.25, 1e6, -1e6]  # ties at +-0.5 (exact) and both clamps
    out = {}
    for impl in ("reference", implementation):
        q = np.zeros(x.shape, np.int8)
        kernels.load("int8_quantize", impl)(x, 0.5, -3, q)
        out[impl] = q
    np.testing.assert_array_equal(out[implementation], out["reference"])
    assert out["reference"].reshape(-1)[:4].tolist() == [-2, -3, 127, -128]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_int8_dequantize_nchw_matches_reference(implementation, rng):
    q = rng.integers(-128, 128, (2, 3, 4, 5)).astype(np.int8)
    out = {}
    for impl in ("reference", implementation):
        y = np.zeros((2, 5, 3, 4), np.float32)
        kernels.load("int8_dequantize_nchw", impl)(q, 0.037, -11, y)
        out[impl] = y
    np.testing.assert_array_equal(out[implementation], out["reference"])
    assert out["reference"][1, 2, 0, 3] == np.float32(q[1, 0, 3, 2] + 11) * np.float32(0.037)
