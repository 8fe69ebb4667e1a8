"""Pooling: max, average, adaptive, unpooling and spatial pyramid pooling."""
import math

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import kernels, nn
from minitorch_cnn.kernels.cpu import pool as cpu_pool
from minitorch_cnn.kernels.cuda import pool as cuda_pool
from minitorch_cnn.kernels.reference import pool as ref_pool
from helpers import assert_close, make


# --- naive loops: the expectations --------------------------------------------------------------
def out_size(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def naive_max_pool(x, k, s, p, d=(1, 1), ceil_mode=False):
    n, c, h, w = x.shape
    oh, ow = (out_size(*a, ceil_mode) for a in zip((h, w), k, s, p, d))
    y, idx = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    best, where = -np.inf, None
                    for a in range(k[0]):
                        for e in range(k[1]):
                            r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + e * d[1]
                            inside = 0 <= r < h and 0 <= q < w
                            if inside and (where is None or x[b, ch, r, q] > best):
                                best, where = x[b, ch, r, q], r * w + q
                    y[b, ch, i, j], idx[b, ch, i, j] = best, where
    return y, idx


def naive_avg_pool(x, k, s, p, ceil_mode=False, count_include_pad=True, divisor=None):
    n, c, h, w = x.shape
    oh, ow = (out_size(*a, 1, ceil_mode) for a in zip((h, w), k, s, p))
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])
            padded = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            count = divisor or (padded if count_include_pad else (r1 - r0) * (q1 - q0))
            y[:, :, i, j] = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3)) / count
    return y


def naive_adaptive(x, out, reduce):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + out)
    for i in range(out[0]):
        for j in range(out[1]):
            r0, r1 = i * h // out[0], math.ceil((i + 1) * h / out[0])
            q0, q1 = j * w // out[1], math.ceil((j + 1) * w / out[1])
            y[:, :, i, j] = reduce(x[:, :, r0:r1, q0:q1], axis=(2, 3))
    return y


def naive_depthwise_conv(x, kernel, p):
    """The same 2-D kernel on every channel, stride = kernel size, zero padding p."""
    kh, kw = kernel.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (xp.shape[2] - kh) // kh + 1, (xp.shape[3] - kw) // kw + 1
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for e in range(kw):
                    y[:, :, i, j] += kernel[a, e] * xp[:, :, i * kh + a, j * kw + e]
    return y


def pairs(*values):
    return tuple((v, v) if isinstance(v, int) else v for v in values)


MAX_CASES = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (3, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 2, 0, 1, True),
    ((2, 3), (1, 2), (1, 0), 1, False), (3, 1, 1, 2, False), ((3, 2), 2, 1, (2, 1), True),
    (5, 4, 2, 1, True), (1, 1, 0, 1, False),
]
AVG_CASES = [  # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, True, True, None),
    (3, 2, 1, True, False, None), ((2, 3), (3, 1), (1, 0), False, False, None),
    (3, 2, 1, False, True, 4), (3, 1, 1, False, True, None), (5, 4, 2, True, True, None),
]


# --- forward against the naive loops -----------------------------------------------------------
@pytest.mark.parametrize("k, s, p, d, ceil_mode", MAX_CASES)
def test_max_pool2d_forward(rng, device, k, s, p, d, ceil_mode):
    x = make(rng, 2, 3, 9, 11, device=device)
    y, idx = F.max_pool2d(x, k, s, p, d, ceil_mode, return_indices=True)
    ks, ss, ps, ds = pairs(k, s or k, p, d)
    expect_y, expect_idx = naive_max_pool(x.numpy(), ks, ss, ps, ds, ceil_mode)
    assert_close(y, expect_y)
    assert idx.dtype == mt.int64 and np.array_equal(idx.numpy(), expect_idx)


@pytest.mark.parametrize("k, s, p, ceil_mode, include, divisor", AVG_CASES)
def test_avg_pool2d_forward(rng, device, k, s, p, ceil_mode, include, divisor):
    x = make(rng, 2, 3, 9, 11, device=device)
    y = F.avg_pool2d(x, k, s, p, ceil_mode, include, divisor)
    ks, ss, ps = pairs(k, s or k, p)
    assert_close(y, naive_avg_pool(x.numpy(), ks, ss, ps, ceil_mode, include, divisor))


@pytest.mark.parametrize("size, out", [((8, 8), (4, 4)), ((7, 9), (3, 4)), ((5, 5), (7, 3)),
                                       ((6, 7), (1, 1)), ((6, 7), (None, 2)), ((6, 7), 3)])
