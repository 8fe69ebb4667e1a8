"""Differential fuzzing against PyTorch (float64, forward and input/weight gradients), issue
#21: convolutions, every pooling, LRN and every normalisation in train and eval, on shapes and
parameters drawn by Hypothesis. The bounded "ci" profile runs 25 examples a test;
``pytest --hypothesis-profile=long tests/test_fuzz_layers.py`` runs thousands. A failure it
finds is shrunk to a minimal case, which goes to tests/test_fuzz_regressions.py.

``compare`` returns False for a geometry both libraries refuse (a kernel larger than the padded
input): ``assume`` discards that example, so Hypothesis draws another and its health check
fails a test whose examples are mostly impossible; every other result is asserted."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
torch = pytest.importorskip("torch")

from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fuzz_helpers import compare, values  # noqa: E402

import minitorch_cnn as mt  # noqa: E402
import minitorch_cnn.nn.functional as F  # noqa: E402

pytestmark = pytest.mark.oracle
TF = torch.nn.functional
seeds = st.integers(0, 2 ** 31 - 1)
pairs = st.tuples


def _side(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# --- convolutions -----------------------------------------------------------------------------
@given(n=st.integers(0, 2), groups=st.integers(1, 3), cin=st.integers(1, 3),
       cout=st.integers(1, 3), k=pairs(st.integers(1, 4), st.integers(1, 4)),
       stride=pairs(st.integers(1, 3), st.integers(1, 3)),
       dilation=pairs(st.integers(1, 3), st.integers(1, 3)),
       padding=st.one_of(pairs(st.integers(0, 2), st.integers(0, 2)),
                         st.sampled_from(["same", "valid"])),
       size=pairs(st.integers(1, 9), st.integers(1, 9)), bias=st.booleans(), seed=seeds)
def test_conv2d(n, groups, cin, cout, k, stride, dilation, padding, size, bias, seed):
    if padding == "same":
        stride = (1, 1)
    c, o = cin * groups, cout * groups
    x = values(seed, n, c, *size)
    w = values(seed + 1, o, cin, *k)
    b = values(seed + 2, o) if bias else None
    inputs = [x, w] + ([b] if bias else [])

    def run(f):
        return lambda x, w, b=None: f(x, w, b, stride, padding, dilation, groups)
    assume(compare(torch, run(F.conv2d), run(TF.conv2d), inputs, seed=seed))


@given(n=st.integers(0, 2), groups=st.integers(1, 3), cin=st.integers(1, 3),
       cout=st.integers(1, 3), k=pairs(st.integers(1, 4), st.integers(1, 4)),
       stride=pairs(st.integers(1, 3), st.integers(1, 3)),
       dilation=pairs(st.integers(1, 2), st.integers(1, 2)),
       padding=pairs(st.integers(0, 2), st.integers(0, 2)),
       output_padding=pairs(st.integers(0, 2), st.integers(0, 2)),
       size=pairs(st.integers(1, 6), st.integers(1, 6)), bias=st.booleans(), seed=seeds)
def test_conv_transpose2d(n, groups, cin, cout, k, stride, dilation, padding, output_padding,
                          size, bias, seed):
    c, o = cin * groups, cout * groups
    x = values(seed, n, c, *size)
    w = values(seed + 1, c, cout, *k)
    b = values(seed + 2, o) if bias else None
    inputs = [x, w] + ([b] if bias else [])

    def run(f):
        return lambda x, w, b=None: f(x, w, b, stride, padding, output_padding, groups,
                                      dilation)
    # PyTorch skips its output_padding check for an empty batch; ours checks every batch
    assume(compare(torch, run(F.conv_transpose2d), run(TF.conv_transpose2d), inputs, seed=seed,
            may_reject=lambda y: n == 0))


# --- pooling ----------------------------------------------------------------------------------
windows = dict(k=pairs(st.integers(1, 4), st.integers(1, 4)),
               stride=st.one_of(st.none(), pairs(st.integers(1, 3), st.integers(1, 3))),
               padding=pairs(st.integers(0, 2), st.integers(0, 2)), ceil_mode=st.booleans(),
               size=pairs(st.integers(1, 9), st.integers(1, 9)), batched=st.booleans(),
               seed=seeds)


def _pool_input(seed, batched, size):
    return values(seed, *((seed % 3,) if batched else ()), 3, *size)  # batches of 0, 1, 2


@given(dilation=pairs(st.integers(1, 3), st.integers(1, 3)), **windows)
def test_max_pool2d(k, stride, padding, dilation, ceil_mode, size, batched, seed):
    padding = tuple(min(p, ki // 2) for p, ki in zip(padding, k))

    def run(f):
        return lambda x: f(x, k, stride, padding, dilation, ceil_mode, True)

    def same_indices(ours, theirs):
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    # a dilated window can miss the input entirely: PyTorch gives -inf, an out-of-range index
    # and a gradient at that index (torch 2.13), or for an empty batch nothing; ours refuses
    # the call (a ValueError)
    assume(compare(torch, run(F.max_pool2d), run(TF.max_pool2d), [_pool_input(seed, batched, size)],
            seed=seed, extra=same_indices,
            may_reject=lambda y: y[0].numel() == 0 or bool(torch.isinf(y[0]).any())))


@given(count_include_pad=st.booleans(), divisor=st.one_of(st.none(), st.integers(1, 5)),
       **windows)
def test_avg_pool2d(k, stride, padding, ceil_mode, count_include_pad, divisor, size, batched,
                    seed):
    padding = tuple(min(p, ki // 2) for p, ki in zip(padding, k))

    def run(f):
        return lambda x: f(x, k, stride, padding, ceil_mode, count_include_pad, divisor)
    assume(compare(torch, run(F.avg_pool2d), run(TF.avg_pool2d), [_pool_input(seed, batched, size)],
            seed=seed))


adaptive = dict(out=st.one_of(st.integers(1, 5), pairs(st.one_of(st.none(), st.integers(1, 5)),
                                                       st.integers(1, 5))),
                size=pairs(st.integers(1, 9), st.integers(1, 9)), batched=st.booleans(),
                seed=seeds)


@given(**adaptive)
def test_adaptive_avg_pool2d(out, size, batched, seed):
    assert compare(torch, lambda x: F.adaptive_avg_pool2d(x, out),
            lambda x: TF.adaptive_avg_pool2d(x, out), [_pool_input(seed, batched, size)],
            seed=seed)


@given(**adaptive)
def test_adaptive_max_pool2d(out, size, batched, seed):
    def same_indices(ours, theirs):
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    assert compare(torch, lambda x: F.adaptive_max_pool2d(x, out, True),
            lambda x: TF.adaptive_max_pool2d(x, out, True), [_pool_input(seed, batched, size)],
            seed=seed, extra=same_indices)


@given(k=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1),
       size=pairs(st.integers(2, 8), st.integers(2, 8)), seed=seeds)
def test_max_unpool2d(k, stride, padding, size, seed):
    padding = min(padding, k // 2)
    x = torch.tensor(_pool_input(seed, True, size))
    assume(min(_side(n, k, stride, padding, 1) for n in size) >= 1)
    y, idx = TF.max_pool2d(x, k, stride, padding, return_indices=True)
    # an empty output plane ((H - 1) stride - 2 padding + k = 0): PyTorch ignores the indices,
    # ours rejects them as out of range
    assume(compare(torch, lambda y, i: F.max_unpool2d(y, i, k, stride, padding),
            lambda y, i: TF.max_unpool2d(y, i, k, stride, padding),
            [y.numpy(), idx.numpy()], wrt=[0], seed=seed, may_reject=lambda y: y.numel() == 0))


# --- LRN --------------------------------------------------------------------------------------
@given(size=st.integers(1, 6), alpha=st.floats(1e-4, 2.0), beta=st.floats(0.1, 1.5),
       k=st.floats(0.5, 3.0), channels=st.integers(1, 7), ndim=st.integers(3, 5), seed=seeds)
def test_local_response_norm(size, alpha, beta, k, channels, ndim, seed):
    x = values(seed, 2, channels, *(3,) * (ndim - 2), low=-3, high=3)
    assert compare(torch, lambda x: F.local_response_norm(x, size, alpha, beta, k),
            lambda x: TF.local_response_norm(x, size, alpha, beta, k), [x], seed=seed)


# --- normalisation layers, train and eval -----------------------------------------------------
def _modules_pair(ours, theirs, training):
    """Our module and PyTorch's with the same (random) affine parameters, in ``training``."""
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(p.shape))))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.train(training)
    theirs.train(training)
    return ours, theirs


