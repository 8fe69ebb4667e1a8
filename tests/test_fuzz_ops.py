"""Differential fuzzing against PyTorch (float64, forward and gradients), issue #21: losses with
every reduction, weights and ignore_index; activations; reductions; shape ops and broadcasting
arithmetic. Shapes include 0-d tensors and zero-size dimensions (issue #24: degenerate but
legal inputs give PyTorch's result, not an error). Profiles as in tests/test_fuzz_layers.py."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
torch = pytest.importorskip("torch")

from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from fuzz_helpers import compare, values  # noqa: E402

import minitorch_cnn as mt  # noqa: E402
import minitorch_cnn.nn.functional as F  # noqa: E402

pytestmark = pytest.mark.oracle
TF = torch.nn.functional
seeds = st.integers(0, 2 ** 31 - 1)
reductions = st.sampled_from(["mean", "sum", "none"])
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


# --- losses -----------------------------------------------------------------------------------
@given(n=st.integers(0, 4), c=st.integers(1, 4), extra=st.lists(st.integers(0, 3), max_size=2),
       weighted=st.booleans(), ignore=st.integers(0, 2), reduction=reductions,
       smoothing=st.sampled_from([0.0, 0.1, 0.5, 1.0]), fn=st.sampled_from(["ce", "nll"]),
       seed=seeds)
def test_class_index_losses(n, c, extra, weighted, ignore, reduction, smoothing, fn, seed):
    rng = np.random.default_rng(seed)
    x = values(seed, n, c, *extra, low=-3, high=3)
    target = rng.integers(0, c, (n, *extra))
    target[rng.random(target.shape) < ignore / 4] = -100  # some (or all) ignored
    w = rng.uniform(0.2, 2.0, c) if weighted else None
    inputs = [x, target] + ([w] if weighted else [])
    if fn == "ce":
        def run(f):
            return lambda x, t, w=None: f(x, t, w, ignore_index=-100, reduction=reduction,
                                          label_smoothing=smoothing)
        assert compare(torch, run(F.cross_entropy), run(TF.cross_entropy), inputs, wrt=[0],
                       seed=seed)
    else:
        def run(f):
            return lambda x, t, w=None: f(x, t, w, ignore_index=-100, reduction=reduction)
        assert compare(torch, run(F.nll_loss), run(TF.nll_loss), inputs, wrt=[0], seed=seed)


@given(n=st.integers(0, 4), c=st.integers(1, 4), extra=st.lists(st.integers(0, 3), max_size=2),
       weighted=st.booleans(), reduction=reductions,
       smoothing=st.sampled_from([0.0, 0.1, 0.5, 1.0]), seed=seeds)
def test_cross_entropy_probability_targets(n, c, extra, weighted, reduction, smoothing, seed):
    rng = np.random.default_rng(seed)
    x = values(seed, n, c, *extra, low=-3, high=3)
    p = rng.random((n, c, *extra))
    p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
    w = rng.uniform(0.2, 2.0, c) if weighted else None
    inputs = [x, p] + ([w] if weighted else [])

    def run(f):
        return lambda x, t, w=None: f(x, t, w, reduction=reduction, label_smoothing=smoothing)
    assert compare(torch, run(F.cross_entropy), run(TF.cross_entropy), inputs, wrt=[0, 1],
                   seed=seed)


@given(shape=shapes, reduction=reductions, weighted=st.booleans(), pos=st.booleans(),
       fn=st.sampled_from(["mse", "l1", "bce", "bce_logits"]), seed=seeds)
def test_elementwise_losses(shape, reduction, weighted, pos, fn, seed):
    rng = np.random.default_rng(seed)
    x = values(seed, *shape, low=-3, high=3)
    t = rng.random(shape)
    if fn in ("mse", "l1"):
        ours, theirs = {"mse": (F.mse_loss, TF.mse_loss), "l1": (F.l1_loss, TF.l1_loss)}[fn]
        assert compare(torch, lambda x, t: ours(x, t, reduction=reduction),
                       lambda x, t: theirs(x, t, reduction=reduction), [x, t], seed=seed)
        return
    w = rng.uniform(0.2, 2.0, shape[-1:]) if weighted else None
    if fn == "bce":
        x = rng.uniform(0.01, 0.99, shape)
        inputs = [x, t] + ([w] if weighted else [])

        def run(f):
            return lambda x, t, w=None: f(x, t, w, reduction=reduction)
        # gradients of the input and the target: PyTorch has none for the weight
        assert compare(torch, run(F.binary_cross_entropy), run(TF.binary_cross_entropy),
                       inputs, wrt=[0, 1], seed=seed)
        return
    pw = rng.uniform(0.5, 3.0, shape[-1:]) if pos else None
    inputs = [x, t, w, pw]

    def run(f):
        return lambda x, t, w, pw: f(x, t, w, reduction=reduction, pos_weight=pw)
    # gradients of the logits and the target: PyTorch has none for weight and pos_weight
    assert compare(torch, run(F.binary_cross_entropy_with_logits),
                   run(TF.binary_cross_entropy_with_logits), inputs, wrt=[0, 1], seed=seed)


# --- activations ------------------------------------------------------------------------------
ACTIVATIONS = {
    "relu": (F.relu, TF.relu), "relu6": (F.relu6, TF.relu6), "sigmoid": (F.sigmoid, TF.sigmoid),
    "tanh": (F.tanh, TF.tanh),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
}


@given(shape=shapes, name=st.sampled_from(sorted(ACTIVATIONS)), seed=seeds)
def test_activations(shape, name, seed):
    ours, theirs = ACTIVATIONS[name]
    assert compare(torch, ours, theirs, [values(seed, *shape, low=-8, high=8)], seed=seed)


@given(shape=shapes, dim=st.integers(-4, 3), log=st.booleans(), seed=seeds)
def test_softmax(shape, dim, log, seed):
    assume(-max(len(shape), 1) <= dim < max(len(shape), 1))
    ours, theirs = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    assert compare(torch, lambda x: ours(x, dim), lambda x: theirs(x, dim),
                   [values(seed, *shape, low=-5, high=5)], seed=seed)


# --- reductions -------------------------------------------------------------------------------
@given(shape=shapes, data=st.data(), keepdim=st.booleans(),
       op=st.sampled_from(["sum", "mean", "max", "min", "var"]), seed=seeds)
def test_reductions(shape, data, keepdim, op, seed):
    ndim = len(shape)
    dims = data.draw(st.none() | st.lists(st.integers(0, max(ndim - 1, 0)), min_size=1,
                                          max_size=max(ndim, 1), unique=True))
    if op in ("max", "min"):  # PyTorch's max(dim) takes one dim and returns indices too
        dims = dims[:1] if dims else None
    if dims is None:
        def ours(x):
            return getattr(x, op)()

        def theirs(x):
            return x.var(correction=0) if op == "var" else getattr(x, op)()
    else:
        axis = tuple(dims) if op not in ("max", "min") else dims[0]

        def ours(x):
            return getattr(x, op)(axis, keepdims=keepdim)

        def theirs(x):
            if op == "var":
                return x.var(dim=axis, keepdim=keepdim, correction=0)
            if op in ("max", "min"):
                return getattr(x, op)(axis, keepdim=keepdim)[0]
            return getattr(x, op)(axis, keepdim=keepdim)
    # max/min over nothing is refused by both (compare: False), not a legal case to compare
    assume(compare(torch, ours, theirs, [values(seed, *shape)], seed=seed))


# --- shape ops --------------------------------------------------------------------------------
@given(shape=shapes, data=st.data(), seed=seeds)
def test_shape_ops(shape, data, seed):
    ndim = len(shape)
    x = values(seed, *shape)
    op = data.draw(st.sampled_from(["reshape", "flatten", "permute", "transpose", "squeeze",
                                    "unsqueeze", "expand", "getitem", "pad", "cat", "stack",
                                    "split"]))
    axis = data.draw(st.integers(0, max(ndim - 1, 0)))
    if op == "reshape":
        new = list(np.random.default_rng(seed).permutation(list(shape)))
        ours = theirs = (lambda x: x.reshape(tuple(int(n) for n in new)))
    elif op == "flatten":
        start = data.draw(st.integers(0, max(ndim - 1, 0)))
        end = data.draw(st.integers(start, max(ndim - 1, 0)))
        ours = theirs = (lambda x: x.flatten(start, end))
    elif op == "permute":
        order = [int(i) for i in np.random.default_rng(seed).permutation(ndim)]
        ours = theirs = (lambda x: x.permute(tuple(order)))
    elif op == "transpose":
        other = data.draw(st.integers(0, max(ndim - 1, 0)))
        assume(ndim > 0)
        ours = theirs = (lambda x: x.transpose(axis, other))
    elif op == "squeeze":
        ours = theirs = (lambda x: x.squeeze(axis) if ndim else x.squeeze())
    elif op == "unsqueeze":
        at = data.draw(st.integers(-ndim - 1, ndim))
        ours = theirs = (lambda x: x.unsqueeze(at))
    elif op == "expand":
        lead = data.draw(st.lists(st.integers(0, 3), max_size=2))
        target = [*lead, *(data.draw(st.integers(0, 3)) if n == 1 else n for n in shape)]
        ours = theirs = (lambda x: x.expand(tuple(target)))
    elif op == "getitem":
        assume(ndim > 0)
        lo = data.draw(st.integers(-4, 4))
        hi = data.draw(st.integers(-4, 4))
        step = data.draw(st.integers(1, 3))
        key = (slice(None),) * axis + (slice(lo, hi, step),)
        ours = theirs = (lambda x: x[key])
    elif op == "pad":
        assume(ndim > 0)
        widths = data.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2 * min(ndim, 2)))
        assume(len(widths) % 2 == 0)
        ours, theirs = (lambda x: F.pad(x, widths, value=0.5)), \
            (lambda x: TF.pad(x, widths, value=0.5))
    elif op in ("cat", "stack"):
        assume(ndim > 0 or op == "stack")
        x2 = values(seed + 1, *shape)
        def both(lib):
            return lambda a, b: getattr(lib, op)([a, b], dim=axis)
        assert compare(torch, both(mt), both(torch), [x, x2], seed=seed)
        return
    else:  # split, each piece scaled differently, and joined again
        assume(ndim > 0 and shape[axis] > 0)
        size = data.draw(st.integers(1, 4))

        def both(lib):
            return lambda x: lib.cat([p * (i + 1) for i, p in enumerate(x.split(size, axis))],
                                     dim=axis)
        ours, theirs = both(mt), both(torch)
    assert compare(torch, ours, theirs, [x], seed=seed)


# --- broadcasting arithmetic ------------------------------------------------------------------
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                min_side=0, max_side=3),
       op=st.sampled_from(sorted(BINARY) + ["maximum", "minimum", "where"]), seed=seeds)
def test_broadcasting_arithmetic(shapes, op, seed):
    a_shape, b_shape = shapes.input_shapes
    a = values(seed, *a_shape, low=0.5, high=2.0)  # positive: pow and div are defined
    b = values(seed + 1, *b_shape, low=0.5, high=2.0)
    if op in BINARY:
        ours = theirs = BINARY[op]
    elif op == "where":
        cond = np.asarray(np.random.default_rng(seed).random(shapes.result_shape) < 0.5)
        assert compare(torch, lambda c, a, b: mt.where(c, a, b),
                       lambda c, a, b: torch.where(c, a, b), [cond, a, b], seed=seed)
        return
    else:
        ours, theirs = getattr(mt, op), getattr(torch, op)
    assert compare(torch, ours, theirs, [a, b], seed=seed)


@given(shapes=hnp.mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)", max_dims=2,
                                                min_side=0, max_side=3),
       seed=seeds)
def test_matmul(shapes, seed):
    a_shape, b_shape = shapes.input_shapes
    assert compare(torch, mt.matmul, torch.matmul,
                   [values(seed, *a_shape), values(seed + 1, *b_shape)], seed=seed)


@given(shape=shapes, scalar=st.floats(0.5, 2.0), op=st.sampled_from(sorted(BINARY)),
       left=st.booleans(), seed=seeds)
def test_scalar_arithmetic(shape, scalar, op, left, seed):
    fn = BINARY[op]
    run = (lambda x: fn(scalar, x)) if left else (lambda x: fn(x, scalar))
    assert compare(torch, run, run, [values(seed, *shape, low=0.5, high=2.0)], seed=seed)
