"""Pooling: max, average, adaptive, unpooling and spatial pyramid pooling (NCHW, PyTorch's names
and argument conventions). The loops live in ``minitorch_cnn/kernels/*/pool.py``.

Output size of a pooling window (kernel k, stride s, padding p, dilation d) over a side of n::

    out = floor((n + 2p - d(k - 1) - 1) / s) + 1          (ceil instead of floor with ceil_mode)

and, with ceil_mode, the last window must start inside the input or the left padding
(``(out - 1) s < n + p``, else out -= 1), as PyTorch. Padding is at most half the kernel.
"""
from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module
from ..tensor import Tensor
from .arguments import pair, with_batch_of_one
from .functions import cat


def _check_input(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                         f"got shape {x.shape}")


def _batched(op, x, fn, *more):
    """Run ``fn`` on a 4-D batch; a 3-D (C, H, W) input (and its ``more`` companions) gets a
    batch dimension of 1 and loses it again, as PyTorch's unbatched inputs."""
    _check_input(op, x)
    return fn(x, *more) if x.ndim == 4 else with_batch_of_one(fn, x, *more)


def pool_output_size(size, k, s, p, d, ceil_mode):
    """One side of a pooling output (PyTorch's ``pooling_output_shape``)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _window_args(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked (kernel, stride, padding, dilation, output size) of a pooling window."""
    k = pair(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else pair(stride, "stride", op, 1)
    p = pair(padding, "padding", op, 0)
    d = pair(dilation, "dilation", op, 1)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding {p} must be at most half of the kernel size {k}")
    out = tuple(pool_output_size(n, *args, ceil_mode) for n, *args in zip(x.shape[2:], k, s, p, d))
    if min(out) < 1 or any(_has_empty_window(*args) for args in zip(x.shape[2:], k, s, p, d, out)):
        raise ValueError(f"{op}: the input of shape {x.shape} is too small for kernel {k}, "
                         f"stride {s}, padding {p}, dilation {d}: output size {out}")
    return k, s, p, d, out


def _has_empty_window(size, k, s, p, d, out):
    """A dilated window can straddle a small input without touching it: no maximum exists."""
    return d > 1 and any(not any(0 <= i * s - p + a * d < size for a in range(k))
                         for i in range(out))


class MaxPool2dFn(Function):
    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation, out_size):
        fwd = kernels.get("max_pool2d_fwd", ctx.device)
        y, indices = fwd(x, *kernel, *stride, *padding, *dilation, *out_size)
        ctx.in_size = x.shape[2:]
        ctx.save_for_backward(indices)
        return y, indices

    @staticmethod
    def backward(ctx, gy, _gindices):
        indices, = ctx.saved_tensors
        return kernels.get("max_pool2d_bwd", ctx.device)(gy, indices, *ctx.in_size)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling: y[n, c, i, j] = max over the window at (i sy - ph, j sx - pw), dilation d.

    x: (N, C, H, W) or (C, H, W); stride defaults to kernel_size; padding counts as -inf. AlexNet
    (Krizhevsky et al. 2012) uses overlapping 3x3 windows with stride 2; GoogLeNet ceil_mode.
    With ``return_indices`` also returns, as int64, each maximum's flat position ``h * W + w`` in
    its channel's H x W plane (PyTorch's format, the input of ``max_unpool2d``). The gradient goes
    to that recorded argmax (the first maximum of a window in row-major order).
    """
    def run(x):
        k, s, p, d, out = _window_args("max_pool2d", x, kernel_size, stride, padding, dilation,
                                       ceil_mode)
        return MaxPool2dFn.apply(x, kernel=k, stride=s, padding=p, dilation=d, out_size=out)
    y, indices = _batched("max_pool2d", x, run)
    return (y, indices) if return_indices else y


class AvgPool2dFn(Function):
    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, out_size, count_include_pad, divisor):
        ctx.args = (*kernel, *stride, *padding, count_include_pad, divisor)
        ctx.in_size = x.shape[2:]
        return kernels.get("avg_pool2d_fwd", ctx.device)(x, *kernel, *stride, *padding,
                                                         *out_size, count_include_pad, divisor)

    @staticmethod
    def backward(ctx, gy):
        return kernels.get("avg_pool2d_bwd", ctx.device)(gy, *ctx.in_size, *ctx.args)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling: y[n, c, i, j] = sum of the window / divisor.

    The divisor is, as in PyTorch: ``divisor_override`` when given; else the window's size
    clipped to the padded input (``count_include_pad=True``: zero padding counts) or the number
    of input elements in it (``count_include_pad=False``). x: (N, C, H, W) or (C, H, W).
    """
    if divisor_override is not None and (not isinstance(divisor_override, int)
                                         or divisor_override < 1):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int, "
                         f"got {divisor_override!r}")

    def run(x):
        k, s, p, _, out = _window_args("avg_pool2d", x, kernel_size, stride, padding, 1,
                                       ceil_mode)
        return AvgPool2dFn.apply(x, kernel=k, stride=s, padding=p, out_size=out,
                                 count_include_pad=bool(count_include_pad),
                                 divisor=divisor_override or 0)
    return _batched("avg_pool2d", x, run)