def _module_compare(ours, theirs, x, seed, steps=2):
    """Two steps (so eval and running statistics both matter), then the buffers."""
    for step in range(steps):
        params = [x] + [p.detach().numpy().copy() for _, p in theirs.named_parameters()]
        names = [n for n, _ in theirs.named_parameters()]

        def mine(x, *ps):
            for n, p in zip(names, ps):
                setattr(ours, n, mt.nn.Parameter(p.data))
            return ours(x)

        def yours(x, *ps):
            for n, p in zip(names, ps):
                setattr(theirs, n, torch.nn.Parameter(p))
            return theirs(x)
        if not compare(torch, mine, yours, params, seed=seed + step):
            return
        for name, buf in theirs.named_buffers():
            np.testing.assert_allclose(getattr(ours, name).numpy(), buf.numpy(), rtol=1e-10,
                                       err_msg=name)


norm_common = dict(training=st.booleans(), affine=st.booleans(), track=st.booleans(),
                   momentum=st.sampled_from([0.1, 0.5, None]), seed=seeds)


@given(layout=st.sampled_from(["1d-2", "1d-3", "2d"]), n=st.integers(0, 4),
       c=st.integers(1, 4), length=st.integers(1, 5), **norm_common)
def test_batch_norm(layout, n, c, length, training, affine, track, momentum, seed):
    shape = {"1d-2": (n, c), "1d-3": (n, c, length), "2d": (n, c, length, 2)}[layout]
    name = "BatchNorm2d" if layout == "2d" else "BatchNorm1d"
    kw = dict(momentum=momentum, affine=affine, track_running_stats=track, dtype=np.float64)
    ours, theirs = _modules_pair(getattr(mt.nn, name)(c, **kw),
                                 getattr(torch.nn, name)(c, **{**kw, "dtype": torch.float64}),
                                 training)
    _module_compare(ours, theirs, values(seed, *shape, low=-2, high=3), seed)


