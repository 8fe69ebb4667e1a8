"""Batch, instance, group and layer normalization: references, gradcheck, kernels, running
statistics, modules and state dicts, bad input, and torch as the oracle."""
import re

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import kernels
from helpers import assert_close, make


def naive(x, axes, weight=None, bias=None, eps=1e-5, affine_shape=None):
    """(x - mean) / sqrt(var + eps) * weight + bias, statistics over ``axes``."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(affine_shape)
    if bias is not None:
        y = y + bias.reshape(affine_shape)
    return y


def channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def data(t):
    return None if t is None else t.numpy()


SHAPES = [(6, 3), (3, 3, 5), (2, 3, 3, 4)]


# --- batch norm -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_forward_and_running_stats(rng, shape, affine):
    x = make(rng, *shape, low=-2, high=4)
    w, b = (make(rng, 3), make(rng, 3)) if affine else (None, None)
    rm, rv = make(rng, 3, requires_grad=False), make(rng, 3, requires_grad=False, low=1, high=2)
    rm0, rv0 = rm.numpy(), rv.numpy()
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3, eps=1e-3)
    axes = (0,) + tuple(range(2, x.ndim))
    assert_close(y, naive(x.numpy(), axes, data(w), data(b), 1e-3, channel_shape(x)))
    m = x.numpy().size // 3
    assert_close(rm, 0.7 * rm0 + 0.3 * x.numpy().mean(axis=axes))
    assert_close(rv, 0.7 * rv0 + 0.3 * x.numpy().var(axis=axes) * m / (m - 1))


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_eval_uses_running_stats(rng, shape):
    x, w, b = make(rng, *shape), make(rng, 3), make(rng, 3)
    rm, rv = make(rng, 3, requires_grad=False), make(rng, 3, requires_grad=False, low=1, high=2)
    before = rm.numpy(), rv.numpy()
    y = F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)
    cs = channel_shape(x)
    expected = (x.numpy() - before[0].reshape(cs)) / np.sqrt(before[1].reshape(cs) + 1e-3)
    assert_close(y, expected * w.numpy().reshape(cs) + b.numpy().reshape(cs))
    assert_close(rm, before[0])
    assert_close(rv, before[1])


def test_batch_norm_without_running_stats_uses_batch_stats(rng):
    x = make(rng, 4, 3, 2, 2)
    assert_close(F.batch_norm(x, None, None, training=False), naive(x.numpy(), (0, 2, 3)))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(rng, shape, training):
    x, w, b = make(rng, *shape), make(rng, 3), make(rng, 3)
    rm, rv = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64) * 1.5
    mt.gradcheck(lambda *t: F.batch_norm(t[0], rm, rv, t[1], t[2], training, 0.0), [x, w, b])


def test_batch_norm_gradcheck_no_affine(rng):
    mt.gradcheck(lambda t: F.batch_norm(t, None, None, training=True), [make(rng, 3, 2, 2, 3)])


def test_batch_norm_float32_large_mean_is_stable(rng):
    raw = 1000.0 + rng.standard_normal((8, 3, 5, 5))
    y = F.batch_norm(mt.tensor(raw.astype(np.float32)), None, None, training=True)
    assert y.dtype == mt.float32
    assert_close(y, naive(raw.astype(np.float32).astype(np.float64), (0, 2, 3)), atol=1e-3)


def test_non_contiguous_inputs(rng):
    x = make(rng, 3, 4, 2, 5).permute(0, 3, 2, 1)  # (3, 5, 2, 4)
    assert_close(F.batch_norm(x, None, None, training=True), naive(x.numpy(), (0, 2, 3)))
    assert_close(F.layer_norm(x, (2, 4)), naive(x.numpy(), (2, 3)))
    mt.gradcheck(lambda t: F.group_norm(t.permute(0, 3, 2, 1), 5), [make(rng, 2, 4, 1, 5)])


# --- instance, group, layer norm --------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 3, 2)])
def test_instance_norm_forward_and_running_stats(rng, shape):
    x, w, b = make(rng, *shape, low=-1, high=3), make(rng, 3), make(rng, 3)
    rm, rv = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64)
    y = F.instance_norm(x, rm, rv, w, b, momentum=0.5)
    axes = tuple(range(2, x.ndim))
    assert_close(y, naive(x.numpy(), axes, w.numpy(), b.numpy(), 1e-5, channel_shape(x)))
    m = x.numpy()[0, 0].size
    assert_close(rm, 0.5 * x.numpy().mean(axis=axes).mean(axis=0))
    assert_close(rv, 0.5 + 0.5 * (x.numpy().var(axis=axes) * m / (m - 1)).mean(axis=0))
    fixed = F.instance_norm(x, rm, rv, use_input_stats=False)
    cs = channel_shape(x)
    assert_close(fixed, (x.numpy() - rm.numpy().reshape(cs)) / np.sqrt(rv.numpy().reshape(cs)
                                                                       + 1e-5))


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_gradcheck(rng, use_input_stats):
    x, w, b = make(rng, 2, 3, 2, 2), make(rng, 3), make(rng, 3)
    rm, rv = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64)
    mt.gradcheck(lambda *t: F.instance_norm(t[0], rm, rv, t[1], t[2], use_input_stats,
                                            momentum=0.0), [x, w, b])


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_norm_forward(rng, groups):
    x, w, b = make(rng, 2, 4, 3, 2, low=-1, high=3), make(rng, 4), make(rng, 4)
    xg = x.numpy().reshape(2, groups, -1)
    expected = naive(xg, (2,)).reshape(x.shape) * w.numpy().reshape(1, 4, 1, 1)
    assert_close(F.group_norm(x, groups, w, b), expected + b.numpy().reshape(1, 4, 1, 1))


@pytest.mark.parametrize("groups,affine", [(1, True), (2, True), (4, False)])
def test_group_norm_gradcheck(rng, groups, affine):
    x = make(rng, 2, 4, 2, 2)
    if affine:
        w, b = make(rng, 4), make(rng, 4)
        mt.gradcheck(lambda *t: F.group_norm(t[0], groups, t[1], t[2]), [x, w, b])
    else:
        mt.gradcheck(lambda t: F.group_norm(t, groups), [x])


@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 4), (3, 4)),
                                              ((2, 2, 3, 3), (3,))])
def test_layer_norm_forward(rng, shape, normalized):
    nshape = (normalized,) if isinstance(normalized, int) else normalized
    x, w, b = make(rng, *shape, low=-1, high=3), make(rng, *nshape), make(rng, *nshape)
    axes = tuple(range(x.ndim - len(nshape), x.ndim))
    assert_close(F.layer_norm(x, normalized, w, b), naive(x.numpy(), axes, w.numpy(), b.numpy(),
                                                          1e-5, nshape))
    assert_close(F.layer_norm(x, normalized), naive(x.numpy(), axes))


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradcheck(rng, affine):
    x = make(rng, 2, 3, 4)
    if affine:
        w, b = make(rng, 3, 4), make(rng, 3, 4)
        mt.gradcheck(lambda *t: F.layer_norm(t[0], (3, 4), t[1], t[2]), [x, w, b])
    else:
        mt.gradcheck(lambda t: F.layer_norm(t, 4), [x])


# --- kernels ----------------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_reference(rng, impl, dtype):
    if impl == "cuda" and not mt.cuda.is_available():
        pytest.skip("no CUDA device or simulator")
    x = (rng.standard_normal((5, 19)) + 3).astype(dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    center, a, b, p, q = rng.standard_normal((5, 5))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    w, bias = rng.standard_normal((2, 19)).astype(dtype)
    mean, invstd = x.mean(axis=1), rng.uniform(0.5, 2, 5)
    cases = {"norm_row_moments": (x,), "norm_row_grad_sums": (gy, x, center),
             "norm_affine": (x, center, a, b), "norm_affine_bwd": (gy, x, center, a, p, q),
             "layer_norm_fwd": (x, w, bias, 1e-3),
             "layer_norm_bwd": (gy, x, mean, invstd, w)}
    xt, gyt = np.ascontiguousarray(x.T), np.ascontiguousarray(gy.T)  # (19, 5): 5 columns
    cases.update({"norm_col_moments": (xt,), "norm_col_grad_sums": (gyt, xt, center),
                  "norm_col_affine": (xt, center, a, b),
                  "norm_col_affine_bwd": (gyt, xt, center, a, p, q)})
    for name, args in cases.items():
        ours, ref = kernels.load(name, impl)(*args), kernels.load(name, "reference")(*args)
        for o, r in zip(ours if isinstance(ours, tuple) else (ours,),
                        ref if isinstance(ref, tuple) else (ref,)):
            assert o.dtype == r.dtype, name
            assert_close(o, r, rtol=tol, atol=tol)


CUDA_CASES = {
    "batch_norm train": lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, True),
    "batch_norm eval": lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b),
    "batch_norm 2-D": lambda x, w, b, rm, rv: F.batch_norm(x.reshape(8, 4), rm, rv, w, b,
                                                           True).reshape(x.shape),
    "instance_norm": lambda x, w, b, rm, rv: F.instance_norm(x, rm, rv, w, b),
    "group_norm": lambda x, w, b, rm, rv: F.group_norm(x, 2, None, b),
    "layer_norm": lambda x, w, b, rm, rv: F.layer_norm(x, 4),
}


@pytest.mark.cudasim
@pytest.mark.parametrize("name", CUDA_CASES)
def test_cuda_device_matches_cpu(rng, name):
    """The op code is shared; on the cuda device (the simulator without a GPU) only the kernels
    differ, so one forward and backward against the CPU's (gradchecked) result suffices."""
    if not mt.cuda.is_available():
        pytest.skip("no CUDA device or simulator")
    arrays = [rng.uniform(-1, 3, (2, 4, 1, 4)), rng.standard_normal(4), rng.standard_normal(4),
              rng.standard_normal(4), rng.uniform(1, 2, 4)]
    gy = rng.standard_normal((2, 4, 1, 4))
    results = []
    for device in ("cpu", "cuda"):
        x, w, b = (mt.tensor(a, device=device, requires_grad=True) for a in arrays[:3])
        rm, rv = (mt.tensor(a, device=device) for a in arrays[3:])
        y = CUDA_CASES[name](x, w, b, rm, rv)
        y.backward(gy)
        results.append([y.numpy(), rm.numpy(), rv.numpy()]
                       + [t.grad.numpy() for t in (x, w, b) if t.grad is not None])
    for ours, ref in zip(*results):
        assert_close(ours, ref, rtol=1e-10, atol=1e-12)


