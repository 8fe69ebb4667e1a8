"""Activations: naive references, gradcheck, stability, channel shuffle, modules, torch oracle."""
import math
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from helpers import assert_close, make


def _elementwise(f):
    """A naive reference: ``f`` applied to each element with Python's math."""
    return lambda a, **kw: np.array([f(float(v), **kw) for v in a.ravel()]).reshape(a.shape)


def _softmax_ref(a, dim, log=False):
    out = np.empty_like(a)
    moved, dst = np.moveaxis(a, dim, -1), np.moveaxis(out, dim, -1)
    for idx in np.ndindex(moved.shape[:-1]):
        row = moved[idx]
        m = max(row)
        total = sum(math.exp(v - m) for v in row)
        dst[idx] = [(v - m - math.log(total)) if log else math.exp(v - m) / total for v in row]
    return out


NAIVE = {
    "relu": (F.relu, _elementwise(lambda v: max(v, 0.0)), {}),
    "leaky_relu": (F.leaky_relu, _elementwise(lambda v, negative_slope: v if v > 0 else
                                              negative_slope * v), {"negative_slope": 0.2}),
    "elu": (F.elu, _elementwise(lambda v, alpha: v if v > 0 else alpha * (math.exp(v) - 1)),
            {"alpha": 1.5}),
    "relu6": (F.relu6, _elementwise(lambda v: min(max(v, 0.0), 6.0)), {}),
    "sigmoid": (F.sigmoid, _elementwise(lambda v: 1 / (1 + math.exp(-v))), {}),
    "tanh": (F.tanh, _elementwise(math.tanh), {}),
    "softmax": (F.softmax, lambda a, dim: _softmax_ref(a, dim), {"dim": 1}),
    "log_softmax": (F.log_softmax, lambda a, dim: _softmax_ref(a, dim, log=True), {"dim": -1}),
}


@pytest.mark.parametrize("name", sorted(NAIVE))
def test_forward_matches_naive(name, device, rng):
    fn, ref, kw = NAIVE[name]
    x = make(rng, 2, 3, 4, device=device, low=-8, high=8)
    y = fn(x, **kw)
    assert y.device == x.device and y.shape == x.shape
    assert_close(y, ref(x.numpy(), **kw), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(NAIVE))
def test_backward_on_each_device_matches_cpu(name, device, rng):
    fn, _, kw = NAIVE[name]
    data, gy = rng.uniform(-3, 3, (2, 3, 4)), rng.standard_normal((2, 3, 4))
    grads = []
    for dev in ("cpu", device):
        x = mt.tensor(data, device=dev, requires_grad=True)
        fn(x, **kw).backward(mt.tensor(gy, device=dev))
        assert x.grad.device == x.device
        grads.append(x.grad.numpy())
    assert_close(grads[1], grads[0], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(NAIVE))
def test_gradcheck(name, rng):
    fn, _, kw = NAIVE[name]
    x = make(rng, 2, 3, 4, low=-2, high=8 if name == "relu6" else 2)
    mt.gradcheck(lambda t: fn(t, **kw), [x])


@pytest.mark.parametrize("name", sorted(NAIVE))
def test_non_contiguous_input(name, rng):
    fn, ref, kw = NAIVE[name]
    base = make(rng, 4, 3, 2, low=-3, high=3)
    x = base.permute(2, 1, 0)  # a strided view
    assert not x.data.flags.c_contiguous
    assert_close(fn(x, **kw), ref(np.ascontiguousarray(x.numpy()), **kw), rtol=1e-12)
    mt.gradcheck(lambda t: fn(t.permute(2, 1, 0), **kw), [base])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_dims_gradcheck(dim, rng):
    x = make(rng, 2, 3, 4)
    mt.gradcheck(lambda t: F.softmax(t, dim), [x])
    mt.gradcheck(lambda t: F.log_softmax(t, dim), [x])
    assert_close(F.softmax(x, dim).numpy().sum(axis=dim), np.ones(np.delete(x.shape, dim)))


@pytest.mark.parametrize("slope", [-0.5, 0.0, 0.2, 1.0, 1.5])
def test_leaky_relu_any_slope(slope, rng):
    x = make(rng, 3, 5)
    expected = np.where(x.numpy() > 0, x.numpy(), slope * x.numpy())
    assert_close(F.leaky_relu(x, slope), expected, rtol=0, atol=0)  # exact
    mt.gradcheck(lambda t: F.leaky_relu(t, slope), [x])
    F.leaky_relu(x, slope).backward(mt.ones(3, 5, dtype=np.float64))
    assert_close(x.grad, np.where(x.numpy() > 0, 1.0, slope), rtol=0, atol=0)


