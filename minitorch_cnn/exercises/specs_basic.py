"""The exercises on dense layers: linear, activations, softmax + cross-entropy, batch norm,
dropout. Each Check builds its cases with the engine's op and lists the usual mistakes."""
import numpy as np

from .. import random as _random
from ..tensor import Tensor
from .checker import Case, Check, Exercise, Mistake
from .engine import functional as op
from .engine import run


# --- 1. linear ----------------------------------------------------------------------------------
def _linear_cases(rng, backward):
    cases = []
    for n, d, m in [(4, 5, 3), (1, 3, 6), (7, 2, 2)]:
        x, w, b = rng.standard_normal((n, d)), rng.standard_normal((m, d)), rng.standard_normal(m)
        gy = rng.standard_normal((n, m))
        y, (gx, gw, gb) = run(op("linear"), (x, w, b), (0, 1, 2), gy)
        label = f"x ({n}, {d}), w ({m}, {d})"
        if not backward:
            cases.append(Case(label, (x, w, b), (y,), ("y",), [
                Mistake("y = x @ w.T + b: w is (M, D) in PyTorch's layout, so transpose it.",
                        "y", shape=(n, d))]))
            continue
        cases.append(Case(label, (gy, x, w, b), (gx, gw, gb), ("gx", "gw", "gb"), [
            Mistake("gb must have b's shape (M,): b is shared by the whole batch, so sum gy "
                    "over the batch (axis 0).", "gb", shape=gy.shape),
            Mistake("gb: sum over the batch, not the mean (the loss already carries any 1/N).",
                    "gb", alt=gb / n),
            Mistake("gw has the shape of w.T: with w (M, D), gw = gy.T @ x.", "gw",
                    shape=(d, m)),
            Mistake("gw: sum over the batch, not the mean.", "gw", alt=gw / n),
            Mistake("gx = gy @ w (w is (M, D), gy is (N, M)).", "gx", shape=(n, m)),
        ], forward_args=(x, w, b), gy=gy))
    return cases


def _linear_forward(x, w, b):
    return run(op("linear"), (x, w, b))[0]


LINEAR = Exercise("linear", "ex01_linear.py", "the affine layer", [
    Check("linear_forward", "F.linear", lambda rng: _linear_cases(rng, False),
          "y = x @ w.T + b with w of shape (M, D)."),
    Check("linear_backward", "F.linear", lambda rng: _linear_cases(rng, True),
          "gx = gy @ w, gw = gy.T @ x, gb = gy.sum(axis=0): the parameters' gradients add up "
          "over the batch.", forward="linear_forward", wrt=(0, 1, 2),
          engine_forward=_linear_forward),
])


# --- 2. activations -----------------------------------------------------------------------------
def _activation_cases(rng, op_name, backward):
    cases = []
    for shape, scale in [((3, 4), 2.0), ((2, 3, 5), 3.0), ((4, 6), 50.0)]:
        x = rng.standard_normal(shape) * scale
        gy = rng.standard_normal(shape)
        y, (gx,) = run(op(op_name), (x,), (0,), gy)
        label = f"x of shape {shape}, values ~ {scale:g} N(0, 1)"
        if not backward:
            cases.append(Case(label, (x,), (y,), ("y",)))
            continue
        derivative = (x > 0) * 1.0 if op_name == "relu" else y * (1 - y)
        mistakes = [Mistake("multiply by the upstream gradient gy (the chain rule): "
                            "dL/dx = gy * f'(x).", "gx", alt=derivative)]
        if op_name == "sigmoid":
            mistakes += [Mistake("sigmoid'(x) = s (1 - s) with s = sigmoid(x), not x (1 - x).",
                                 "gx", alt=gy * x * (1 - x)),
                         Mistake("sigmoid'(x) = s (1 - s): the factor (1 - s) is missing.",
                                 "gx", alt=gy * y)]
        cases.append(Case(label, (gy, x), (gx,), ("gx",), mistakes, forward_args=(x,), gy=gy))
    return cases


def _activation_checks(name, formula):
    def forward(x):
        return run(op(name), (x,))[0]
    return [Check(f"{name}_forward", f"F.{name}",
                  lambda rng: _activation_cases(rng, name, False), formula),
            Check(f"{name}_backward", f"F.{name}",
                  lambda rng: _activation_cases(rng, name, True),
                  f"dL/dx = gy * {name}'(x), element by element.", forward=f"{name}_forward",
                  wrt=(0,), engine_forward=forward)]


