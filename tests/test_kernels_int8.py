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
    ((1, 2, 8, 9), (3, 2), (1, 1), (2, 1), (2, 3)),  # stride 1, dilated: kmajor's row pitch
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
@pytest.mark.parametrize("m,k,o", [(1, 1, 1), (7, 25, 6), (9, 300, 5), (4, 16, 3),
                                   (600, 20, 9), (300, 70, 130)])
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


@pytest.mark.parametrize("m,k,o", [(1, 16, 1), (5, 32, 3), (38, 576, 9), (9, 2304, 64)])
def test_avx2_gemm_matches_reference_at_the_extremes(m, k, o, rng):
    """The blocked GEMM of CPUs without VNNI (four activation rows by two weight rows per
    ``vpmaddwd`` step): rows left over at the end of M and O, and the largest products."""
    from minitorch_cnn.kernels.cpu import int8 as cpu_int8
    if not cpu_int8.AVX2:
        pytest.skip("this CPU has no AVX2")
    a = rng.integers(-128, 128, (m, k)).astype(np.int16)
    w = rng.integers(-127, 128, (o, k)).astype(np.int16)
    a[0], w[0] = -128, -127  # the largest sum a dot product can reach
    bias = rng.integers(-5000, 5000, o).astype(np.int32)
    w_sums = w.astype(np.int32).sum(1).astype(np.int32)
    multiplier = rng.uniform(0.5, 2.0, o) * 40 / (128 * 128 * np.sqrt(k))  # outputs ~ +-40
    for relu in (False, True):
        y, expected = np.zeros((m, o), np.int8), np.zeros((m, o), np.int8)
        cpu_int8._gemm_avx2(a, w, bias, w_sums, 5, multiplier, -3, relu, y)
        kernels.load("int8_gemm_requant", "reference")(a, w, bias, w_sums, 5, multiplier, -3,
                                                       relu, expected)
        np.testing.assert_array_equal(y, expected)
        assert relu or m * o < 8 or len(np.unique(y)) > 8  # inside int8, not all clipped


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


# --- the int8-to-int8 chain: channels-last patches, pooling and the residual add ------------
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_int8_im2col_nhwc_matches_reference(implementation, case, dtype, rng):
    shape, (kh, kw), (sy, sx), (ph, pw), (dy, dx) = case
    x = rng.integers(-128, 128, shape).astype(np.int8)  # (N, C, H, W)
    oh = (shape[2] + 2 * ph - dy * (kh - 1) - 1) // sy + 1
    ow = (shape[3] + 2 * pw - dx * (kw - 1) - 1) // sx + 1
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    out = {}
    for impl in ("reference", implementation):
        cols = np.full((shape[0], oh, ow, kh, kw, shape[1]), 99, dtype)
        kernels.load("int8_im2col_nhwc", impl)(nhwc, cols, sy, sx, ph, pw, dy, dx, -7)
        out[impl] = cols
    np.testing.assert_array_equal(out[implementation], out["reference"])
    nchw = np.zeros((shape[0], oh, ow, shape[1], kh, kw), dtype)  # the same patches
    kernels.load("int8_im2col", "reference")(x, nchw, sy, sx, ph, pw, dy, dx, -7)
    np.testing.assert_array_equal(out["reference"], nchw.transpose(0, 1, 2, 4, 5, 3))


# (N, H, W, C), (kh, kw), (sy, sx), (ph, pw), (dy, dx)
POOLS = [((2, 6, 7, 3), (2, 2), (2, 2), (0, 0), (1, 1)),
         ((1, 7, 7, 5), (3, 3), (2, 2), (1, 1), (1, 1)),
         ((2, 8, 6, 2), (3, 2), (1, 2), (1, 1), (2, 1))]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", POOLS)
