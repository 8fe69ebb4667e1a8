"""Classification losses: cross_entropy (on class indices, per sample or per pixel, or on
class probabilities) and nll_loss on class indices (the element-wise losses: loss_elementwise).

Each is one ``Function`` whose backward is the analytic gradient, never a graph of small ops:
cross entropy's backward is softmax minus the one-hot target, weighted, in one pass over the
logits. ``reduction`` is "mean" (the default), "sum" or "none" (the per-element losses).
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import xp as array_module
from .arguments import check_reduction
from .loss_elementwise import reduce_loss, reduced_grad

# --- class-index losses -----------------------------------------------------------------------
def _class_targets(name, x, target, weight, ignore_index):
    """Checks the logits (N, C, d1, ...) and targets (N, d1, ...) of ``name``; returns x as an
    (N, C, S) view, the targets as (N, S) with ignored entries set to class 0, the (N, S) mask
    of the entries not ignored, their target weights (0 where ignored) and the class weights
    (or None), in x's dtype."""
    xp = array_module(x)
    if not hasattr(target, "dtype") or target.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected a target of integer class indices, got "
                        f"{getattr(target, 'dtype', type(target).__name__)} of shape "
                        f"{getattr(target, 'shape', '?')} (class probabilities as targets must "
                        f"have the input's shape {x.shape})")
    if x.ndim == 0:
        raise ValueError(f"{name}: expected an input of shape (N, C) or (N, C, d1, ...), got "
                         f"a scalar")
    expected = () if x.ndim == 1 else x.shape[:1] + x.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: expected a target of shape {expected} for an input of shape "
                         f"{x.shape}, got {target.shape}")
    c = x.shape[0 if x.ndim == 1 else 1]
    x3 = x.reshape(1 if x.ndim == 1 else x.shape[0], c, math.prod(x.shape[2:]))  # N may be 0
    target = target.reshape(x3.shape[0], x3.shape[2])
    valid = target != ignore_index
    t = xp.where(valid, target, 0).astype(np.int64, copy=False)  # any int dtype, no overflow
    if t.size and (int(t.min()) < 0 or int(t.max()) >= c):
        bad = int(t[(t < 0) | (t >= c)][0])
        raise ValueError(f"{name}: target class {bad} is out of range for {c} classes "
                         f"(expected 0 <= target < {c}, or ignore_index={ignore_index})")
    if weight is not None:
        weight = xp.asarray(weight, dtype=x.dtype)
        if weight.shape != (c,):
            raise ValueError(f"{name}: expected a class weight of shape ({c},), got "
                             f"{weight.shape}")
        wt = weight[t] * valid
    else:
        wt = valid.astype(x.dtype)
    return x3, t, valid, wt, weight


def _flat_index(t, c):
    """The flat positions of x[n, t[n, s], s] in a C-contiguous (N, C, S) array x; a single
    flat index array is several times faster to gather and scatter with than three."""
    xp = array_module(t)
    n, size = t.shape
    return t * size + ((xp.arange(n) * (c * size))[:, None] + xp.arange(size))


def _reduce_class(loss, wt, reduction, shape):
    """Reduce per-element losses (N, S); "mean" divides by the summed target weights."""
    if reduction == "none":
        return loss.reshape(shape), None
    if reduction == "sum":
        return loss.sum(), None
    total = wt.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # all ignored: nan, as PyTorch
        return loss.sum() / total, total


def _upstream_class(gy, reduction, total, valid):
    """The incoming gradient of each (N, S) element's loss. A mean over a total weight of 0
    (every target ignored, or an empty batch) has a nan forward, as PyTorch, and gives the
    ignored elements a gradient of 0, not 0 * inf = nan (PyTorch's; non-ignored elements of
    weight 0 still get nan there, as in PyTorch)."""
    if reduction == "none":
        return gy.reshape(valid.shape)
    if reduction == "sum":
        return gy
    if total:
        return gy / total
    with np.errstate(divide="ignore", invalid="ignore"):
        return array_module(valid).where(valid, gy / total, 0)


