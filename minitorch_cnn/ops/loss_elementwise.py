"""Element-wise losses: mse_loss, l1_loss, binary_cross_entropy and
binary_cross_entropy_with_logits, each one ``Function`` with its analytic backward;
``reduction`` is "mean" (the default), "sum" or "none" (the per-element losses).
"""

import numpy as np

from ..autograd import Function
from ..backend import xp as array_module
from .arguments import check_reduction
from .broadcast import broadcast_shapes


# --- element-wise losses ----------------------------------------------------------------------
def _check_pair(name, x, target):
    if target.shape != x.shape:
        raise ValueError(f"{name}: expected a target of the input's shape {x.shape}, got "
                         f"{target.shape}")
    if target.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point target, got {target.dtype}")


def _as_weight(name, w, x, what="weight"):
    """A rescaling array that broadcasts to x's shape, in x's dtype (None stays None)."""
    if w is None:
        return None
    w = array_module(x).asarray(w, dtype=x.dtype)
    try:
        fits = broadcast_shapes(name, w.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: the {what} of shape {w.shape} does not broadcast to the "
                         f"input's shape {x.shape}")
    return w


def reduce_loss(loss, reduction):
    """The per-element ``loss`` reduced: as it is ("none"), its sum, or its mean."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # the mean of nothing: nan
        return loss.sum() / loss.size


def reduced_grad(gy, reduction, size):
    """The upstream gradient of each of ``size`` elements under ``reduction``."""
    if reduction != "mean":
        return gy
    return gy / size if size else gy * 0  # no elements: an empty gradient, no 1/0


class MSELossFn(Function):
    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        _check_pair("mse_loss", x, target)
        d = x - target
        ctx.save_for_backward(d)
        ctx.reduction = reduction
        return reduce_loss(d * d, reduction)

    @staticmethod
    def backward(ctx, gy):
        d, = ctx.saved_tensors
        gx = d * (2 * reduced_grad(gy, ctx.reduction, d.size))
        return gx, -gx if ctx.needs_input_grad[1] else None


class L1LossFn(Function):
    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        _check_pair("l1_loss", x, target)
        d = x - target
        ctx.save_for_backward(d)
        ctx.reduction = reduction
        return reduce_loss(abs(d), reduction)

    @staticmethod
    def backward(ctx, gy):
        d, = ctx.saved_tensors
        gx = array_module(d).sign(d) * reduced_grad(gy, ctx.reduction, d.size)
        return gx, -gx if ctx.needs_input_grad[1] else None


class BinaryCrossEntropyFn(Function):
    @staticmethod
    def forward(ctx, x, target, weight, reduction="mean"):
        name = "binary_cross_entropy"
        _check_pair(name, x, target)
        xp = array_module(x)
        if x.size and (float(x.min()) < 0 or float(x.max()) > 1):
            raise ValueError(f"{name}: every input must be a probability in [0, 1], got values "
                             f"from {float(x.min())} to {float(x.max())}")
        weight = _as_weight(name, weight, x)
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped to -100 as PyTorch
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log(1 - x), -100)
        loss = -(target * log_x + (1 - target) * log_1mx)
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, target, log_x, log_1mx)
        ctx.weight, ctx.reduction = weight, reduction
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, gy):
        x, target, log_x, log_1mx = ctx.saved_tensors
        g = reduced_grad(gy, ctx.reduction, x.size)
        if ctx.weight is not None:
            g = g * ctx.weight
        gx = gt = None
        if ctx.needs_input_grad[0]:
            # PyTorch's: (x - t) / max(x (1 - x), 1e-12), finite at x = 0 and 1
            gx = g * (x - target) / array_module(x).maximum(x * (1 - x), 1e-12)
        if ctx.needs_input_grad[1]:
            gt = g * (log_1mx - log_x)
        return gx, gt, None


class BinaryCrossEntropyWithLogitsFn(Function):
    """loss = (1 - t) x + (1 + (pw - 1) t) softplus(-x), softplus(-x) = -log sigmoid(x)."""

    @staticmethod
    def forward(ctx, x, target, weight, pos_weight, reduction="mean"):
        name = "binary_cross_entropy_with_logits"
        _check_pair(name, x, target)
        xp = array_module(x)
        weight = _as_weight(name, weight, x)
        pos_weight = _as_weight(name, pos_weight, x, "pos_weight")
        # softplus(-x) = log(1 + e^-|x|) - min(x, 0): the exponent is <= 0, no overflow
        sp = xp.abs(x, out=xp.empty_like(x))  # (out=: an array, not a scalar, for 0-d)
        xp.negative(sp, out=sp)
        xp.exp(sp, out=sp)
        xp.log1p(sp, out=sp)
        sp -= xp.minimum(x, 0)
        loss = (1 - target) * x
        loss += sp if pos_weight is None else (1 + (pos_weight - 1) * target) * sp
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, target, sp)
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, gy):
        x, target, sp = ctx.saved_tensors
        xp, pw = array_module(x), ctx.pos_weight
        g = reduced_grad(gy, ctx.reduction, x.size)
        if ctx.weight is not None:
            g = g * ctx.weight
        gx = gt = None
        if ctx.needs_input_grad[0]:
            sig = xp.exp(-sp)  # sigmoid(x), from the saved softplus
            gx = g * (sig - target if pw is None else (1 + (pw - 1) * target) * sig - pw * target)
        if ctx.needs_input_grad[1]:
            gt = g * (-x if pw is None else (pw - 1) * sp - x)
        return gx, gt, None, None



def mse_loss(input, target, reduction="mean"):
    """Squared error (input - target)^2, reduced. The shapes must be equal (PyTorch would
    broadcast with a warning; here a mismatch, usually a bug, is an error)."""
    check_reduction("mse_loss", reduction)
    return MSELossFn.apply(input, target, reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """Absolute error |input - target|, reduced; its gradient is sign(input - target) (0 at a
    tie, as PyTorch). The shapes must be equal."""
    check_reduction("l1_loss", reduction)
    return L1LossFn.apply(input, target, reduction=reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """l = -w [t log x + (1 - t) log(1 - x)] for probabilities x in [0, 1] (e.g. a sigmoid's
    output) and targets t in [0, 1]. Each log is clamped at -100, as PyTorch, so x = 0 or 1
    gives a finite loss; ``weight`` broadcasts to the input's shape. The gradient for the
    target is that of the clamped loss, so finite at x = 0 or 1 (where PyTorch's is +-inf).
    Prefer
    ``binary_cross_entropy_with_logits`` on the logits: it is exact where the sigmoid
    saturates."""
    check_reduction("binary_cross_entropy", reduction)
    return BinaryCrossEntropyFn.apply(input, target, weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy of sigmoid(x) computed from the logits x, stable for any x:

        l = w [(1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x))]

    with log(1 + exp(-x)) = log1p(exp(-|x|)) + max(-x, 0). ``pos_weight`` pw (broadcast along
    the last dimension, e.g. one per class) weighs the positive examples: pw > 1 raises recall.
    """
    check_reduction("binary_cross_entropy_with_logits", reduction)
    return BinaryCrossEntropyWithLogitsFn.apply(input, target, weight, pos_weight,
                                              reduction=reduction)