def test_int8_max_pool2d_nhwc_matches_reference_and_float(implementation, case, rng):
    shape, (kh, kw), (sy, sx), (ph, pw), (dy, dx) = case
    x = rng.integers(-128, 128, shape).astype(np.int8)
    oh = (shape[1] + 2 * ph - dy * (kh - 1) - 1) // sy + 1
    ow = (shape[2] + 2 * pw - dx * (kw - 1) - 1) // sx + 1
    out = {}
    for impl in ("reference", implementation):
        y = np.zeros((shape[0], oh, ow, shape[3]), np.int8)
        kernels.load("int8_max_pool2d_nhwc", impl)(x, y, kh, kw, sy, sx, ph, pw, dy, dx)
        out[impl] = y
    np.testing.assert_array_equal(out[implementation], out["reference"])
    import minitorch_cnn as mt
    xf = mt.tensor(x.transpose(0, 3, 1, 2).astype(np.float32))
    pooled = mt.nn.functional.max_pool2d(xf, (kh, kw), (sy, sx), (ph, pw), (dy, dx)).numpy()
    np.testing.assert_array_equal(out["reference"].transpose(0, 3, 1, 2), pooled)


def _avg_bounds(n_in, n_out, k, s, p):
    lo = np.arange(n_out, dtype=np.int64) * s - p
    return lo, lo + k


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("include_pad", [True, False])
def test_int8_avg_pool_nhwc_matches_reference_and_rounds_the_mean(implementation, include_pad,
                                                                  rng):
    x = rng.integers(-128, 128, (2, 7, 6, 3)).astype(np.int8)
    rows, cols = _avg_bounds(7, 4, 3, 2, 1), _avg_bounds(6, 3, 3, 2, 1)
    divisor = 9 if include_pad else 0
    out = {}
    for impl in ("reference", implementation):
        y = np.zeros((2, 4, 3, 3), np.int8)
        kernels.load("int8_avg_pool_nhwc", impl)(x, y, *rows, *cols, divisor, -5)
        out[impl] = y
    np.testing.assert_array_equal(out[implementation], out["reference"])
    import minitorch_cnn as mt
    real = mt.tensor((x.transpose(0, 3, 1, 2).astype(np.float64) + 5))  # the values, z = -5
    mean = mt.nn.functional.avg_pool2d(real, 3, 2, 1, count_include_pad=include_pad).numpy()
    np.testing.assert_array_equal(out["reference"].transpose(0, 3, 1, 2),
                                  np.floor(mean + 0.5) - 5)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_int8_adaptive_avg_pool_bins(implementation, rng):
    x = rng.integers(-128, 128, (1, 5, 7, 4)).astype(np.int8)
    bins = [(np.floor(np.arange(o) * n / o).astype(np.int64),
             np.ceil((np.arange(o) + 1) * n / o).astype(np.int64)) for n, o in ((5, 2), (7, 3))]
    out = {}
    for impl in ("reference", implementation):
        y = np.zeros((1, 2, 3, 4), np.int8)
        kernels.load("int8_avg_pool_nhwc", impl)(x, y, *bins[0], *bins[1], 0, 0)
        out[impl] = y
    np.testing.assert_array_equal(out[implementation], out["reference"])
    first = x[0, 0:3, 0:3].astype(np.int64).sum(axis=(0, 1))  # bins [0, 3) x [0, 3)
    np.testing.assert_array_equal(out["reference"][0, 0, 0], np.floor(first / 9 + 0.5))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("relu", [False, True])
def test_int8_add_requant_matches_reference(implementation, relu, rng):
    a = rng.integers(-128, 128, (2, 3, 4, 5)).astype(np.int8)
    b = rng.integers(-128, 128, (2, 3, 4, 5)).astype(np.int8)
    shift = 24
    sa, sb, so = 0.02, 0.05, 0.04
    am, bm = round(sa / so * 2 ** shift), round(sb / so * 2 ** shift)
    out = {}
    for impl in ("reference", implementation):
        y = np.zeros(a.shape, np.int8)
        kernels.load("int8_add_requant", impl)(a, b, 3, -4, am, bm, shift, -10, relu, y)
        out[impl] = y
    np.testing.assert_array_equal(out[implementation], out["reference"])
    real = (a.astype(np.float64) - 3) * sa + (b.astype(np.float64) - -4) * sb
    expected = np.clip(np.floor(real / so + 0.5) - 10, -10 if relu else -128, 127)
    assert np.abs(out["reference"] - expected).max() <= 1  # fixed point: at most a tie off
    assert (out["reference"] == expected).mean() > 0.95