# --- modules ----------------------------------------------------------------------------------
def test_batch_norm_module_running_stats_and_eval(rng):
    bn = mt.nn.BatchNorm2d(3, momentum=None).double()
    batches = [make(rng, 4, 3, 2, 2, low=-1, high=3) for _ in range(3)]
    for x in batches:
        bn(x)
    assert bn.num_batches_tracked.item() == 3
    means = [x.numpy().mean(axis=(0, 2, 3)) for x in batches]
    assert_close(bn.running_mean, np.mean(means, axis=0))  # momentum=None: cumulative average
    bn.eval()
    x = batches[0]
    cs = (1, 3, 1, 1)
    expected = ((x.numpy() - bn.running_mean.numpy().reshape(cs))
                / np.sqrt(bn.running_var.numpy().reshape(cs) + 1e-5))
    assert_close(bn(x), expected)
    assert bn.num_batches_tracked.item() == 3


def test_untracked_batch_norm_uses_batch_stats_in_eval(rng):
    bn = mt.nn.BatchNorm1d(3, affine=False, track_running_stats=False).double().eval()
    assert list(bn.state_dict()) == [] and list(bn.parameters()) == []
    x = make(rng, 5, 3)
    assert_close(bn(x), naive(x.numpy(), (0,)))


MODULES = [("BatchNorm1d", (3,), {}), ("BatchNorm2d", (3,), {}),
           ("BatchNorm2d", (3,), {"affine": False}), ("LayerNorm", ((3, 4),), {}),
           ("LayerNorm", (4,), {"elementwise_affine": False}), ("InstanceNorm2d", (3,), {}),
           ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
           ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}),
           ("GroupNorm", (2, 4), {}), ("LocalResponseNorm", (5,), {})]