@given(layout=st.sampled_from(["1d", "2d", "1d-unbatched", "2d-unbatched"]),
       n=st.integers(1, 3), c=st.integers(1, 4), length=st.integers(1, 5), **norm_common)
def test_instance_norm(layout, n, c, length, training, affine, track, momentum, seed):
    shape = {"1d": (n, c, length), "2d": (n, c, length, 3), "1d-unbatched": (c, length),
             "2d-unbatched": (c, length, 2)}[layout]
    name = "InstanceNorm2d" if layout.startswith("2d") else "InstanceNorm1d"
    kw = dict(momentum=momentum, affine=affine, track_running_stats=track, dtype=np.float64)
    ours, theirs = _modules_pair(getattr(mt.nn, name)(c, **kw),
                                 getattr(torch.nn, name)(c, **{**kw, "dtype": torch.float64}),
                                 training)
    _module_compare(ours, theirs, values(seed, *shape, low=-2, high=3), seed)


@given(n=st.integers(0, 3), groups=st.integers(1, 3), per_group=st.integers(1, 3),
       rest=st.lists(st.integers(1, 4), max_size=2), affine=st.booleans(), seed=seeds)
def test_group_norm(n, groups, per_group, rest, affine, seed):
    c = groups * per_group
    ours, theirs = _modules_pair(mt.nn.GroupNorm(groups, c, affine=affine, dtype=np.float64),
                                 torch.nn.GroupNorm(groups, c, affine=affine,
                                                    dtype=torch.float64), True)
    _module_compare(ours, theirs, values(seed, n, c, *rest, low=-2, high=3), seed, steps=1)


@given(lead=st.lists(st.integers(0, 3), max_size=2),
       normalized=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       affine=st.booleans(), bias=st.booleans(), seed=seeds)
def test_layer_norm(lead, normalized, affine, bias, seed):
    kw = dict(elementwise_affine=affine, bias=bias)
    ours, theirs = _modules_pair(mt.nn.LayerNorm(normalized, **kw, dtype=np.float64),
                                 torch.nn.LayerNorm(normalized, **kw, dtype=torch.float64),
                                 True)
    _module_compare(ours, theirs, values(seed, *lead, *normalized, low=-2, high=3), seed,
                    steps=1)