def test_adaptive_pools_forward(rng, device, size, out):
    x = make(rng, 2, 3, *size, device=device)
    full = tuple(n if o is None else o for o, n in zip(pairs(out)[0], size))
    assert_close(F.adaptive_avg_pool2d(x, out), naive_adaptive(x.numpy(), full, np.mean))
    y, idx = F.adaptive_max_pool2d(x, out, return_indices=True)
    assert_close(y, naive_adaptive(x.numpy(), full, np.max))
    flat = x.numpy().reshape(2, 3, -1)
    assert_close(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2),
                 y.numpy().reshape(2, 3, -1))


def test_max_unpool2d_forward(rng, device):
    x = make(rng, 2, 3, 3, 4, device=device)
    idx = mt.tensor(rng.permutation(6 * 8)[:12].reshape(1, 1, 3, 4).repeat(2, 0).repeat(3, 1),
                    device=device)
    y = F.max_unpool2d(x, idx, 3, 2, 1, output_size=(6, 8))  # the default is 5 x 7
    expect = np.zeros((2, 3, 6 * 8))
    np.put_along_axis(expect, idx.numpy().reshape(2, 3, -1), x.numpy().reshape(2, 3, -1), 2)
    assert_close(y, expect.reshape(2, 3, 6, 8))
    small = mt.tensor(idx.numpy() % 35, device=device)
    assert F.max_unpool2d(x, small, 3, 2, 1).shape == (2, 3, 5, 7)


def test_spatial_pyramid_pool2d(rng, device):
    for size in ((13, 13), (7, 10), (3, 2)):
        x = make(rng, 2, 3, *size, device=device)
        y = F.spatial_pyramid_pool2d(x, (1, 2, 4))
        assert y.shape == (2, 3 * 21)
        parts = [naive_adaptive(x.numpy(), (lv, lv), np.max).reshape(2, -1) for lv in (1, 2, 4)]
        assert_close(y, np.concatenate(parts, axis=1))
    avg = F.spatial_pyramid_pool2d(x, (1, 3), mode="avg")
    parts = [naive_adaptive(x.numpy(), (lv, lv), np.mean).reshape(2, -1) for lv in (1, 3)]
    assert_close(avg, np.concatenate(parts, axis=1))


def test_alexnet_pool_shapes():
    x = mt.zeros(1, 96, 55, 55)
    for size in (27, 13, 6):  # AlexNet's three overlapping pools (its convs keep the size)
        x = F.max_pool2d(x, 3, 2)
        assert x.shape == (1, 96, size, size)
    assert F.max_pool2d(mt.zeros(1, 64, 112, 112), 3, 2, ceil_mode=True).shape[2:] == (56, 56)


# --- gradients ---------------------------------------------------------------------------------
@pytest.mark.parametrize("k, s, p, d, ceil_mode", MAX_CASES)
def test_max_pool2d_gradcheck(rng, k, s, p, d, ceil_mode):
    x = make(rng, 1, 2, 7, 8)
    assert mt.gradcheck(lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode), [x])


@pytest.mark.parametrize("k, s, p, ceil_mode, include, divisor", AVG_CASES)
def test_avg_pool2d_gradcheck(rng, k, s, p, ceil_mode, include, divisor):
    x = make(rng, 1, 2, 7, 8)
    assert mt.gradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil_mode, include, divisor), [x])


@pytest.mark.parametrize("size, out", [((6, 6), (3, 2)), ((7, 5), (3, 4)), ((4, 5), (6, 7)),
                                       ((5, 6), 1)])
def test_adaptive_pools_gradcheck(rng, size, out):
    x = make(rng, 1, 2, *size)
    assert mt.gradcheck(lambda x: F.adaptive_avg_pool2d(x, out), [x])
    assert mt.gradcheck(lambda x: F.adaptive_max_pool2d(x, out), [x])


def test_max_unpool2d_and_spp_gradcheck(rng):
    x = make(rng, 1, 2, 7, 9)
    _, idx = F.max_pool2d(x, 2, return_indices=True)  # no overlap: indices are distinct
    y = make(rng, *idx.shape)
    assert mt.gradcheck(lambda y: F.max_unpool2d(y, idx, 2, output_size=(7, 9)), [y])
    assert mt.gradcheck(lambda x: F.spatial_pyramid_pool2d(x, (1, 2, 3)), [x])
    assert mt.gradcheck(lambda x: F.spatial_pyramid_pool2d(x, (1, 2, 4), "avg"), [x])


