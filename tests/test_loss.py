"""Losses: naive references, gradcheck of every option, stability, bad input, torch oracle."""
import math
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from helpers import assert_close, make

IGNORE = -100


def _reduce(losses, weights, reduction):
    if reduction == "none":
        return losses
    total = sum(losses.ravel())
    return total if reduction == "sum" else total / sum(weights.ravel())


def _class_ref(x, t, weight, ignore_index, reduction, eps, log_probs):
    """Per element of the target: log-softmax by hand (unless x are log-probabilities already),
    then -(1-eps) w_t log p_t - eps/C sum_c w_c log p_c; 0 where ignored."""
    if x.ndim == 1:
        x, t = x[None], np.asarray(t)[None]
    c = x.shape[1]
    w = np.ones(c) if weight is None else weight
    losses, wts = np.zeros(t.shape), np.zeros(t.shape)
    for idx in np.ndindex(t.shape):
        if t[idx] == ignore_index:
            continue
        row = [x[(idx[0], k) + idx[1:]] for k in range(c)]
        if not log_probs:
            m = max(row)
            lse = m + math.log(sum(math.exp(v - m) for v in row))
            row = [v - lse for v in row]
        k = t[idx]
        losses[idx] = -(1 - eps) * w[k] * row[k] - eps / c * sum(w[j] * row[j] for j in range(c))
        wts[idx] = w[k]
    return _reduce(losses, wts, reduction)


SHAPES = {"2d": ((5, 4), (5,)), "pixels": ((2, 3, 2, 3), (2, 2, 3)), "3d": ((2, 4, 3), (2, 3))}


