"""Batch, instance, group and layer normalization, each one fused Function with an analytic
backward.

All four normalise x - mean over some set of elements and scale by 1/sqrt(var + eps)::

    y = (x - mean) / sqrt(var + eps) * weight + bias

Batch, instance and group norm view x as rows (n, c) of s positions (H*W, or L) and differ only in
which rows share statistics: batch norm the rows of one channel, instance norm each row alone,
group norm the rows of one group of channels of one sample. So one op, ``RowNormFn``, serves the
three: the ``norm_*`` kernels compute per-row sums in one pass each, the rows are combined into
groups on tiny (N, C) arrays, and the output and the input gradient are each one per-row affine
pass, y = (x - mean) a + b and gx = gy a + (x - mean) p + q. The backward is the closed form
(M elements per group, xhat = (x - mean) invstd, g = gy * weight)::

    gx = invstd * (g - sum(g) / M - xhat * sum(g * xhat) / M)

Layer norm has per-row statistics but an affine per column, so it has its own pair of fused
kernels, ``layer_norm_fwd`` / ``layer_norm_bwd``. Float32 data stays float32; only the per-row
sums and coefficients are float64.

Why not as Chainer does it on the CPU (6x slower than torch): its generic path is NumPy
expressions, ``x.mean(axis=(0, 2, 3))``, ``x.var(...)`` (a centred full-size temporary, squared
into another), ``gamma * (x - mean) * inv_std + beta`` (more temporaries), and a backward that
recomputes x_hat and reduces over non-contiguous axes, single-threaded: about ten passes over
the data and five full-size temporaries per step, where this needs four passes and none.
"""
import math

from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module


def _sum(v, raxes):
    return v.sum(axis=raxes, keepdims=True) if raxes else v  # (not every xp takes axis=())


def _group(v, rview, raxes):
    """Per-row values (R,) -> per-group sums, broadcast back to one per row."""
    v = v.reshape(rview)
    return array_module(v).broadcast_to(_sum(v, raxes), rview).reshape(-1)


def _per_row(v, n, c):
    """A per-channel array (C,) as one value per row (n, c), float64."""
    xp = array_module(v)
    return xp.broadcast_to(xp.asarray(v, dtype="float64"), (n, c)).reshape(-1)


# the kernels of a layout: rows of (N*C, S), or the columns of (N, C) (batch norm of (N, C),
# whose rows of one element would waste the row kernels)
_KERNELS = {False: ("norm_row_moments", "norm_row_grad_sums", "norm_affine", "norm_affine_bwd"),
            True: ("norm_col_moments", "norm_col_grad_sums", "norm_col_affine",
                   "norm_col_affine_bwd")}