ACTIVATIONS = Exercise("activations", "ex02_activations.py", "ReLU and sigmoid",
                       _activation_checks("relu", "relu(x) = max(x, 0).")
                       + _activation_checks("sigmoid", "sigmoid(x) = 1 / (1 + exp(-x)); for "
                                            "x < 0 write it as exp(x) / (1 + exp(x))."))


# --- 3. softmax and cross-entropy ---------------------------------------------------------------
def _logits(rng):
    for n, c, scale in [(3, 4, 1.0), (5, 7, 3.0), (2, 3, 1000.0)]:
        yield rng.standard_normal((n, c)) * scale, f"logits ({n}, {c}) ~ {scale:g} N(0, 1)"


def _softmax(x):
    return run(lambda t: op("softmax")(t, dim=1), (x,))[0]


def _softmax_cases(rng, backward):
    cases = []
    for x, label in _logits(rng):
        gy = rng.standard_normal(x.shape)
        y, (gx,) = run(lambda t: op("softmax")(t, dim=1), (x,), (0,), gy)
        stable = Mistake("exp overflows for large logits: subtract the row maximum first "
                         "(softmax(x) = softmax(x - max_j x_j)).", "y", nonfinite=True)
        if not backward:
            cases.append(Case(label, (x,), (y,), ("y",), [stable]))
            continue
        cases.append(Case(label, (gy, x), (gx,), ("gx",), [
            Mistake("softmax's Jacobian is not diagonal: dy_i/dx_j = y_i (delta_ij - y_j), so "
                    "gx = y * (gy - sum_j gy_j y_j), not gy * y * (1 - y).", "gx",
                    alt=gy * y * (1 - y)),
            Mistake("exp overflows for large logits: subtract the row maximum first.", "gx",
                    nonfinite=True)], forward_args=(x,), gy=gy))
    return cases


def _ce_cases(rng, backward):
    cases = []
    for x, label in _logits(rng):
        n, c = x.shape
        t = rng.integers(0, c, n)
        loss, (gx,) = run(lambda a: op("cross_entropy")(a, Tensor(t)), (x,), (0,))
        stable = Mistake("log(softmax) overflows for large logits: use x - max - "
                         "log(sum exp(x - max)).", "loss", nonfinite=True)
        if not backward:
            cases.append(Case(label, (x, t), (loss,), ("loss",), [
                stable, Mistake("average the loss over the batch (mean, not sum).", "loss",
                                alt=loss * n)]))
            continue
        cases.append(Case(label, (x, t), (gx,), ("gx",), [
            Mistake("the loss is a mean over the batch: divide (softmax - onehot) by N.", "gx",
                    alt=gx * n),
            Mistake("the gradient is (softmax(x) - onehot(t)) / N: yours has the wrong sign.",
                    "gx", alt=-gx),
            Mistake("exp overflows for large logits: subtract the row maximum first.", "gx",
                    nonfinite=True)], forward_args=(x, t), gy=None))
    return cases


def _ce_forward(x, t):
    return run(lambda a: op("cross_entropy")(a, Tensor(t)), (x,))[0]


SOFTMAX_CE = Exercise("softmax_cross_entropy", "ex03_softmax_cross_entropy.py",
                      "softmax and cross-entropy", [
    Check("softmax", "F.softmax", lambda rng: _softmax_cases(rng, False),
          "y = exp(x - max) / sum(exp(x - max)) along axis 1."),
    Check("softmax_backward", "F.softmax", lambda rng: _softmax_cases(rng, True),
          "gx = y * (gy - (gy * y).sum(axis=1, keepdims=True)) with y = softmax(x).",
          forward="softmax", wrt=(0,), engine_forward=_softmax),
    Check("cross_entropy_forward", "F.cross_entropy", lambda rng: _ce_cases(rng, False),
          "loss = -mean_n log softmax(x)[n, t_n], computed as a log-sum-exp."),
    Check("cross_entropy_backward", "F.cross_entropy", lambda rng: _ce_cases(rng, True),
          "gx = (softmax(x) - onehot(t)) / N.", forward="cross_entropy_forward", wrt=(0,),
          engine_forward=_ce_forward),
])


# --- 7. batch norm ------------------------------------------------------------------------------
def _bn(x, gamma, beta, eps):
    return op("batch_norm")(x, None, None, gamma, beta, training=True, eps=eps)