def _targets(rng, shape, c):
    t = rng.integers(0, c, shape)
    t.ravel()[0] = IGNORE  # one ignored element in every case
    return t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_cross_entropy_naive_and_gradcheck(kind, weighted, eps, reduction, rng):
    xs, ts = SHAPES[kind]
    c = xs[1]
    x, t = make(rng, *xs, low=-3, high=3), _targets(rng, ts, c)
    w = rng.uniform(0.5, 2.0, c) if weighted else None
    args = dict(weight=None if w is None else mt.tensor(w), reduction=reduction,
                label_smoothing=eps)
    y = F.cross_entropy(x, mt.tensor(t), **args)
    expected = _class_ref(x.numpy(), t, w, IGNORE, reduction, eps, log_probs=False)
    assert y.shape == (ts if reduction == "none" else ())
    assert_close(y, expected, rtol=1e-10)
    mt.gradcheck(lambda a: F.cross_entropy(a, mt.tensor(t), **args), [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_nll_loss_naive_and_gradcheck(kind, weighted, reduction, rng):
    xs, ts = SHAPES[kind]
    x, t = make(rng, *xs, low=-3, high=0), _targets(rng, ts, xs[1])
    w = rng.uniform(0.5, 2.0, xs[1]) if weighted else None
    args = dict(weight=w, reduction=reduction)
    y = F.nll_loss(x, mt.tensor(t), **args)
    assert_close(y, _class_ref(x.numpy(), t, w, IGNORE, reduction, 0.0, log_probs=True))
    mt.gradcheck(lambda a: F.nll_loss(a, mt.tensor(t), **args), [x])


def test_cross_entropy_is_log_softmax_then_nll(rng):
    x, t = make(rng, 2, 5, 3, 3), mt.tensor(rng.integers(0, 5, (2, 3, 3)))
    assert_close(F.cross_entropy(x, t), F.nll_loss(F.log_softmax(x, 1), t).numpy())


def test_unbatched_and_ignore_index_a_real_class(rng):
    x = make(rng, 4)
    y = F.cross_entropy(x, mt.tensor(np.int64(2)), label_smoothing=0.1)
    assert y.shape == ()
    assert_close(y, _class_ref(x.numpy(), np.int64(2), None, IGNORE, "mean", 0.1, False))
    x, t = make(rng, 6, 3), rng.integers(0, 3, 6)
    y = F.cross_entropy(x, mt.tensor(t), ignore_index=1, reduction="none")
    assert_close(y.numpy()[t == 1], np.zeros((t == 1).sum()))
    mt.gradcheck(lambda a: F.cross_entropy(a, mt.tensor(t), ignore_index=1), [x])


def test_cross_entropy_non_contiguous_and_float32(rng):
    base = make(rng, 3, 2, 4)
    t = rng.integers(0, 3, (2, 4))
    mt.gradcheck(lambda a: F.cross_entropy(a.permute(1, 0, 2), mt.tensor(t)), [base])
    x = make(rng, 6, 5, dtype=np.float32)
    y = F.cross_entropy(x, mt.tensor(rng.integers(0, 5, 6, dtype=np.int32)))
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    t8 = rng.integers(0, 5, (2, 300), dtype=np.uint8)  # small int dtypes index without overflow
    x = make(rng, 2, 5, 300)
    assert_close(F.cross_entropy(x, mt.tensor(t8)), F.cross_entropy(x, mt.tensor(
        t8.astype(np.int64))).numpy())
    assert_close(F.nll_loss(x, mt.tensor(t8)), F.nll_loss(x, mt.tensor(
        t8.astype(np.int64))).numpy())


def test_cross_entropy_huge_logits_are_stable():
    x = mt.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.cross_entropy(x, mt.tensor([1, 2]), reduction="none")
        y.sum().backward()
    assert_close(y, [1e4, math.log(2)], rtol=1e-6)
    assert_close(x.grad, [[1, -1, 0], [0, 0.5, -0.5]], atol=1e-6)


def test_all_targets_ignored_mean_is_nan_as_pytorch(rng):
    y = F.cross_entropy(make(rng, 3, 4), mt.tensor([IGNORE] * 3))
    assert np.isnan(y.item())


def test_class_loss_errors(rng):
    x = make(rng, 4, 3)
    for fn, name in ((F.cross_entropy, "cross_entropy"), (F.nll_loss, "nll_loss")):
        with pytest.raises(TypeError, match=f"{name}: expected a target of integer"):
            fn(x, mt.tensor([0.0, 1.0, 2.0, 1.0]))
        with pytest.raises(ValueError, match=f"{name}: expected a target of shape \\(4,\\) .* "
                                             "\\(4, 3\\), got \\(3,\\)"):
            fn(x, mt.tensor([0, 1, 2]))
        with pytest.raises(ValueError, match=f"{name}: target class 3 is out of range for 3"):
            fn(x, mt.tensor([0, 3, 1, IGNORE]))
        with pytest.raises(ValueError, match=f"{name}: target class -1 is out of range"):
            fn(x, mt.tensor([0, -1, 1, 1]))
        with pytest.raises(ValueError, match=f"{name}: expected a class weight of shape \\(3,"):
            fn(x, mt.tensor([0, 1, 1, 1]), weight=mt.ones(4))
        with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
            fn(x, mt.tensor([0, 1, 1, 1]), reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: expected a target of shape \\(2, 5\\)"):
        F.cross_entropy(make(rng, 2, 3, 5), mt.tensor(np.zeros((2, 4), np.int64)))
    with pytest.raises(ValueError, match="label_smoothing must lie in \\[0, 1\\], got 1.5"):
        F.cross_entropy(x, mt.tensor([0, 1, 1, 1]), label_smoothing=1.5)


# --- element-wise losses -------------------------------------------------------------------------
def _softplus(v):
    return math.log1p(math.exp(-abs(v))) + max(-v, 0.0)


def _clamped_log(v):
    return max(math.log(v), -100.0) if v > 0 else -100.0


def _bce(x, t):
    return -(t * _clamped_log(x) + (1 - t) * _clamped_log(1 - x))


ELEMENTWISE = {
    "mse_loss": (lambda x, t, w, pw: (x - t) ** 2, (-2, 2)),
    "l1_loss": (lambda x, t, w, pw: abs(x - t), (-2, 2)),
    "binary_cross_entropy": (lambda x, t, w, pw: w * _bce(x, t), (0.05, 0.95)),
    "binary_cross_entropy_with_logits":
        (lambda x, t, w, pw: w * ((1 - t) * x + (1 + (pw - 1) * t) * _softplus(x)), (-4, 4)),
}


def _call(name, x, t, w, pw, reduction):
    kw = {"reduction": reduction}
    if name.startswith("binary"):
        kw["weight"] = w
    if name.endswith("logits"):
        kw["pos_weight"] = pw
    return getattr(F, name)(x, t, **kw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,weighted", [(n, False) for n in sorted(ELEMENTWISE)] +
                         [(n, True) for n in sorted(ELEMENTWISE) if n.startswith("binary")])
def test_elementwise_naive_and_gradcheck(name, weighted, reduction, rng):
    ref, (low, high) = ELEMENTWISE[name]
    x = make(rng, 3, 4, low=low, high=high)
    t = make(rng, 3, 4, low=0, high=1)
    w = make(rng, 4, low=0.5, high=2, requires_grad=False) if weighted else None
    pw = make(rng, 4, low=0.5, high=3, requires_grad=False) if weighted else None
    wn = np.ones(4) if w is None else w.numpy()
    pwn = np.ones(4) if pw is None else pw.numpy()
    losses = np.array([[ref(x.numpy()[i, j], t.numpy()[i, j], wn[j], pwn[j]) for j in range(4)]
                       for i in range(3)])
    expected = {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
    assert_close(_call(name, x, t, w, pw, reduction), expected, rtol=1e-10)
    mt.gradcheck(lambda a, b: _call(name, a, b, w, pw, reduction), [x, t])


def test_l1_gradient_is_zero_at_a_tie():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    F.l1_loss(x, mt.tensor([1.0, 0.0]), reduction="sum").backward()
    assert_close(x.grad, [0.0, 1.0])


def test_bce_clamps_log_at_minus_100():
    x = mt.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.binary_cross_entropy(x, mt.tensor([1.0, 0.0, 0.0, 1.0]), reduction="none")
        y.sum().backward()
    assert_close(y, [100, 100, 0, 0])
    assert np.isfinite(x.grad.numpy()).all()


def test_bce_with_logits_is_stable():
    x = mt.tensor([1e4, -1e4, 1e4, -1e4, 0.0], requires_grad=True)
    t = mt.tensor([1.0, 0.0, 0.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=mt.tensor(2.0))
        y.sum().backward()
    assert_close(y, [0, 0, 1e4, 2e4, 2 * math.log(2)])
    assert_close(x.grad, [0, 0, 1, -2, 2 * 0.5 - 2])  # (1 + (pw-1) t) sigmoid(x) - pw t


def test_elementwise_errors(rng):
    x = make(rng, 3, 4, low=0.1, high=0.9)
    for name in ELEMENTWISE:
        fn = getattr(F, name)
        with pytest.raises(ValueError, match=f"{name}: expected a target of the input's shape "
                                             "\\(3, 4\\), got \\(4,\\)"):
            fn(x, make(rng, 4))
        with pytest.raises(TypeError, match=f"{name}: expected a floating-point target"):
            fn(x, mt.tensor(np.ones((3, 4), np.int64)))
        with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
            fn(x, make(rng, 3, 4), reduction="mean_all")
    with pytest.raises(ValueError, match="binary_cross_entropy: every input must be a "
                                         "probability in \\[0, 1\\]"):
        F.binary_cross_entropy(x * 2, make(rng, 3, 4, low=0, high=1))
    with pytest.raises(ValueError, match="pos_weight"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=mt.ones(3))


# --- modules -------------------------------------------------------------------------------------
def test_loss_modules(rng):
    x, t = make(rng, 4, 3), mt.tensor(rng.integers(0, 3, 4))
    w = mt.tensor([1.0, 2.0, 0.5], dtype=np.float64)
    loss = nn.CrossEntropyLoss(w, ignore_index=1, label_smoothing=0.1)
    assert_close(loss(x, t), F.cross_entropy(x, t, w, 1, "mean", 0.1).numpy())
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
    assert_close(nn.NLLLoss(reduction="sum")(x, t), F.nll_loss(x, t, reduction="sum").numpy())
    p, q = make(rng, 4, 3, low=0.1, high=0.9), make(rng, 4, 3, low=0, high=1)
    assert_close(nn.MSELoss()(p, q), F.mse_loss(p, q).numpy())
    assert_close(nn.L1Loss(reduction="none")(p, q), F.l1_loss(p, q, "none").numpy())
    assert_close(nn.BCELoss([1.0, 2.0, 3.0])(p, q),
                 F.binary_cross_entropy(p, q, mt.tensor([1.0, 2.0, 3.0])).numpy())
    bce = nn.BCEWithLogitsLoss(pos_weight=[2.0, 1.0, 0.5])
    assert sorted(bce.state_dict()) == ["pos_weight"]
    assert_close(bce(p, q), F.binary_cross_entropy_with_logits(
        p, q, pos_weight=mt.tensor([2.0, 1.0, 0.5])).numpy())
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None, None, 1)  # PyTorch's positional size_average: not accepted


def test_cross_entropy_on_cuda_device(device, rng):
    x = make(rng, 4, 3, 2, 2, device=device)
    t = mt.tensor(rng.integers(0, 3, (4, 2, 2)), device=device)
    y = F.cross_entropy(x, t, label_smoothing=0.2)
    y.backward()
    assert y.device == x.device and x.grad.device == x.device
    x_cpu = mt.tensor(x.numpy(), requires_grad=True)
    F.cross_entropy(x_cpu, mt.tensor(t.numpy()), label_smoothing=0.2).backward()
    assert_close(x.grad, x_cpu.grad.numpy())


# --- oracle --------------------------------------------------------------------------------------
def _oracle(torch, ours, theirs, arrays, grad_of=(0,), rtol=1e-5, atol=1e-6):
    """Forward, and backward into the inputs listed in ``grad_of``, of ours and torch's."""
    a = [mt.tensor(v, requires_grad=i in grad_of) for i, v in enumerate(arrays)]
    b = [torch.tensor(v, requires_grad=i in grad_of) for i, v in enumerate(arrays)]
    y, ref = ours(*a), theirs(*b)
    gy = np.random.default_rng(1).standard_normal(ref.shape).astype(np.float32)
    y.backward(mt.tensor(gy))
    ref.backward(torch.tensor(gy))
    assert_close(y, ref.detach().numpy(), rtol=rtol, atol=atol)
    for i in grad_of:
        assert_close(a[i].grad, b[i].grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_oracle_class_losses(torch, reduction, rng):
    tf = torch.nn.functional
    for xs, ts in [((16, 10), (16,)), ((2, 5, 6, 7), (2, 6, 7))]:
        x = rng.standard_normal(xs).astype(np.float32) * 3
        t = rng.integers(0, xs[1], ts)
        t.ravel()[::5] = 3  # class 3 is ignored below
        w = rng.uniform(0.2, 2, xs[1]).astype(np.float32)
        for kw in ({}, {"weight": w}, {"ignore_index": 3}, {"label_smoothing": 0.1},
                   {"weight": w, "ignore_index": 3, "label_smoothing": 0.25}):
            def ours(a, kw=kw):
                return F.cross_entropy(a, mt.tensor(t), reduction=reduction, **_wrap(kw, mt))

            def theirs(a, kw=kw):
                return tf.cross_entropy(a, torch.tensor(t), reduction=reduction,
                                        **_wrap(kw, torch))
            _oracle(torch, ours, theirs, [x])
            if "label_smoothing" not in kw:
                lp = tf.log_softmax(torch.tensor(x), 1).numpy()
                _oracle(torch, lambda a, kw=kw: F.nll_loss(a, mt.tensor(t), reduction=reduction,
                                                           **_wrap(kw, mt)),
                        lambda a, kw=kw: tf.nll_loss(a, torch.tensor(t), reduction=reduction,
                                                     **_wrap(kw, torch)), [lp])
    big = np.array([[1e4, -1e4, 0], [5e3, 5e3, -5e3]], np.float32)
    _oracle(torch, lambda a: F.cross_entropy(a, mt.tensor([1, 0]), reduction=reduction),
            lambda a: tf.cross_entropy(a, torch.tensor([1, 0]), reduction=reduction), [big])


def _wrap(kw, lib):
    return {k: lib.tensor(v) if k == "weight" else v for k, v in kw.items()}


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_oracle_elementwise_losses(torch, reduction, rng):
    tf = torch.nn.functional
    x = rng.standard_normal((6, 5)).astype(np.float32) * 3
    p = rng.uniform(0.01, 0.99, (6, 5)).astype(np.float32)
    t = rng.uniform(0, 1, (6, 5)).astype(np.float32)
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    both = (0, 1)
    _oracle(torch, lambda a, b: F.mse_loss(a, b, reduction),
            lambda a, b: tf.mse_loss(a, b, reduction=reduction), [x, t], both)
    _oracle(torch, lambda a, b: F.l1_loss(a, b, reduction),
            lambda a, b: tf.l1_loss(a, b, reduction=reduction), [x, t], both)
    # the clamped logs at x = 0 and 1: the input gradient as torch's (its target gradient is
    # +-inf there, ours that of the clamped loss, so it is compared away from them)
    edge = np.array([[0.0, 1.0, 0.0, 1.0]], np.float32)
    _oracle(torch, lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
            lambda a, b: tf.binary_cross_entropy(a, b, reduction=reduction),
            [edge, np.array([[0.0, 1.0, 0.3, 0.6]], np.float32)], (0,))
    for weight in (None, w):
        def wt(lib, weight=weight):
            return None if weight is None else lib.tensor(weight)
        _oracle(torch, lambda a, b: F.binary_cross_entropy(a, b, wt(mt), reduction),
                lambda a, b: tf.binary_cross_entropy(a, b, wt(torch), reduction=reduction),
                [p, t], both, rtol=1e-4)
        for pw in (None, rng.uniform(0.5, 3, 5).astype(np.float32)):
            def ours(a, b, pw=pw):
                return F.binary_cross_entropy_with_logits(
                    a, b, wt(mt), reduction, None if pw is None else mt.tensor(pw))

            def theirs(a, b, pw=pw):
                return tf.binary_cross_entropy_with_logits(
                    a, b, wt(torch), reduction=reduction,
                    pos_weight=None if pw is None else torch.tensor(pw))
            _oracle(torch, ours, theirs, [x * 10, t], both)