@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", GEOMETRIES)
@pytest.mark.parametrize("relu", [False, True])
def test_int8_conv2d_kmajor_is_im2col_plus_gemm(implementation, case, relu, rng):
    (n, c, h, w), (kh, kw), (sy, sx), (ph, pw), (dy, dx) = case
    oh = (h + 2 * ph - dy * (kh - 1) - 1) // sy + 1
    ow = (w + 2 * pw - dx * (kw - 1) - 1) // sx + 1
    o, k = 5, c * kh * kw
    x = rng.integers(-128, 128, (n, c, h, w)).astype(np.int8)
    wq = np.zeros((o, k + 3), np.int16)  # rows may run past K (zeros), as quantize_int8's
    wq[:, :k] = rng.integers(-127, 128, (o, k))
    bias = rng.integers(-5000, 5000, o).astype(np.int32)
    w_sums = wq.astype(np.int32).sum(1).astype(np.int32)
    multiplier = rng.uniform(1e-4, 2e-2, o)
    out = {}
    for impl in ("reference", implementation):
        y = np.zeros((n, oh, ow, o), np.int8)
        kernels.load("int8_conv2d_kmajor", impl)(x, wq, kh, kw, sy, sx, ph, pw, dy, dx, bias,
                                                 w_sums, 4, multiplier, -2, relu, y)
        out[impl] = y
    np.testing.assert_array_equal(out[implementation], out["reference"])
    cols = np.zeros((n, oh, ow, c, kh, kw), np.int16)
    kernels.load("int8_im2col", "cpu")(x, cols, sy, sx, ph, pw, dy, dx, 4)
    gemm = np.zeros((n * oh * ow, o), np.int8)
    kernels.load("int8_gemm_requant", "cpu")(cols.reshape(n * oh * ow, -1),
                                             np.ascontiguousarray(wq[:, :k]), bias, w_sums, 4,
                                             multiplier, -2, relu, gemm)
    np.testing.assert_array_equal(out["reference"].reshape(-1, o), gemm)


@pytest.mark.parametrize("implementation", ["reference"] + IMPLEMENTATIONS)
@pytest.mark.parametrize("k", [25, 64, 147, 300])
@pytest.mark.parametrize("relu", [False, True])
def test_int8_gemm_in_each_implementations_operand_layout(implementation, k, relu, rng):
    """Each implementation's GEMM on the operands it asks for (``int8_gemm_operand``: on a
    CPU with VNNI u8 codes + 128, s8 weights, K padded to 64s) gives the reference's int8."""
    m, o = 37, 9
    codes = rng.integers(-128, 128, (m, k)).astype(np.int8)
    w = rng.integers(-127, 128, (o, k)).astype(np.int8)
    bias = rng.integers(-5000, 5000, o).astype(np.int32)
    w_sums = w.astype(np.int32).sum(1).astype(np.int32)
    multiplier = rng.uniform(1e-4, 2e-2, o)
    a_dtype, w_dtype, k_pad, offset = kernels.load("int8_gemm_operand", implementation)(k)
    assert k_pad >= k and offset in (0, 128)
    a = np.zeros((m, k_pad), a_dtype)
    a[:, :k] = codes.astype(np.int16) + offset
    wp = np.zeros((o, k_pad), w_dtype)
    wp[:, :k] = w
    y, expected = np.zeros((m, o), np.int8), np.zeros((m, o), np.int8)
    kernels.load("int8_gemm_requant", implementation)(a, wp, bias, w_sums, 5 + offset,
                                                      multiplier, -3, relu, y)
    kernels.load("int8_gemm_requant", "reference")(codes.astype(np.int16), w.astype(np.int16),
                                                   bias, w_sums, 5, multiplier, -3, relu,
                                                   expected)
    np.testing.assert_array_equal(y, expected)