class RowNormFn(Function):
    """Normalization of x (N, C, ...) with statistics shared by groups of rows (n, c).

    ``rview``/``raxes``: the rows viewed as ``rview`` share statistics along ``raxes`` (batch
    norm: (N, C), (0,); instance norm: (N, C), (); group norm: (N, G, C/G), (2,)). ``fixed``:
    per-channel (mean, var) to use instead of batch statistics. ``running``: (mean, var,
    momentum) per channel, updated in place from the batch statistics (unbiased variance).
    ``columns``: x is (N, C) with one statistic per column (then rview is (1, C)).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, rview, raxes, eps, fixed=None, running=None,
                columns=False):
        xp = array_module(x)
        ctx.empty = x.size == 0
        if ctx.empty:  # nothing to normalise: an empty output, the running statistics kept
            ctx.shape, ctx.channels = x.shape, x.shape[1]
            return xp.empty(x.shape, x.dtype)
        if columns:  # each column is a "row" of N values
            n, c, s = 1, x.shape[1], x.shape[0]
            x2 = xp.ascontiguousarray(x)
        else:
            n, c = x.shape[:2]
            x2 = xp.ascontiguousarray(x).reshape(n * c, -1)
            s = x2.shape[1]
        moments, _, affine, _ = ctx.kernels = [kernels.get(k, ctx.device)
                                               for k in _KERNELS[columns]]
        if fixed is None:
            mean_r, m2_r = moments(x2)
            mr = mean_r.reshape(rview)
            count = s * math.prod(rview[a] for a in raxes)
            mean = _sum(mr, raxes) * (s / count)
            var = (_sum(m2_r.reshape(rview), raxes) + s * _sum((mr - mean) ** 2, raxes)) / count
            if running is not None:
                _update_running(running, mean.reshape(-1, c), var.reshape(-1, c), count)
            mean = xp.broadcast_to(mean, rview).reshape(-1)
            var = xp.broadcast_to(var, rview).reshape(-1)
            ctx.count = count
        else:
            mean, var = (_per_row(v, n, c) for v in fixed)
        invstd = 1.0 / xp.sqrt(var + eps)
        w = invstd if weight is None else _per_row(weight, n, c) * invstd
        b = xp.zeros_like(w) if bias is None else _per_row(bias, n, c)
        ctx.save_for_backward(x2, mean, invstd)
        ctx.shape, ctx.rows, ctx.weight = x.shape, (n, c), weight
        ctx.group = (rview, raxes) if fixed is None else None
        return affine(x2, mean, w, b).reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        if ctx.empty:  # zero gradients, as PyTorch
            return _empty_grads(ctx, gy, (ctx.channels,))
        x2, mean, invstd = ctx.saved_tensors
        xp, (n, c) = array_module(x2), ctx.rows
        _, grad_sums, affine, affine_bwd = ctx.kernels
        gy2 = xp.ascontiguousarray(gy).reshape(x2.shape)
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_w or need_b or ctx.group is not None:
            sum_gy, sum_gy_xc = grad_sums(gy2, x2, mean)
            gw = (sum_gy_xc * invstd).reshape(n, c).sum(axis=0) if need_w else None
            gb = sum_gy.reshape(n, c).sum(axis=0) if need_b else None
        if need_x:
            w = 1.0 if ctx.weight is None else _per_row(ctx.weight, n, c)
            a = w * invstd
            if ctx.group is None:  # fixed statistics: y is affine in x
                zero = xp.zeros_like(a)
                gx = affine(gy2, zero, a, zero)
            else:
                sa = _group(w * sum_gy, *ctx.group) / ctx.count
                sb = _group(w * sum_gy_xc, *ctx.group) / ctx.count
                gx = affine_bwd(gy2, x2, mean, a, -invstd ** 3 * sb, -invstd * sa)
            gx = gx.reshape(ctx.shape)
        return gx, gw, gb


def _empty_grads(ctx, gy, param_shape):
    """The gradients of a normalisation of an empty input: empty for x, zeros for the
    affine parameters."""
    xp = array_module(gy)
    need_x, need_w, need_b = ctx.needs_input_grad
    return (xp.zeros(gy.shape, gy.dtype) if need_x else None,
            xp.zeros(param_shape, gy.dtype) if need_w else None,
            xp.zeros(param_shape, gy.dtype) if need_b else None)


def _update_running(running, mean, var, count):
    """running = (1 - momentum) running + momentum * batch, in place; the variance unbiased.
    ``mean``/``var`` are (K, C): K instances of the per-channel statistics, averaged."""
    running_mean, running_var, momentum = running
    unbiased = var * (count / (count - 1)) if count > 1 else var
    for target, value in ((running_mean, mean), (running_var, unbiased)):
        if target is not None:
            target *= 1.0 - momentum
            target += (momentum * value.mean(axis=0)).astype(target.dtype)


def _check_channels(op, x, c, **arrays):
    for name, a in arrays.items():
        if a is not None and tuple(a.shape) != (c,):
            raise ValueError(f"{op}: expected {name} of shape ({c},) for an input with {c} "
                             f"channels {tuple(x.shape)}, got {tuple(a.shape)}")


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization (Ioffe & Szegedy 2015) of x (N, C), (N, C, L) or (N, C, H, W), per
    channel c::

        y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c

    In training (or when ``running_mean`` is None) mean_c and var_c are the batch statistics
    over N (and L or H, W), var the biased one; the running statistics, when given, are updated
    in place as PyTorch does: running = (1 - momentum) running + momentum * batch, with the
    unbiased variance (times M/(M-1), M elements per channel). In eval they are used instead.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, ...), "
                         f"got {x.shape}")
    n, c = x.shape[:2]
    _check_channels("batch_norm", x, c, running_mean=running_mean, running_var=running_var,
                    weight=weight, bias=bias)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    use_batch = training or running_mean is None
    if use_batch and math.prod(x.shape[:1] + x.shape[2:]) == 1:  # (0 values: an empty result)
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape}")
    fixed = running = None
    if use_batch and running_mean is not None:
        running = (running_mean.data, running_var.data, momentum)
    elif not use_batch:
        fixed = (running_mean.data, running_var.data)
    return RowNormFn.apply(x, weight, bias, rview=(1 if x.ndim == 2 else n, c), raxes=(0,),
                         eps=eps, fixed=fixed, running=running, columns=x.ndim == 2)


def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization (Ulyanov et al. 2016): each channel of each sample normalised over
    its own positions, y = (x - mean_nc) / sqrt(var_nc + eps) * weight_c + bias_c, for x of
    shape (N, C, L) or (N, C, H, W).

    With running statistics and ``use_input_stats`` they are updated from the mean over the
    samples of the per-instance statistics (unbiased variance), as PyTorch does; with
    ``use_input_stats=False`` the running statistics are used instead.
    """
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, L) or "
                         f"(N, C, H, W), got {x.shape}")
    n, c = x.shape[:2]
    _check_channels("instance_norm", x, c, running_mean=running_mean, running_var=running_var,
                    weight=weight, bias=bias)
    fixed = running = None
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and "
                             "running_var")
        fixed = (running_mean.data, running_var.data)
    else:
        if math.prod(x.shape[2:]) == 1:  # (0 values: an empty result)
            raise ValueError(f"instance_norm: expected more than 1 spatial element when "
                             f"training, got input of shape {x.shape}")
        if running_mean is not None:
            running = (running_mean.data, running_var.data, momentum)
    return RowNormFn.apply(x, weight, bias, rview=(n, c), raxes=(), eps=eps, fixed=fixed,
                         running=running)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization (Wu & He 2018): the C channels of each sample split into
    ``num_groups`` groups of C/G channels, each group normalised over its channels and
    positions, then weight_c and bias_c per channel. G = 1 is layer norm over (C, H, W) with
    per-channel affine; G = C is instance norm."""
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, ...), got {x.shape}")
    n, c = x.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the {c} channels "
                         f"of the input {x.shape}")
    _check_channels("group_norm", x, c, weight=weight, bias=bias)
    return RowNormFn.apply(x, weight, bias, rview=(n, num_groups, c // num_groups), raxes=(2,),
                         eps=eps)


class LayerNormFn(Function):
    """Per-row statistics of x viewed as (M, D), the affine per column (the normalised shape):
    one fused kernel each way (the backward also sums gw and gb)."""

    @staticmethod
    def forward(ctx, x, weight, bias, shape, eps):
        xp, d = array_module(x), math.prod(shape)
        ctx.norm_shape, ctx.empty = shape, x.size == 0
        if ctx.empty:
            return xp.empty(x.shape, x.dtype)
        x2 = xp.ascontiguousarray(x).reshape(-1, d)
        w = xp.ones(d, x.dtype) if weight is None else weight.reshape(-1)
        b = xp.zeros(d, x.dtype) if bias is None else bias.reshape(-1)
        y, mean, invstd = kernels.get("layer_norm_fwd", ctx.device)(x2, w, b, eps)
        ctx.save_for_backward(x2, mean, invstd, w)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        if ctx.empty:
            return _empty_grads(ctx, gy, ctx.norm_shape)
        x2, mean, invstd, w = ctx.saved_tensors
        gy2 = array_module(gy).ascontiguousarray(gy).reshape(x2.shape)
        gx, gw, gb = kernels.get("layer_norm_bwd", ctx.device)(gy2, x2, mean, invstd, w)
        need_x, need_w, need_b = ctx.needs_input_grad
        return (gx.reshape(gy.shape) if need_x else None,
                gw.reshape(ctx.norm_shape) if need_w else None,
                gb.reshape(ctx.norm_shape) if need_b else None)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization (Ba et al. 2016) over the last dimensions ``normalized_shape``::

        y = (x - mean) / sqrt(var + eps) * weight + bias

    mean and the biased var over those dimensions, separately for each leading index; weight
    and bias of shape ``normalized_shape`` (elementwise)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or tuple(x.shape[x.ndim - len(shape):]) != shape or x.ndim < len(shape):
        raise ValueError(f"layer_norm: expected an input of shape (*, {', '.join(map(str, shape))})"
                         f" for normalized_shape {shape}, got {x.shape}")
    for name, a in (("weight", weight), ("bias", bias)):
        if a is not None and tuple(a.shape) != shape:
            raise ValueError(f"layer_norm: expected {name} of shape {shape}, got {a.shape}")
    return LayerNormFn.apply(x, weight, bias, shape=shape, eps=eps)
