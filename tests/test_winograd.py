"""Winograd F(2x2, 3x3) and F(4x4, 3x3): the transform kernels (CPU and CUDA against the NumPy
reference), forward and input gradient against im2col, the input gradient as the adjoint of
forward, the choice of m, and PyTorch as the oracle."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import kernels
from minitorch_cnn.ops import conv, winograd
from minitorch_cnn.kernels.reference.winograd import MATRICES

IMPLEMENTATIONS = ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)]
CPU = mt.device("cpu")

# (N, C, H, W), O, padding (ph, pw): odd sizes, H and W not multiples of m, batch 1, C = 1,
# O = 1, padding 0..3 (3: the input gradient's padding 2 - 3 is negative, a crop)
CASES = [
    ((1, 2, 5, 6), 3, (1, 1)),
    ((2, 3, 7, 9), 2, (0, 0)),
    ((1, 1, 4, 4), 1, (2, 2)),
    ((2, 4, 11, 8), 5, (1, 0)),
    ((1, 2, 3, 3), 2, (0, 0)),
    ((1, 2, 6, 5), 3, (3, 1)),
    ((3, 1, 9, 10), 1, (1, 2)),
]


def _geometry(shape, padding):
    return conv.conv_geometry("conv2d", shape[2:], (3, 3), (1, 1), padding, (1, 1))


def _tiles(shape, padding, m):
    g = _geometry(shape, padding)
    return -(-g.out_h // m), -(-g.out_w // m), g


# --- the kernels --------------------------------------------------------------------------------
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_kernels_match_reference(implementation, m, dtype, rng):
    shape, o, padding = (1, 2, 5, 6), 3, (1, 2)
    t = m + 2
    tiles_h, tiles_w, g = _tiles(shape, padding, m)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((o, shape[1], 3, 3)).astype(dtype)
    mm = rng.standard_normal((t, t, o, 1, tiles_h, tiles_w)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    rtol = 1e-13 if dtype == np.float64 else 1e-6
    cases = [("winograd_input_transform", (x,), (t, t, 2, 1, tiles_h, tiles_w), (1, 2)),
             ("winograd_filter_transform", (w,), (t, t, o, 2), ()),
             ("winograd_output_transform", (mm,), (1, o, g.out_h, g.out_w), (None,)),
             ("winograd_output_transform", (mm,), (1, o, g.out_h, g.out_w), (b,))]
    for name, inputs, out_shape, params in cases:
        expected = np.full(out_shape, np.nan, dtype)
        kernels.load(name, "reference")(*inputs, expected, *params)
        got = np.full(out_shape, np.nan, dtype)  # every element is written
        kernels.load(name, implementation)(*inputs, got, *params)
        scale = np.abs(expected).max()
        np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * scale, err_msg=name)


@pytest.mark.parametrize("m", [2, 4])
def test_reference_transforms_compute_one_tile_by_hand(m, rng):
    """One tile, no padding: A^T [(G g G^T) . (B^T d B)] A is the 3x3 correlation of d by g."""
    t = m + 2
    bt, g_mat, at = (np.array(a, np.float64) for a in MATRICES[m])
    d, g = rng.standard_normal((t, t)), rng.standard_normal((3, 3))
    direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(m)] for i in range(m)])
    np.testing.assert_allclose(at @ ((g_mat @ g @ g_mat.T) * (bt @ d @ bt.T)) @ at.T, direct,
                               rtol=1e-13, atol=1e-13)
    v = np.empty((t, t, 1, 1, 1, 1))
    kernels.load("winograd_input_transform", "reference")(d.reshape(1, 1, t, t), v, 0, 0)
    u = np.empty((t, t, 1, 1))
    kernels.load("winograd_filter_transform", "reference")(g.reshape(1, 1, 3, 3), u)
    y = np.empty((1, 1, m, m))
    kernels.load("winograd_output_transform", "reference")(u[..., None, None] * v, y, None)
    np.testing.assert_allclose(y[0, 0], direct, rtol=1e-13, atol=1e-13)


def test_transform_kernels_reject_other_tile_sizes():
    v = np.empty((5, 5, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="tiles of size 4"):
        kernels.load("winograd_input_transform", "reference")(np.ones((1, 1, 5, 5)), v, 0, 0)


# --- forward and input gradient against im2col --------------------------------------------------
def _arrays(rng, shape, o, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((o, shape[1], 3, 3)).astype(dtype)
    return x, w, rng.standard_normal(o).astype(dtype)


def _assert_close(got, expected, rtol):
    """Within rtol of the largest magnitude (what error bounds of fast convolutions say)."""
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_forward_and_input_grad_match_im2col(case, dtype, m, rng):
    shape, o, padding = case
    x, w, b = _arrays(rng, shape, o, dtype)
    g = _geometry(shape, padding)
    assert winograd.applicable(w.shape, g, 1)
    rtol = 1e-13 if dtype == np.float64 else 2e-6 if m == 2 else 1e-5
    _assert_close(winograd.forward(x, w, g, m, CPU, b), conv.conv_forward(x, w, 1, g, CPU, b),
                  rtol)
    gy = rng.standard_normal((shape[0], o, g.out_h, g.out_w)).astype(dtype)
    expected, _ = conv.conv_backward(x, w, gy, 1, g, CPU, x.shape, True, False)
    _assert_close(winograd.input_grad(gy, w, g, m, CPU, x.shape), expected, rtol)


@pytest.mark.parametrize("m", [2, 4])
def test_reference_kernels_give_the_same_convolution(m, rng):
    shape, o, padding = CASES[3]
    x, w, b = _arrays(rng, shape, o, np.float64)
    g = _geometry(shape, padding)
    with kernels.use("reference"):
        y = winograd.forward(x, w, g, m, CPU, b)
    _assert_close(y, conv.conv_forward(x, w, 1, g, CPU, b), 1e-13)


@pytest.mark.parametrize("workspace_mib", [256, 1e-5])
def test_batch_chunks_and_threads_agree(workspace_mib, rng):
    """One chunk per sample (a tiny workspace) in the worker threads gives the same result."""
    x, w, b = _arrays(rng, (5, 3, 9, 7), 4, np.float64)
    g = _geometry(x.shape, (1, 1))
    expected = conv.conv_forward(x, w, 1, g, CPU, b)
    with mt.set_workspace_mib(workspace_mib), mt.set_num_threads(2):
        _assert_close(winograd.forward(x, w, g, 4, CPU, b), expected, 1e-13)


@pytest.mark.parametrize("m", [2, 4])
def test_input_grad_is_the_adjoint_of_forward(m, rng):
    """<forward(x), gy> = <x, input_grad(gy)>, in float64, for a padding that crops (3)."""
    for shape, o, padding in (CASES[0], CASES[5]):
        x, w, _ = _arrays(rng, shape, o, np.float64)
        g = _geometry(shape, padding)
        gy = rng.standard_normal((shape[0], o, g.out_h, g.out_w))
        lhs = np.sum(winograd.forward(x, w, g, m, CPU) * gy)
        rhs = np.sum(x * winograd.input_grad(gy, w, g, m, CPU, x.shape))
        assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


@pytest.mark.parametrize("m", [2, 4])
def test_on_every_device(device, m, rng):
    shape, o, padding = CASES[0]
    x, w, b = _arrays(rng, shape, o, np.float64)
    g = _geometry(shape, padding)
    dev = mt.device(device)
    xd, wd, bd = (mt.tensor(a, device=device).data for a in (x, w, b))
    y = winograd.forward(xd, wd, g, m, dev, bd)
    _assert_close(mt.tensor(y, device=device).cpu().numpy(), conv.conv_forward(x, w, 1, g, CPU, b),
                  1e-13)
    gy = rng.standard_normal(y.shape)
    gx = winograd.input_grad(mt.tensor(gy, device=device).data, wd, g, m, dev, x.shape)
    _assert_close(mt.tensor(gx, device=device).cpu().numpy(),
                  conv.conv_backward(x, w, gy, 1, g, CPU, x.shape, True, False)[0], 1e-13)


def test_applicable():
    g = _geometry((1, 2, 8, 8), (1, 1))
    assert winograd.applicable((4, 2, 3, 3), g, 1)
    assert not winograd.applicable((4, 1, 3, 3), g, 2)
    assert not winograd.applicable((4, 2, 5, 5), g, 1)
    assert not winograd.applicable((4, 2, 3, 3), g._replace(sy=2), 1)
    assert not winograd.applicable((4, 2, 3, 3), g._replace(dx=2), 1)


def test_bad_m_is_refused(rng):
    x, w, _ = _arrays(rng, (1, 1, 4, 4), 1, np.float64)
    with pytest.raises(ValueError, match="m must be 2 or 4, got 3"):
        winograd.forward(x, w, _geometry(x.shape, (0, 0)), 3, CPU)


# --- PyTorch as the oracle ----------------------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_torch(torch, m, dtype, rng):
    shape, o, padding = (2, 3, 7, 9), 4, (1, 2)
    x, w, b = _arrays(rng, shape, o, dtype)
    g = _geometry(shape, padding)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, torch.tensor(w), torch.tensor(b), padding=padding)
    gy = rng.standard_normal(ty.shape).astype(dtype)
    ty.backward(torch.tensor(gy))
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    _assert_close(winograd.forward(x, w, g, m, CPU, b), ty.detach().numpy(), rtol)
    _assert_close(winograd.input_grad(gy, w, g, m, CPU, x.shape), tx.grad.numpy(), rtol)


def test_choose_m():
    assert winograd.choose_m((64, 64, 3, 3), (8, 64, 56, 56), np.float32) == 4
    assert winograd.choose_m((128, 128, 3, 3), (1, 128, 28, 28), np.float32) == 4
    assert winograd.choose_m((512, 512, 3, 3), (32, 512, 7, 7), "float32") == 4  # 128 tiles
    assert winograd.choose_m((512, 512, 3, 3), (16, 512, 7, 7), "float32") == 2  # 64 tiles
    assert winograd.choose_m((64, 64, 3, 3), (256, 64, 2, 2), np.float32) == 2  # 1 tile of 36
    assert winograd.choose_m((64, 4096, 3, 3), (8, 4096, 28, 28), np.float32) == 2  # unmeasured
    assert winograd.choose_m((4096, 64, 3, 3), (8, 64, 28, 28), np.float32) == 2  # input grad
    assert winograd.choose_m((64, 4096, 3, 3), (8, 4096, 28, 28), np.float64) == 4
    assert winograd.choose_m((64, 64, 3, 3), (8, 64, 56, 56), np.float16) == 2


def test_empty_batch(rng):
    w = rng.standard_normal((4, 3, 3, 3))
    g = _geometry((0, 3, 5, 5), (1, 1))
    assert winograd.forward(np.empty((0, 3, 5, 5)), w, g, 4, CPU).shape == (0, 4, 5, 5)
    assert winograd.input_grad(np.empty((0, 4, 5, 5)), w, g, 2, CPU, (0, 3, 5, 5)).shape == \
        (0, 3, 5, 5)


class _WinogradConv(mt.Function):
    """A conv2d whose forward and input gradient are Winograd's (the weight gradient im2col's),
    as Conv2dFn would run them: what mt.gradcheck checks below."""

    @staticmethod
    def forward(ctx, x, w, b, geometry, m):
        ctx.save_for_backward(x, w)
        ctx.geometry, ctx.m = geometry, m
        return winograd.forward(x, w, geometry, m, ctx.device, b)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        gx = winograd.input_grad(gy, w, ctx.geometry, ctx.m, ctx.device, x.shape)
        _, gw = conv.conv_backward(x, w, gy, 1, ctx.geometry, ctx.device, x.shape, False, True)
        return gx, gw, gy.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("m", [2, 4])
def test_gradcheck_of_a_winograd_conv(m, rng):
    shape, o, padding = (2, 2, 5, 6), 3, (1, 0)
    x, w, b = (mt.tensor(a, requires_grad=True) for a in _arrays(rng, shape, o, np.float64))
    g = _geometry(shape, padding)
    assert mt.gradcheck(lambda x, w, b: _WinogradConv.apply(x, w, b, geometry=g, m=m), (x, w, b))
