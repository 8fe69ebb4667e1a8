"""The convolution kernels (im2col / col2im, depthwise forward and backward): CPU and CUDA
against the NumPy references, over strides, paddings, dilations and both col layouts."""
import numpy as np
import pytest

from minitorch_cnn import kernels

IMPLEMENTATIONS = ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)]

# (N, C, H, W), (kh, kw), (sy, sx), (ph, pw) top/left padding, (dy, dx), extra bottom/right pad
GEOMETRIES = [
    ((2, 3, 6, 7), (3, 3), (1, 1), (1, 1), (1, 1), (1, 1)),
    ((1, 2, 9, 8), (3, 2), (2, 3), (2, 0), (2, 1), (0, 1)),
    ((2, 2, 7, 7), (1, 1), (1, 1), (0, 0), (1, 1), (0, 0)),
    ((1, 2, 11, 11), (5, 5), (4, 4), (2, 1), (1, 1), (2, 1)),
    ((1, 1, 5, 6), (2, 3), (1, 2), (0, 1), (2, 2), (1, 0)),  # "same"-like asymmetric padding
]


def _out(size, k, s, p, d, extra):
    return (size + p + extra - d * (k - 1) - 1) // s + 1


def _setup(case):
    shape, (kh, kw), (sy, sx), (ph, pw), (dy, dx), (eh, ew) = case
    out = _out(shape[2], kh, sy, ph, dy, eh), _out(shape[3], kw, sx, pw, dx, ew)
    return shape, (kh, kw), out, (sy, sx, ph, pw, dy, dx)


def _col(shape, kernel, out, dtype, kmajor):
    """An empty col (N, C, kh, kw, oh, ow), sample-major or as a view of a K-major buffer."""
    n, c = shape[:2]
    if kmajor:
        return np.empty((c, *kernel, n, *out), dtype).transpose(3, 0, 1, 2, 4, 5)
    return np.empty((n, c, *kernel, *out), dtype)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", GEOMETRIES)
@pytest.mark.parametrize("kmajor", [False, True])
def test_im2col_and_col2im_match_reference(implementation, case, kmajor, rng):
    shape, kernel, out, geometry = _setup(case)
    x = rng.standard_normal(shape)
    expected = _col(shape, kernel, out, x.dtype, False)
    kernels.load("im2col", "reference")(x, expected, *geometry)
    got = _col(shape, kernel, out, x.dtype, kmajor)
    kernels.load("im2col", implementation)(x, got, *geometry)
    np.testing.assert_array_equal(got, expected)

    gcol = _col(shape, kernel, out, x.dtype, kmajor)
    gcol[...] = rng.standard_normal(gcol.shape)
    expected_gx = np.full(shape, np.nan)
    kernels.load("col2im", "reference")(gcol, expected_gx, *geometry)
    gx = np.full(shape, np.nan)  # col2im overwrites, garbage must not leak through
    kernels.load("col2im", implementation)(gcol, gx, *geometry)
    np.testing.assert_allclose(gx, expected_gx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", GEOMETRIES)
def test_reference_col2im_is_the_adjoint_of_im2col(case, rng):
    shape, kernel, out, geometry = _setup(case)
    x = rng.standard_normal(shape)
    col = _col(shape, kernel, out, x.dtype, False)
    kernels.load("im2col", "reference")(x, col, *geometry)
    gcol = rng.standard_normal(col.shape)
    gx = np.empty(shape)
    kernels.load("col2im", "reference")(gcol, gx, *geometry)
    assert np.isclose(np.sum(col * gcol), np.sum(x * gx))


def test_im2col_by_hand():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    col = np.empty((1, 1, 2, 2, 2, 2))
    kernels.load("im2col", "cpu")(x, col, 2, 2, 1, 1, 1, 1)  # 2x2 kernel, stride 2, pad 1
    assert col[0, 0, :, :, 0, 0].tolist() == [[0, 0], [0, 0]]
    assert col[0, 0, :, :, 1, 1].tolist() == [[4, 5], [7, 8]]
    assert col[0, 0, 1, 1].tolist() == [[0, 2], [6, 8]]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", GEOMETRIES[:4])
@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_depthwise_kernels_match_reference(implementation, case, multiplier, dtype, rng):
    shape, kernel, out, geometry = _setup(case)
    n, c = shape[:2]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((c * multiplier, 1, *kernel)).astype(dtype)
    gy = rng.standard_normal((n, c * multiplier, *out)).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for name, inputs, out_shape in [("depthwise_conv2d_fwd", (x, w), gy.shape),
                                    ("depthwise_conv2d_bwd_data", (gy, w), x.shape),
                                    ("depthwise_conv2d_bwd_filter", (x, gy), w.shape)]:
        expected, got = np.full(out_shape, np.nan, dtype), np.full(out_shape, np.nan, dtype)
        kernels.load(name, "reference")(*inputs, expected, *geometry)
        kernels.load(name, implementation)(*inputs, got, *geometry)
        np.testing.assert_allclose(got, expected, err_msg=name, **tol)