def test_gradcheck_on_each_device(rng, device):
    x = make(rng, 1, 1, 4, 3, device=device)  # tiny: the simulator runs each thread in Python
    assert mt.gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [x])
    assert mt.gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), [x])


def test_max_pool_gradient_goes_to_the_recorded_argmax():
    x = mt.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)  # every element ties
    F.max_pool2d(x, 2, 1).sum().backward()
    assert_close(x.grad, [[[[1, 1, 0], [1, 1, 0], [0, 0, 0]]]])  # first of each window


def test_non_contiguous_and_unbatched(rng):
    x = make(rng, 2, 3, 8, 9).permute(0, 1, 3, 2)
    y, idx = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert_close(y, naive_max_pool(x.numpy(), (3, 3), (2, 2), (1, 1))[0])
    assert_close(F.avg_pool2d(x, 2), naive_avg_pool(x.numpy(), (2, 2), (2, 2), (0, 0)))
    assert_close(F.adaptive_avg_pool2d(x, (3, 2)), naive_adaptive(x.numpy(), (3, 2), np.mean))
    assert mt.gradcheck(lambda x: F.max_pool2d(x, 2), [make(rng, 1, 2, 6, 5).permute(0, 1, 3, 2)])
    single = x[0]
    assert F.max_pool2d(single, 3, 2, 1).shape == y.shape[1:]
    assert_close(F.avg_pool2d(single, 2), F.avg_pool2d(x, 2)[0].numpy())
    up = F.max_unpool2d(y[0], idx[0], 3, 2, 1, output_size=(9, 8))
    assert_close(up, F.max_unpool2d(y, idx, 3, 2, 1, output_size=(9, 8))[0].numpy())


# --- metamorphic ---------------------------------------------------------------------------------
@pytest.mark.parametrize("k, p", [(2, 0), (3, 1), ((2, 3), 1)])
def test_avg_pool_is_a_conv_with_a_constant_kernel(rng, k, p):
    x = make(rng, 2, 3, 8, 9)
    kernel = np.full(pairs(k)[0], 1.0 / np.prod(pairs(k)[0]))
    assert_close(F.avg_pool2d(x, k, padding=p), naive_depthwise_conv(x.numpy(), kernel, p))


def test_max_pool_indices_and_unpool_round_trip(rng, device):
    x = make(rng, 2, 3, 8, 10, device=device, low=0.1)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    up = F.max_unpool2d(y, idx, 2)
    mask = np.zeros(x.shape, bool)
    np.put_along_axis(mask.reshape(2, 3, -1), idx.numpy().reshape(2, 3, -1), True, 2)
    assert_close(up, np.where(mask, x.numpy(), 0.0))  # the maxima back in place, zeros elsewhere
    assert_close(F.max_pool2d(up, 2), y.numpy())  # pooling again gives the same maxima