class CrossEntropyFn(Function):
    """log_softmax over the classes and the negative log-likelihood, fused."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        x3, t, valid, wt, weight = _class_targets("cross_entropy", x, target, weight,
                                                  ignore_index)
        xp = array_module(x)
        c = x3.shape[1]
        m = x3.max(axis=1, keepdims=True)
        e = xp.empty(x3.shape, x3.dtype)  # C-contiguous whatever x's layout: idx needs it
        xp.subtract(x3, m, out=e)  # exponents <= 0: stable for any logits
        idx = _flat_index(t, c)
        loss = e.reshape(-1)[idx]  # x_t - m
        eps = label_smoothing
        # sums over the classes as (C,) @ (N, C, S) products: BLAS is 1.5-3x faster than sum()
        ones = xp.ones(c, e.dtype)
        if eps:  # sum_c w_c (x_c - m), for the smoothing term below
            shifted_sum = (ones if weight is None else weight) @ e
        xp.exp(e, out=e)  # the unnormalised probabilities; one array, normalised in backward
        s = ones @ e
        log_s = xp.log(s)
        loss -= log_s
        loss *= -wt  # -w_t log p_t, log p_t = x_t - m - log s
        if eps:
            # -sum_c w_c log p_c = sum_c w_c log s - sum_c w_c (x_c - m); 0 where ignored
            smooth = (c if weight is None else weight.sum()) * log_s - shifted_sum
            loss = (1 - eps) * loss + (eps / c) * (smooth * valid)
        out, total = _reduce_class(loss, wt, reduction, target.shape)
        ctx.save_for_backward(e, s, idx, wt, valid)
        ctx.weight, ctx.eps, ctx.reduction, ctx.total = weight, eps, reduction, total
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward(ctx, gy):
        e, s, idx, wt, valid = ctx.saved_tensors
        eps, c, w = ctx.eps, e.shape[1], ctx.weight
        g = _upstream_class(gy, ctx.reduction, ctx.total, valid)
        # d(-log p_k)/dx_c = p_c - [c == k], p = e / s; the target term has weight a,
        # smoothing's class-k term eps/C w_k g (w_k = 1 without class weights)
        a = wt * ((1 - eps) * g)
        if not eps:
            gx = e * (a / s)[:, None, :]
        else:
            vg = valid * g * (eps / c)
            gx = e * ((a + vg * (c if w is None else w.sum())) / s)[:, None, :]
            gx -= vg[:, None, :] if w is None else vg[:, None, :] * w[None, :, None]
        gx.reshape(-1)[idx] -= a
        return gx.reshape(ctx.shape), None, None


class CrossEntropyProbsFn(Function):
    """Cross entropy against class probabilities (soft targets), PyTorch's definition::

        l_i = -sum_c w_c q_{i,c} log p_{i,c},   q = (1 - eps) target + eps / C

    over the class axis (1, or 0 for an unbatched (C,) input); "mean" divides by the number of
    elements l_i (not by the weights, unlike class-index targets)."""

    @staticmethod
    def forward(ctx, x, target, weight, reduction="mean", label_smoothing=0.0):
        name = "cross_entropy"
        if target.shape != x.shape:
            raise ValueError(f"{name}: expected class probabilities of the input's shape "
                             f"{x.shape}, got {target.shape}")
        if x.ndim == 0:
            raise ValueError(f"{name}: expected an input of shape (N, C) or (N, C, d1, ...), "
                             f"got a scalar")
        xp, axis = array_module(x), 0 if x.ndim == 1 else 1
        c = x.shape[axis]
        wshape = [1] * x.ndim
        wshape[axis] = c
        if weight is not None:
            weight = xp.asarray(weight, dtype=x.dtype)
            if weight.shape != (c,):
                raise ValueError(f"{name}: expected a class weight of shape ({c},), got "
                                 f"{weight.shape}")
            weight = weight.reshape(wshape)
        eps = label_smoothing
        q = target * (1 - eps) + eps / c if eps else target
        wq = q if weight is None else q * weight
        if x.size:
            logp = x - x.max(axis=axis, keepdims=True)
            logp -= xp.log(xp.exp(logp).sum(axis=axis, keepdims=True))
        else:
            logp = xp.empty_like(x)
        loss = -(wq * logp).sum(axis=axis)
        ctx.save_for_backward(logp, wq)
        ctx.weight, ctx.axis, ctx.eps, ctx.reduction = weight, axis, eps, reduction
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, gy):
        logp, wq = ctx.saved_tensors
        xp, axis = array_module(logp), ctx.axis
        size = logp.size // max(logp.shape[axis], 1)
        g = xp.expand_dims(reduced_grad(gy, ctx.reduction, size), axis) \
            if ctx.reduction == "none" else reduced_grad(gy, ctx.reduction, size)
        gx = gt = None
        if ctx.needs_input_grad[0]:  # d/dx_j -sum_c wq_c log p_c = p_j sum_c wq_c - wq_j
            gx = g * (xp.exp(logp) * wq.sum(axis=axis, keepdims=True) - wq)
        if ctx.needs_input_grad[1]:  # d/dt_c = -(1 - eps) w_c log p_c
            w = 1.0 - ctx.eps if ctx.weight is None else (1.0 - ctx.eps) * ctx.weight
            gt = g * (-w * logp)
        return gx, gt, None


class NLLLossFn(Function):
    """loss_i = -w_t x_{i,t} on log-probabilities x."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index=-100, reduction="mean"):
        x3, t, valid, wt, _ = _class_targets("nll_loss", x, target, weight, ignore_index)
        idx = _flat_index(t, x3.shape[1])
        loss = -wt * x3.reshape(-1)[idx]  # (a copy of x first if it is not contiguous)
        out, total = _reduce_class(loss, wt, reduction, target.shape)
        ctx.save_for_backward(idx, wt, valid)
        ctx.reduction, ctx.total, ctx.shape3, ctx.shape = reduction, total, x3.shape, x.shape
        return out

    @staticmethod
    def backward(ctx, gy):
        idx, wt, valid = ctx.saved_tensors
        g = _upstream_class(gy, ctx.reduction, ctx.total, valid)
        gx = array_module(wt).zeros(ctx.shape3, dtype=wt.dtype)
        gx.reshape(-1)[idx] = -wt * g
        return gx.reshape(ctx.shape), None, None