@pytest.mark.oracle
@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_state_dict_keys_equal_torch(torch, name, args, kwargs):
    ours = getattr(mt.nn, name)(*args, **kwargs).state_dict()
    theirs = getattr(torch.nn, name)(*args, **kwargs).state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert ours[key].shape == tuple(value.shape), key
        assert_close(ours[key], value.numpy())


def test_bad_input(rng):
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4.*\(N, 4, H, W\).*\(2, 3, 4, 4\)"):
        mt.nn.BatchNorm2d(4)(mt.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4.*\(N, 4\).*\(2, 4, 1, 1\)"):
        mt.nn.BatchNorm1d(4)(mt.randn(2, 4, 1, 1))
    with pytest.raises(ValueError, match=r"batch_norm.*running_mean of shape \(3,\).*\(4,\)"):
        F.batch_norm(mt.randn(2, 3), mt.zeros(4), mt.ones(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(mt.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 4.*\(N, 4, \.\.\.\).*\(2, 6, 2\)"):
        mt.nn.GroupNorm(2, 4)(mt.randn(2, 6, 2))
    with pytest.raises(ValueError, match="num_groups=3 must divide"):
        F.group_norm(mt.randn(2, 4, 2), 3)
    with pytest.raises(ValueError, match="num_groups=3 must divide num_channels=4"):
        mt.nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"layer_norm.*\(\*, 3, 4\).*\(2, 4, 3\)"):
        F.layer_norm(mt.randn(2, 4, 3), (3, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3.*\(N, 3, H, W\).*\(2, 5, 2, 2\)"):
        mt.nn.InstanceNorm2d(3)(mt.randn(2, 5, 2, 2))
    for shape in ((2, 3, 2, 2), (5, 4)):
        message = re.escape("(N, 3, L) or (3, L)") + ".*" + re.escape(str(shape))
        with pytest.raises(ValueError, match=r"InstanceNorm1d\(3.*" + message):
            mt.nn.InstanceNorm1d(3)(mt.randn(*shape))
    with pytest.raises(ValueError, match="use_input_stats=False needs"):
        F.instance_norm(mt.randn(2, 3, 4), use_input_stats=False)


# --- torch as the oracle ----------------------------------------------------------------------
def _torch_pair(torch, array):
    return mt.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


ORACLE = [
    ("batch_norm train 2-D", (6, 3),
     lambda f, x, w, b, rm, rv: f.batch_norm(x, rm, rv, w, b, True)),
    ("batch_norm train 4-D", (4, 3, 5, 5),
     lambda f, x, w, b, rm, rv: f.batch_norm(x, rm, rv, w, b, True, 0.2)),
    ("batch_norm eval", (4, 3, 5), lambda f, x, w, b, rm, rv: f.batch_norm(x, rm, rv, w, b)),
    ("instance_norm", (2, 3, 4, 5), lambda f, x, w, b, rm, rv: f.instance_norm(x, rm, rv, w, b)),
    ("instance_norm 3-D", (2, 3, 7), lambda f, x, w, b, rm, rv: f.instance_norm(x, rm, rv, w, b)),
    ("group_norm", (2, 3, 4, 5), lambda f, x, w, b, rm, rv: f.group_norm(x, 3, w, b)),
    ("layer_norm", (2, 4, 5, 3), lambda f, x, w, b, rm, rv: f.layer_norm(x, (3,), w, b)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name,shape,op", ORACLE, ids=[o[0] for o in ORACLE])
def test_oracle_functional(torch, rng, name, shape, op):
    x, tx = _torch_pair(torch, (rng.standard_normal(shape) * 2 + 1).astype(np.float32))
    w, tw = _torch_pair(torch, rng.standard_normal(3).astype(np.float32))
    b, tb = _torch_pair(torch, rng.standard_normal(3).astype(np.float32))
    stats = rng.standard_normal(3).astype(np.float32), rng.uniform(1, 2, 3).astype(np.float32)
    rm, rv = (mt.tensor(s) for s in stats)
    trm, trv = (torch.tensor(s) for s in stats)
    y = op(F, x, w, b, rm, rv)
    ty = op(torch.nn.functional, tx, tw, tb, trm, trv)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    assert_close(y, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    for ours, theirs in ((x, tx), (w, tw), (b, tb), (rm, trm), (rv, trv)):
        got = ours.grad if ours.requires_grad else ours
        want = theirs.grad if theirs.requires_grad else theirs.detach()
        assert_close(got, want.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.oracle
@pytest.mark.parametrize("momentum", [0.1, None])
def test_oracle_batch_norm_module_training_then_eval(torch, rng, momentum):
    ours = mt.nn.BatchNorm2d(4, momentum=momentum)
    theirs = torch.nn.BatchNorm2d(4, momentum=momentum)
    for _ in range(3):
        array = (rng.standard_normal((5, 4, 3, 3)) * 3 + 2).astype(np.float32)
        x, tx = _torch_pair(torch, array)
        y, ty = ours(x), theirs(tx)
        y.sum().backward()
        ty.sum().backward()
        assert_close(y, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
        assert_close(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        assert_close(value, state[key].numpy(), rtol=1e-5, atol=1e-6)
    ours.eval()
    theirs.eval()
    x, tx = _torch_pair(torch, rng.standard_normal((2, 4, 3, 3)).astype(np.float32))
    assert_close(ours(x), theirs(tx).detach().numpy(), rtol=1e-4, atol=1e-5)
    loaded = mt.nn.BatchNorm2d(4)
    loaded.load_state_dict({k: v.numpy() for k, v in state.items()})
    loaded.eval()
    assert_close(loaded(x), theirs(tx).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (3, 7)), ("InstanceNorm2d", (3, 4, 5))])
def test_instance_norm_takes_unbatched_input(rng, name, shape):
    norm = getattr(mt.nn, name)(3, affine=True, track_running_stats=True).double()
    x = make(rng, *shape)
    y = norm(x)
    assert y.shape == shape
    assert_close(y, naive(x.numpy()[None], tuple(range(2, len(shape) + 1)))[0])
    assert_close(norm.running_mean, 0.1 * x.numpy().reshape(3, -1).mean(axis=1))


@pytest.mark.oracle
@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (2, 3, 7)), ("InstanceNorm1d", (3, 7)),
                                        ("InstanceNorm2d", (2, 3, 4, 5))])
def test_instance_norm_module_equals_torch(torch, rng, name, shape):
    ours = getattr(mt.nn, name)(3, affine=True, track_running_stats=True).double()
    theirs = getattr(torch.nn, name)(3, affine=True, track_running_stats=True).double()
    for training in (True, True, False):
        ours.train(training), theirs.train(training)
        x = rng.standard_normal(shape)
        assert_close(ours(mt.tensor(x)), theirs(torch.tensor(x)).detach().numpy())
    assert_close(ours.running_mean, theirs.running_mean.numpy())
    assert_close(ours.running_var, theirs.running_var.numpy())