def test_float32_stays_float32(rng):
    x = make(rng, 3, 4, dtype=np.float32)
    for name, (fn, _, kw) in NAIVE.items():
        y = fn(x, **kw)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32, name


def test_float16_uses_the_numpy_path(rng):
    x = make(rng, 3, 4, dtype=np.float16)
    for fn in (F.relu, F.leaky_relu):
        y = fn(x)
        y.backward(mt.ones(3, 4, dtype=np.float16))
        xn = x.numpy()
        assert y.dtype == np.float16
        assert_close(y, np.where(xn > 0, xn, xn * (0.01 if fn is F.leaky_relu else 0)))
        x.grad = None


def test_gradient_at_kinks_as_pytorch():
    x = mt.tensor([0.0, 6.0, -1.0, 3.0], dtype=np.float64, requires_grad=True)
    F.relu(x).sum().backward()
    assert_close(x.grad, [0, 1, 0, 1])
    x.grad = None
    F.relu6(x).sum().backward()
    assert_close(x.grad, [0, 0, 0, 1])
    x.grad = None
    F.elu(x, alpha=2.0).sum().backward()
    assert_close(x.grad, [2, 1, 2 * math.exp(-1), 1])


def test_stable_for_huge_logits():
    x = mt.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or divide warnings either
        p = F.softmax(x, dim=1)
        lp = F.log_softmax(x, dim=1)
        s = F.sigmoid(x)
        (p.sum() + lp.sum() + s.sum()).backward()
    assert_close(p, [[1, 0, 0], [1 / 3] * 3], atol=1e-7)
    assert_close(lp, [[0, -1e4, -2e4], [-math.log(3)] * 3], rtol=1e-6)
    assert_close(s, [[1, 0.5, 0], [1, 1, 1]])
    assert np.isfinite(x.grad.numpy()).all()


def test_softmax_implicit_dim_and_bad_dim(rng):
    x = make(rng, 2, 3)
    assert_close(F.softmax(x), F.softmax(x, 1).numpy())
    with pytest.raises(ValueError, match="softmax: dim 2 is out of range .*\\(2, 3\\)"):
        F.softmax(x, 2)
    with pytest.raises(ValueError, match="log_softmax: dim -3"):
        F.log_softmax(x, -3)


# --- kernels -------------------------------------------------------------------------------------
KERNEL_ARGS = {"relu_fwd": lambda x, g: (x,), "relu_bwd": lambda x, g: (g, np.maximum(x, 0)),
               "relu6_fwd": lambda x, g: (x * 4,),
               "relu6_bwd": lambda x, g: (g, np.clip(x * 4, 0, 6)),
               "leaky_relu_fwd": lambda x, g: (x, 0.1), "leaky_relu_bwd": lambda x, g: (g, x, 0.1)}


@pytest.mark.parametrize("impl", ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(KERNEL_ARGS))
def test_kernels_match_reference(name, dtype, impl, rng):
    if impl == "cuda" and not mt.cuda.is_available():
        pytest.skip("no CUDA device or simulator")
    x = rng.standard_normal((3, 5, 7)).astype(dtype)
    x.ravel()[:6] = [0.0, -0.0, np.nan, -np.inf, 1.5, np.inf]  # (relu6 gets 4 x: 6 exactly)
    g = rng.standard_normal(x.shape).astype(dtype)
    args = KERNEL_ARGS[name](x, g)
    expected = mt.kernels.load(name, "reference")(*args)
    out = mt.kernels.load(name, impl)(*args)
    assert out.dtype == dtype and out.shape == x.shape
    np.testing.assert_array_equal(out, expected)
    empty = KERNEL_ARGS[name](x[:0], g[:0])
    assert mt.kernels.load(name, impl)(*empty).shape == (0, 5, 7)


# --- channel shuffle -----------------------------------------------------------------------------
def _shuffle_ref(a, groups):
    n, c = a.shape[:2]
    out = np.empty_like(a)
    per = c // groups
    for g in range(groups):
        for k in range(per):
            out[:, k * groups + g] = a[:, g * per + k]
    return out


@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 2), 3), ((2, 6, 3, 2), 2), ((1, 8, 5), 4),
                                          ((2, 4, 1, 2), 1), ((1, 4, 2, 2), 4)])
def test_channel_shuffle(shape, groups, device, rng):
    x = make(rng, *shape, device=device)
    assert_close(F.channel_shuffle(x, groups), _shuffle_ref(x.numpy(), groups))
    assert_close(nn.ChannelShuffle(groups)(x), _shuffle_ref(x.numpy(), groups))