# --- the public functions (re-exported by nn.functional) --------------------------------------
def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy of logits ``input`` against class indices ``target``, or against class
    probabilities (soft labels, as mixup and distillation use: a float ``target`` of the
    input's shape, see ``CrossEntropyProbsFn``; then ``ignore_index`` does not apply and "mean"
    divides by the number of elements, as PyTorch).

    Shapes: input (N, C) with target (N,), or per pixel (segmentation) input (N, C, d1, ...)
    with target (N, d1, ...); or an unbatched (C,) with a 0-d target. With log p = log_softmax
    over C, the loss of element i with target class t is

        l_i = -w_t log p_{i,t}                                     (label_smoothing = 0)
        l_i = -(1 - eps) w_t log p_{i,t} - eps/C sum_c w_c log p_{i,c}     (eps > 0)

    where ``weight`` w (C,) rescales classes (all 1 by default). Label smoothing (Szegedy et al.
    2016, Inception v3, sec. 7, eps = 0.1) trains against (1 - eps) one_hot + eps/C.
    Targets equal to ``ignore_index`` contribute nothing. ``reduction``: "none" gives l of the
    target's shape, "sum" their sum, "mean" sum_i l_i / sum_i w_{t_i} over the elements not
    ignored (PyTorch's definition: with weights it is a weighted mean, not a mean over N; nan if
    every target is ignored). The gradient is (p - smoothed one-hot target), weighted, computed
    in one fused pass; the logits may be arbitrarily large (log-sum-exp is shifted by the max).
    """
    check_reduction("cross_entropy", reduction)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got "
                         f"{label_smoothing}")
    if getattr(target, "dtype", None) is not None and target.dtype.kind == "f" \
            and tuple(target.shape) == tuple(input.shape):
        return CrossEntropyProbsFn.apply(input, target, weight, reduction=reduction,
                                         label_smoothing=float(label_smoothing))
    return CrossEntropyFn.apply(input, target, weight, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=float(label_smoothing))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (e.g. ``log_softmax``): l_i =
    -w_t input[i, t]. Shapes, ``weight``, ``ignore_index`` and ``reduction`` as
    ``cross_entropy`` (which is log_softmax followed by this, fused)."""
    check_reduction("nll_loss", reduction)
    return NLLLossFn.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction)