def _bn_cases(rng):
    cases = []
    for n, d, eps in [(4, 3, 1e-5), (7, 5, 1e-3), (2, 1, 1e-5)]:
        x = rng.standard_normal((n, d)) * 2 + 1
        gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
        gy = rng.standard_normal((n, d))
        _, (gx, gg, gb) = run(lambda *t: _bn(*t, eps), (x, gamma, beta), (0, 1, 2), gy)
        var = x.var(axis=0)
        cases.append(Case(f"x ({n}, {d}), eps {eps:g}", (gy, x, gamma, beta, eps),
                          (gx, gg, gb), ("gx", "ggamma", "gbeta"), [
            Mistake("mu and var depend on x too: gx = gy * gamma / sqrt(var + eps) forgets "
                    "the paths through them.", "gx", alt=gy * gamma / np.sqrt(var + eps)),
            Mistake("gx is missing the path through the variance: add dL/dvar * 2 (x - mu) / N.",
                    "gx", alt=gamma / np.sqrt(var + eps) * (gy - gy.mean(axis=0))),
            Mistake("ggamma and gbeta have the parameters' shape (D,): sum over the batch.",
                    "ggamma", shape=(n, d)),
            Mistake("ggamma and gbeta have the parameters' shape (D,): sum over the batch.",
                    "gbeta", shape=(n, d)),
            Mistake("ggamma = sum_n gy * xhat: multiply by the normalized xhat, not by x.",
                    "ggamma", alt=(gy * x).sum(axis=0)),
        ],
            forward_args=(x, gamma, beta, eps), gy=gy))
    return cases


def _bn_forward(x, gamma, beta, eps):
    return run(lambda *t: _bn(*t, eps), (x, gamma, beta))[0]


_BN_HINT = ("gx = gamma / sqrt(var + eps) * (gy - mean(gy) - xhat * mean(gy * xhat)), means over "
            "the batch; ggamma = sum(gy * xhat); gbeta = sum(gy).")
BATCHNORM = Exercise("batchnorm", "ex07_batchnorm.py", "batch normalization backward", [
    Check("batchnorm_backward_graph", "F.batch_norm", _bn_cases, _BN_HINT,
          forward="batchnorm_forward", wrt=(0, 1, 2), engine_forward=_bn_forward),
    Check("batchnorm_backward_simple", "F.batch_norm", _bn_cases, _BN_HINT,
          forward="batchnorm_forward", wrt=(0, 1, 2), engine_forward=_bn_forward),
])


# --- 8. dropout ---------------------------------------------------------------------------------
def _dropout_cases(rng, backward):
    cases = []
    for shape, p in [((4, 5), 0.5), ((2, 3, 4, 4), 0.3), ((8, 3), 0.8)]:
        x = rng.standard_normal(shape)
        gy = rng.standard_normal(shape)
        _random.manual_seed(int(rng.integers(1 << 30)))
        y, (gx,) = run(lambda t: op("dropout")(t, p=p, training=True), (x,), (0,), gy)
        mask = y != 0
        label = f"x of shape {shape}, p = {p}"
        expected, out = (gx, "gx") if backward else (y, "y")
        mistakes = [
            Mistake("forgot the 1/(1-p) scale: inverted dropout divides the kept activations by "
                    "1 - p (the keep probability).", out, alt=expected * (1 - p)),
            Mistake("scale by 1/(1-p), the keep probability, not by 1/p.", out,
                    alt=expected * (1 - p) / p),
            Mistake("the mask marks the kept units: multiply by mask, not by ~mask.", out,
                    alt=np.where(mask, 0, (gy if backward else x) / (1 - p)))]
        if backward:
            cases.append(Case(label, (gy, p, mask), (gx,), ("gx",), mistakes,
                              forward_args=(x, p, mask), gy=gy))
        else:
            cases.append(Case(label, (x, p, mask), (y,), ("y",), mistakes))
    return cases


DROPOUT = Exercise("dropout", "ex08_dropout.py", "inverted dropout", [
    Check("dropout_forward", "F.dropout", lambda rng: _dropout_cases(rng, False),
          "y = x * mask / (1 - p)."),
    Check("dropout_backward", "F.dropout", lambda rng: _dropout_cases(rng, True),
          "gx = gy * mask / (1 - p): the same mask and scale as the forward.",
          forward="dropout_forward", wrt=(0,),
          engine_forward=lambda x, p, mask: x * mask / (1 - p)),
])