# --- kernels: cpu and cuda against the reference -------------------------------------------------
@pytest.mark.parametrize("impl", [cpu_pool, pytest.param(cuda_pool, marks=pytest.mark.cudasim)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_kernels_match_reference(rng, impl, dtype):
    if impl is cuda_pool and not mt.cuda.is_available():
        pytest.skip("no cuda device")
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    for args in [(3, 3, 2, 2, 1, 1, 1, 1, 4, 3), (2, 3, 1, 2, 1, 0, 2, 1, 6, 2)]:
        y, idx = impl.max_pool2d_fwd(x, *args)
        ry, ridx = ref_pool.max_pool2d_fwd(x, *args)
        assert_close(y, ry)
        np.testing.assert_array_equal(idx, ridx)
        gy = rng.standard_normal(y.shape).astype(dtype)
        assert_close(impl.max_pool2d_bwd(gy, ridx, 7, 6), ref_pool.max_pool2d_bwd(gy, ridx, 7, 6))
        up = impl.max_unpool2d_fwd(gy, ridx, 7, 6)
        assert_close(up, ref_pool.max_unpool2d_fwd(gy, ridx, 7, 6))
        assert_close(impl.max_unpool2d_bwd(x, ridx), ref_pool.max_unpool2d_bwd(x, ridx))
    for args in [(3, 3, 2, 2, 1, 1, 4, 4, True, 0), (3, 2, 2, 1, 1, 1, 4, 6, False, 0),
                 (2, 2, 2, 2, 1, 0, 4, 3, True, 3)]:
        y = impl.avg_pool2d_fwd(x, *args)
        assert_close(y, ref_pool.avg_pool2d_fwd(x, *args), rtol=1e-5, atol=1e-6)
        gy = rng.standard_normal(y.shape).astype(dtype)
        bwd_args = (7, 6, *args[:6], *args[8:])
        assert_close(impl.avg_pool2d_bwd(gy, *bwd_args), ref_pool.avg_pool2d_bwd(gy, *bwd_args),
                     rtol=1e-5, atol=1e-6)



@pytest.mark.parametrize("size, out", [((7, 6), (3, 3)), ((7, 6), (4, 3)), ((8, 9), (4, 4))])
def test_cpu_2x2_pool_kernel_matches_reference(rng, size, out):
    # MaxPool2d(2) has its own CPU kernel; (4, 3) of 7 rows is ceil_mode's partial window
    x = rng.integers(-2, 3, (2, 3, *size)).astype(np.float32)  # many ties
    x[0, 0, 0, 1], x[1, 2, 2, 2], x[0, 1, :2, :2] = np.nan, np.nan, -np.inf
    args = (2, 2, 2, 2, 0, 0, 1, 1, *out)
    y, idx = cpu_pool.max_pool2d_fwd(x, *args)
    ry, ridx = ref_pool.max_pool2d_fwd(x, *args)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)

@pytest.mark.parametrize("args", [
    (3, 3, 1, 1, 1, 1, 1, 1, 7, 6),  # Inception's 3x3/1 p1
    (3, 3, 2, 1, 0, 1, 1, 1, 3, 6),  # row stride 2, column stride 1
    (2, 4, 1, 1, 1, 2, 1, 1, 8, 7),  # even kernel with padding: more outputs than columns
    (3, 2, 1, 1, 1, 1, 2, 3, 5, 5),  # dilated
    (1, 6, 1, 1, 0, 0, 1, 1, 7, 1),  # a window as wide as the row: no interior column
])
def test_cpu_stride1_pool_kernel_matches_reference(rng, args):
    # column stride 1 has its own (separable) CPU kernel
    x = rng.integers(-2, 3, (2, 3, 7, 6)).astype(np.float32)  # many ties
    x[0, 0, 0, 1], x[1, 2, 2, 2], x[1, 2, 2, 4], x[0, 1, :2, :2] = np.nan, np.nan, np.nan, -np.inf
    y, idx = cpu_pool.max_pool2d_fwd(x, *args)
    ry, ridx = ref_pool.max_pool2d_fwd(x, *args)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)


def test_nan_wins_the_max_as_in_pytorch():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    for impl in (ref_pool, cpu_pool):
        y, idx = impl.max_pool2d_fwd(x, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1)
        assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 1


def test_reference_kernels_drive_the_ops(rng):
    x = make(rng, 1, 2, 6, 7)
    with kernels.use("reference"):
        assert kernels.implementation_for("cpu") == "reference"
        assert mt.gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [x])
        assert mt.gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [x])
    assert kernels.implementation_for("cpu") == "cpu"


# --- modules -------------------------------------------------------------------------------------
def test_modules(rng):
    x = make(rng, 2, 3, 9, 9)
    assert_close(nn.MaxPool2d(3, 2, ceil_mode=True)(x),
                 F.max_pool2d(x, 3, 2, ceil_mode=True).numpy())
    assert_close(nn.AvgPool2d(2, count_include_pad=False)(x), F.avg_pool2d(x, 2).numpy())
    assert nn.AdaptiveAvgPool2d((None, 3))(x).shape == (2, 3, 9, 3)
    y, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 2, 2)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    y, idx = pool(x)
    assert unpool(y, idx, output_size=x.shape).shape == x.shape
    spp = nn.SpatialPyramidPooling2d()
    assert spp(x).shape == (2, spp.output_features(3)) == (2, 63)
    assert "kernel_size=3" in repr(nn.MaxPool2d(3)) and not list(nn.MaxPool2d(3).parameters())


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda x: F.max_pool2d(x[0, 0], 2), "max_pool2d: expected a 3-D"),
    (lambda x: F.max_pool2d(x, 2, padding=2), "at most half"),
    (lambda x: F.max_pool2d(x, 9), "too small"),
    (lambda x: F.max_pool2d(x, 2, stride=0), "stride must be at least 1"),
    (lambda x: F.max_pool2d(x, 2, 1, 1, 5), "too small"),  # a dilated window misses the input
    (lambda x: F.max_pool2d(x, 3, 1, 2, 2), "at most half"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor_override"),
    (lambda x: F.avg_pool2d(x, (2, 2, 2)), "kernel_size"),
    (lambda x: F.adaptive_avg_pool2d(x, 0), "output_size"),
    (lambda x: F.adaptive_max_pool2d(x, (1, 2, 3)), "output_size"),
    (lambda x: F.max_unpool2d(x, mt.zeros(1, 2, 3, 3, dtype=mt.int64), 2), "indices"),
    (lambda x: F.max_unpool2d(x, mt.zeros(*x.shape, dtype=mt.int64), 2, output_size=(16, 8)),
     "output_size"),
    (lambda x: F.max_unpool2d(x, mt.full(x.shape, 99, dtype=mt.int64), 2), "indices must lie"),
    (lambda x: F.spatial_pyramid_pool2d(x, (1, 2), mode="sum"), "mode"),
    (lambda x: F.spatial_pyramid_pool2d(x[0], (1, 2)), "4-D"),
])
def test_bad_input(call, message):
    x = mt.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match=message):
        call(x)