def adaptive_bins(in_size, out_size):
    """PyTorch's adaptive bins: bin i covers [floor(i n / out), ceil((i + 1) n / out))."""
    return [(i * in_size // out_size, -(-(i + 1) * in_size // out_size)) for i in range(out_size)]


def _adaptive_size(op, x, output_size):
    size = (output_size, output_size) if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(n if o is None else o for o, n in zip(size, x.shape[-2:]))
    if not all(isinstance(o, int) and o >= 1 for o in size):
        raise ValueError(f"{op}: output_size must hold positive ints or None, "
                         f"got {output_size!r}")
    if min(x.shape[-2:]) < 1:
        raise ValueError(f"{op}: expected a non-empty H x W plane, got shape {x.shape}")
    return size


def _averaging_matrix(xp, in_size, out_size, dtype):
    """(out, in) matrix whose row i averages bin i."""
    a = xp.zeros((out_size, in_size), dtype)
    for i, (start, end) in enumerate(adaptive_bins(in_size, out_size)):
        a[i, start:end] = 1.0 / (end - start)
    return a


class AdaptiveAvgPool2dFn(Function):
    """Three routes to the same bins: global pooling is one sum per plane; bins that tile the
    input are avg_pool2d with kernel = stride = tile (the pooling kernels); other sizes, whose
    bins overlap or differ in size, use averaging matrices, y = A_h x A_w^T."""

    @staticmethod
    def forward(ctx, x, *, out_size):
        xp = array_module(x)
        (in_h, in_w), (out_h, out_w) = x.shape[2:], out_size
        ctx.in_shape = x.shape
        if out_size == (1, 1):
            ctx.route = "global"
            return xp.einsum("nchw->nc", x)[:, :, None, None] / (in_h * in_w)
        if in_h % out_h == 0 and in_w % out_w == 0:
            ctx.route = "tiles"
            ctx.args = (in_h // out_h, in_w // out_w) * 2 + (0, 0, True, 0)
            return kernels.get("avg_pool2d_fwd", ctx.device)(x, *ctx.args[:6], out_h, out_w,
                                                             *ctx.args[6:])
        ctx.route = "matrices"
        ctx.a_h = _averaging_matrix(xp, in_h, out_h, x.dtype)
        ctx.a_w = _averaging_matrix(xp, in_w, out_w, x.dtype)
        return ctx.a_h @ x @ ctx.a_w.T

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        if ctx.route == "global":
            gx = xp.empty(ctx.in_shape, gy.dtype)
            gx[...] = gy / (ctx.in_shape[2] * ctx.in_shape[3])
            return gx
        if ctx.route == "tiles":
            return kernels.get("avg_pool2d_bwd", ctx.device)(gy, *ctx.in_shape[2:], *ctx.args)
        return ctx.a_h.T @ gy @ ctx.a_w


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed (out_h, out_w) for any input size (an int: square; None keeps
    that side). Bin i of a side n covers [floor(i n / out), ceil((i + 1) n / out)). Output 1 is
    the global average pooling of NiN (Lin et al. 2013), GoogLeNet and ResNet."""
    return _batched("adaptive_avg_pool2d", x, lambda x: AdaptiveAvgPool2dFn.apply(
        x, out_size=_adaptive_size("adaptive_avg_pool2d", x, output_size)))


class AdaptiveMaxPool2dFn(Function):
    @staticmethod
    def forward(ctx, x, *, out_size):
        xp = array_module(x)
        (n, c, in_h, in_w), (out_h, out_w) = x.shape, out_size
        ctx.in_size = (in_h, in_w)
        if in_h % out_h == 0 and in_w % out_w == 0:  # bins tile the input: a plain max pool
            th, tw = in_h // out_h, in_w // out_w
            y, indices = kernels.get("max_pool2d_fwd", ctx.device)(
                x, th, tw, th, tw, 0, 0, 1, 1, out_h, out_w)
        else:
            y = xp.empty((n, c, out_h, out_w), x.dtype)
            indices = xp.empty((n, c, out_h, out_w), xp.int64)
            for i, (h0, h1) in enumerate(adaptive_bins(in_h, out_h)):
                for j, (w0, w1) in enumerate(adaptive_bins(in_w, out_w)):
                    window = x[:, :, h0:h1, w0:w1].reshape(n, c, (h1 - h0) * (w1 - w0))
                    arg = window.argmax(axis=2)  # the first maximum, as the kernels
                    y[:, :, i, j] = xp.take_along_axis(window, arg[:, :, None], axis=2)[:, :, 0]
                    indices[:, :, i, j] = (h0 + arg // (w1 - w0)) * in_w + w0 + arg % (w1 - w0)
        ctx.save_for_backward(indices)
        return y, indices

    @staticmethod
    def backward(ctx, gy, _gindices):
        indices, = ctx.saved_tensors  # bins may overlap: the scatter adds
        return kernels.get("max_pool2d_bwd", ctx.device)(gy, indices, *ctx.in_size)


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max pooling to a fixed (out_h, out_w) for any input size, with adaptive_avg_pool2d's bins;
    ``return_indices`` as in max_pool2d."""
    y, indices = _batched("adaptive_max_pool2d", x, lambda x: AdaptiveMaxPool2dFn.apply(
        x, out_size=_adaptive_size("adaptive_max_pool2d", x, output_size)))
    return (y, indices) if return_indices else y


class MaxUnpool2dFn(Function):
    @staticmethod
    def forward(ctx, x, indices, *, out_size):
        xp = array_module(x)
        plane = out_size[0] * out_size[1]
        if indices.size and bool(xp.any((indices < 0) | (indices >= plane))):
            raise ValueError(f"max_unpool2d: indices must lie in [0, {plane}) for an output of "
                             f"size {out_size}, got values in [{int(indices.min())}, "
                             f"{int(indices.max())}]")
        ctx.save_for_backward(indices)
        return kernels.get("max_unpool2d_fwd", ctx.device)(x, indices, *out_size)

    @staticmethod
    def backward(ctx, gy):
        indices, = ctx.saved_tensors
        return kernels.get("max_unpool2d_bwd", ctx.device)(gy, indices), None


def _unpool_size(x, k, s, p, output_size):
    default = tuple((n - 1) * si + ki - 2 * pi for n, ki, si, pi in zip(x.shape[2:], k, s, p))
    if output_size is None:
        return default
    size = tuple(int(o) for o in output_size)[-2:]
    if len(tuple(output_size)) not in (2, 4):
        raise ValueError(f"max_unpool2d: output_size must be (H, W) or (N, C, H, W), "
                         f"got {tuple(output_size)}")
    for o, dflt, si in zip(size, default, s):
        if not dflt - si < o < dflt + si:
            raise ValueError(f"max_unpool2d: output_size {size} must lie strictly between "
                             f"{tuple(d - t for d, t in zip(default, s))} and "
                             f"{tuple(d + t for d, t in zip(default, s))} for an input of shape "
                             f"{x.shape}")
    return size


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d as in SegNet (Badrinarayanan et al. 2015): each value of x is put
    back at its recorded flat index in an (H_out, W_out) plane of zeros.

    H_out = (H - 1) stride - 2 padding + kernel_size unless ``output_size`` ((H, W) or
    (N, C, H, W)) picks one of the sizes that pool to H. ``indices`` are max_pool2d's, of x's
    shape; a repeated index (overlapping windows) keeps one of its values, and the backward pass,
    a gather as PyTorch's, gives each of them the gradient at that position.
    """
    op = "max_unpool2d"
    _check_input(op, x)
    given = indices.shape if hasattr(indices, "shape") else type(indices).__name__
    if not isinstance(indices, Tensor) or indices.shape != x.shape \
            or indices.dtype.kind not in "iu":
        raise ValueError(f"{op}: expected integer indices of the input's shape {x.shape}, "
                         f"got {given}")
    k = pair(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else pair(stride, "stride", op, 1)
    p = pair(padding, "padding", op, 0)
    return _batched(op, x, lambda x, i: MaxUnpool2dFn.apply(
        x, i, out_size=_unpool_size(x, k, s, p, output_size)), indices)


def spatial_pyramid_pool2d(x, levels=(1, 2, 4), mode="max"):
    """Spatial pyramid pooling (He et al. 2014, SPP-net): pool each channel into an l x l grid
    for every level l and concatenate, a fixed-length (N, C * sum(l * l)) vector for any H x W.

    Bin rule: adaptive pooling's bins, [floor(i n / l), ceil((i + 1) n / l)), which always give
    exactly l x l bins covering the whole map (even for n < l). The paper's window ceil(n / l)
    with stride floor(n / l) agrees when l divides n but gives the wrong count otherwise (n = 7,
    l = 4: 6 bins). Layout: level after level, each flattened channel-major (c, i, j).
    mode: "max" (the paper) or "avg".
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"spatial_pyramid_pool2d: mode must be 'max' or 'avg', got {mode!r}")
    if not isinstance(x, Tensor) or x.ndim != 4:
        raise ValueError(f"spatial_pyramid_pool2d: expected a 4-D (N, C, H, W) input, "
                         f"got {getattr(x, 'shape', type(x).__name__)}")
    if not levels or not all(isinstance(level, int) and level >= 1 for level in levels):
        raise ValueError(f"spatial_pyramid_pool2d: levels must be positive ints, got {levels!r}")
    pool = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    return cat([pool(x, level).flatten(1) for level in levels], axis=1)


def spp_output_features(channels, levels=(1, 2, 4)):
    """Length of spatial_pyramid_pool2d's vector: C * sum(l * l)."""
    return channels * sum(level * level for level in levels)

