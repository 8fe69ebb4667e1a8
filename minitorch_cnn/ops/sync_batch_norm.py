"""Batch normalization with statistics over the whole global batch of data-parallel ranks.

``sync_batch_stats`` merges every rank's per-channel (mean, biased variance, count), gathered
with an ``all_gather``, into the global ones (the parallel-variance formula, stable where
sum-of-squares is not). ``SyncBatchNormFn`` normalises with them; its backward needs the
global means of dy and dy * xhat, one ``all_reduce`` of a (2, C) array::

    dx = weight / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))

with the means over all ranks' elements, while d weight and d bias stay the rank's own sums
(DistributedDataParallel averages them with the other gradients). With the collectives of a
group of one it is plain batch norm, which is how it is gradient-checked.
"""
from .. import backend
from ..autograd import Function


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _view(a, x):
    return a.reshape((1, -1) + (1,) * (x.ndim - 2))


def sync_batch_stats(x, all_gather):
    """Global (mean, biased variance, count per channel) of the array ``x`` (N, C, ...) whose
    batch is split over ranks; ``all_gather(a)`` stacks every rank's ``a`` along a new axis 0."""
    xp = backend.xp(x)
    axes = _axes(x)
    count = x.size // x.shape[1]
    local = xp.stack([x.mean(axis=axes), x.var(axis=axes),
                      xp.full(x.shape[1], count, dtype=x.dtype)])
    every = all_gather(local)  # (ranks, 3, C)
    means, variances, counts = every[:, 0], every[:, 1], every[:, 2]
    total = counts.sum(axis=0)
    mean = (counts * means).sum(axis=0) / total
    var = (counts * (variances + (means - mean) ** 2)).sum(axis=0) / total
    return mean, var, int(round(float(total[0])))


class SyncBatchNormFn(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias with the global ``mean`` and ``var``
    (raw arrays from ``sync_batch_stats``); ``all_reduce(a)`` sums ``a`` over the ranks."""

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps=1e-5, count=1, all_reduce=None):
        xp = backend.xp(x)
        invstd = 1.0 / xp.sqrt(var + eps)
        xhat = (x - _view(mean, x)) * _view(invstd, x)
        y = xhat if weight is None else xhat * _view(weight, x)
        if bias is not None:
            y = y + _view(bias, x)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.count, ctx.all_reduce, ctx.has_bias = count, all_reduce, bias is not None
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        xhat, invstd, weight = ctx.saved_tensors
        xp = backend.xp(gy)
        axes = _axes(gy)
        sums = xp.stack([gy.sum(axis=axes), (gy * xhat).sum(axis=axes)])
        d_weight = sums[1].copy() if weight is not None and ctx.needs_input_grad[1] else None
        d_bias = sums[0].copy() if ctx.has_bias and ctx.needs_input_grad[2] else None
        dx = None
        if ctx.needs_input_grad[0]:
            total = ctx.all_reduce(sums) / ctx.count
            scale = invstd if weight is None else invstd * weight
            dx = _view(scale, gy) * (gy - _view(total[0], gy) - xhat * _view(total[1], gy))
            dx = dx.astype(gy.dtype, copy=False)
        return dx, d_weight, d_bias, None, None