def test_bad_types():
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(mt.zeros(1, 2, 4, 4), 2.5)
    with pytest.raises(TypeError, match="Tensor"):
        F.avg_pool2d(np.zeros((1, 2, 4, 4)), 2)


# --- oracle: PyTorch -----------------------------------------------------------------------------
def _oracle(torch, rng, ours, theirs, shape=(2, 3, 9, 11), outputs=1):
    xn = rng.standard_normal(shape).astype(np.float32)
    x, tx = mt.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    y, ty = (y, ty) if outputs == 1 else (y[0], ty[0])
    g = rng.standard_normal(ty.shape).astype(np.float32)
    (y * mt.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    assert_close(y, ty.detach().numpy(), rtol=1e-4, atol=1e-6)
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.oracle
@pytest.mark.parametrize("k, s, p, d, ceil_mode", MAX_CASES)
def test_oracle_max_pool2d(torch, rng, k, s, p, d, ceil_mode):
    args = (k, s, p, d, ceil_mode, True)
    _oracle(torch, rng, lambda x: F.max_pool2d(x, *args),
            lambda x: torch.nn.functional.max_pool2d(x, *args), outputs=2)
    xn = rng.standard_normal((2, 3, 9, 11)).astype(np.float32)
    ours = F.max_pool2d(mt.tensor(xn), *args)[1].numpy()
    assert np.array_equal(ours, torch.nn.functional.max_pool2d(torch.tensor(xn), *args)[1])


@pytest.mark.oracle
@pytest.mark.parametrize("k, s, p, ceil_mode, include, divisor", AVG_CASES)
def test_oracle_avg_pool2d(torch, rng, k, s, p, ceil_mode, include, divisor):
    args = (k, s, p, ceil_mode, include, divisor)
    _oracle(torch, rng, lambda x: F.avg_pool2d(x, *args),
            lambda x: torch.nn.functional.avg_pool2d(x, *args))


@pytest.mark.oracle
@pytest.mark.parametrize("out", [(4, 5), (3, 4), (7, 13), 1, (None, 2)])
def test_oracle_adaptive_pools(torch, rng, out):
    _oracle(torch, rng, lambda x: F.adaptive_avg_pool2d(x, out),
            lambda x: torch.nn.functional.adaptive_avg_pool2d(x, out))
    _oracle(torch, rng, lambda x: F.adaptive_max_pool2d(x, out, True),
            lambda x: torch.nn.functional.adaptive_max_pool2d(x, out, True), outputs=2)
    xn = rng.standard_normal((2, 3, 9, 11)).astype(np.float32)
    ours = F.adaptive_max_pool2d(mt.tensor(xn), out, True)[1].numpy()
    assert np.array_equal(ours, torch.nn.functional.adaptive_max_pool2d(torch.tensor(xn), out,
                                                                          True)[1])


@pytest.mark.oracle
@pytest.mark.parametrize("k, s, p, shape, size", [
    (2, None, 0, (8, 10), None), (2, None, 0, (9, 11), (9, 11)), (3, 2, 1, (9, 11), (9, 11)),
    (3, 2, 1, (9, 11), (2, 3, 10, 12))])
def test_oracle_max_unpool2d(torch, rng, k, s, p, shape, size):
    xn = rng.standard_normal((2, 3) + shape).astype(np.float32)
    y, idx = torch.nn.functional.max_pool2d(torch.tensor(xn), k, s, p, return_indices=True)
    ours_idx = mt.tensor(idx.numpy())
    _oracle(torch, rng, lambda v: F.max_unpool2d(v, ours_idx, k, s, p, size),
            lambda v: torch.nn.functional.max_unpool2d(v, idx, k, s, p, size), shape=y.shape)