def test_channel_shuffle_gradcheck(rng):
    x = make(rng, 2, 6, 2, 2)
    mt.gradcheck(lambda t: F.channel_shuffle(t, 3), [x])
    mt.gradcheck(lambda t: F.channel_shuffle(t.permute(0, 1, 3, 2), 2), [x])


def test_channel_shuffle_errors(rng):
    with pytest.raises(ValueError, match="channel_shuffle: groups=4 .* channel count 6"):
        F.channel_shuffle(make(rng, 1, 6, 2, 2), 4)
    with pytest.raises(ValueError, match="channel_shuffle: groups=0"):
        F.channel_shuffle(make(rng, 1, 6, 2, 2), 0)
    with pytest.raises(ValueError, match="more than 2 dimensions, got \\(2, 6\\)"):
        F.channel_shuffle(make(rng, 2, 6), 2)


# --- modules -------------------------------------------------------------------------------------
def test_modules_match_functional_and_repr(rng):
    x = make(rng, 2, 6, 2, 2)
    cases = [(nn.ReLU(), F.relu(x), "ReLU()"),
             (nn.ReLU(inplace=True), F.relu(x), "ReLU(inplace=True)"),
             (nn.LeakyReLU(0.1), F.leaky_relu(x, 0.1), "LeakyReLU(negative_slope=0.1)"),
             (nn.ELU(), F.elu(x), "ELU(alpha=1.0)"),
             (nn.ReLU6(), F.relu6(x), "ReLU6()"),
             (nn.Sigmoid(), F.sigmoid(x), "Sigmoid()"),
             (nn.Tanh(), F.tanh(x), "Tanh()"),
             (nn.Softmax(dim=1), F.softmax(x, 1), "Softmax(dim=1)"),
             (nn.LogSoftmax(dim=-1), F.log_softmax(x, -1), "LogSoftmax(dim=-1)"),
             (nn.ChannelShuffle(3), F.channel_shuffle(x, 3), "ChannelShuffle(groups=3)")]
    for module, expected, text in cases:
        assert_close(module(x), expected.numpy())
        assert repr(module) == text
        assert list(module.parameters()) == [] and module.state_dict() == {}


def test_inplace_returns_a_new_tensor(rng):
    x = make(rng, 3, 4, requires_grad=False)
    before = x.numpy()
    y = F.relu(x, inplace=True)
    assert y is not x
    assert_close(x, before)


# --- oracle --------------------------------------------------------------------------------------
def _check_oracle(torch, ours, theirs, x, rtol=1e-5, atol=1e-6):
    """Forward and backward (against a random upstream gradient) of ours and torch's."""
    a = mt.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    y, ref = ours(a), theirs(b)
    gy = np.random.default_rng(1).standard_normal(ref.shape).astype(x.dtype)
    y.backward(mt.tensor(gy))
    ref.backward(torch.tensor(gy))
    assert_close(y, ref.detach().numpy(), rtol=rtol, atol=atol)
    assert_close(a.grad, b.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.oracle
def test_oracle_activations(torch, rng):
    tf = torch.nn.functional
    x = rng.uniform(-8, 8, (4, 6, 5, 3)).astype(np.float32)
    _check_oracle(torch, F.relu, tf.relu, x)
    _check_oracle(torch, lambda t: F.leaky_relu(t, 0.2), lambda t: tf.leaky_relu(t, 0.2), x)
    _check_oracle(torch, lambda t: F.elu(t, 0.7), lambda t: tf.elu(t, 0.7), x)
    _check_oracle(torch, F.relu6, tf.relu6, x)
    _check_oracle(torch, F.sigmoid, torch.sigmoid, x)
    _check_oracle(torch, F.tanh, torch.tanh, x)
    for dim in (1, -1, 0):
        _check_oracle(torch, lambda t: F.softmax(t, dim), lambda t: tf.softmax(t, dim), x)
        _check_oracle(torch, lambda t: F.log_softmax(t, dim), lambda t: tf.log_softmax(t, dim), x)
    _check_oracle(torch, lambda t: F.channel_shuffle(t, 3), lambda t: tf.channel_shuffle(t, 3), x)
    big = np.array([[1e4, -1e4, 0.0], [3e4, 3e4, -5.0]], np.float32)
    _check_oracle(torch, lambda t: F.log_softmax(t, 1), lambda t: tf.log_softmax(t, 1), big)
    _check_oracle(torch, lambda t: F.softmax(t, 1), lambda t: tf.softmax(t, 1), big)
    _check_oracle(torch, F.sigmoid, torch.sigmoid, big * 1e-2)
