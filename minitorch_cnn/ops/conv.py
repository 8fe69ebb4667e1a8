"""2-D convolution and its transpose: im2col + GEMM in bounded batch chunks, and depthwise
convolution through its own kernel.

For a chunk of the batch, ``im2col`` unrolls the input patches into ``col`` (a K x P matrix per
sample, K = C/groups * kh * kw, P = out_h * out_w) and one ``xp.matmul``, batched over samples
and groups, computes ``y = W col`` (Chellapilla et al. 2006). Backward rebuilds ``col`` chunk by
chunk (no col is kept between forward and backward), uses it for ``gW += gy col^T`` (GEMM
operand order and batching: ``_weight_grad``), then overwrites the same buffer with
``gcol = W^T gy`` (W^T a strided view: BLAS transposes it as it packs) and folds it back with
``col2im``. Two layouts:

* sample-major (N, K, P) when P is large: the GEMM writes NCHW output in place, no transposes,
  and chunks of about ``_CACHE_MIB`` stay in cache between im2col and the GEMMs;
* K-major (K, N*P) when P is small (late layers, 7x7 maps): one wide GEMM per chunk instead of
  many thin ones, for a cheap transpose of the small output.

Workspace bound: ``conv_chunks`` (``mt.set_workspace_mib``); CPU threads: ``threads``
(``mt.set_num_threads``).
"""
from collections import namedtuple

from .. import backend, config, kernels, threads
from ..autograd import Function
from . import conv_chunks
from .arguments import conv_arguments, pair, with_batch_of_one

# below this many output pixels per sample, one wide GEMM over the chunk beats per-sample GEMMs
_KMAJOR_BELOW = 256
# sample-major chunks of about this size stay in cache between im2col and the GEMMs (measured:
# ResNet 3x3 forward+backward 15% faster than with whole-batch chunks)
_CACHE_MIB = 8

# stride, top/left padding and dilation, as the kernels take them, and the output size
Geometry = namedtuple("Geometry", "sy sx ph pw dy dx out_h out_w")


def _is_pointwise(kh, kw, g):
    return kh == kw == 1 and g.sy == g.sx == 1 and g.ph == g.pw == 0 and g.dy == g.dx == 1


class _Col:
    """The col of one call over a batch of n: ``chunks`` are its batch ranges; for a chunk of
    nc samples, ``view`` is the (nc, C, kh, kw, oh, ow) array the kernels fill and ``mat`` the
    same memory as GEMM operand, (nc, G, Kg, P) sample-major or (G, Kg, nc*P) K-major; the
    memory is the calling thread's workspace."""

    def __init__(self, xp, device, dtype, c, kh, kw, g, groups, n):
        self.xp, self.device, self.dtype = xp, device, dtype
        self.shape = (c, kh, kw, g.out_h, g.out_w)
        self.groups, self.k, self.p = groups, c * kh * kw, g.out_h * g.out_w
        self.kmajor = self.p < _KMAJOR_BELOW
        per_sample = self.k * self.p * xp.dtype(dtype).itemsize
        n_threads = config.get_num_threads()
        mib = config.get_workspace_mib() / n_threads if self.kmajor else _CACHE_MIB
        self.chunks = conv_chunks.chunks(n, per_sample, mib, n_threads)

    def buffers(self, nc):
        """(view, mat) over this thread's workspace."""
        data = conv_chunks.workspace(self.xp, self.device, self.dtype, nc * self.k * self.p)
        c, kh, kw, oh, ow = self.shape
        g, kg = self.groups, self.k // self.groups
        if self.kmajor:
            view = data.reshape(c, kh, kw, nc, oh, ow).transpose(3, 0, 1, 2, 4, 5)
            return view, data.reshape(g, kg, nc * self.p)
        return data.reshape(nc, c, kh, kw, oh, ow), data.reshape(nc, g, kg, self.p)


def conv_forward(x, w, groups, g, device, b=None):
    """y (N, O, out_h, out_w) = conv of x (N, C, H, W) by w (O, C/groups, kh, kw) (+ b, added
    chunk by chunk while the output is in cache)."""
    xp = backend.xp(x)
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    og, p = o // groups, g.out_h * g.out_w
    wm = w.reshape(groups, og, -1)
    y = xp.empty((n, o, g.out_h, g.out_w), x.dtype)
    ym = y.reshape(n, groups, og, p)
    if _is_pointwise(kh, kw, g):
        xm = x.reshape(n, groups, c // groups, p)

        def chunk(lo, hi):
            xp.matmul(wm, xm[lo:hi], out=ym[lo:hi])
            if b is not None:
                y[lo:hi] += b.reshape(1, -1, 1, 1)
        threads.run(chunk, conv_chunks.chunks(n, 1, parts=config.get_num_threads()), device)
        return y
    im2col = kernels.get("im2col", device)
    col = _Col(xp, device, x.dtype, c, kh, kw, g, groups, n)

    def chunk(lo, hi):
        view, mat = col.buffers(hi - lo)
        im2col(x[lo:hi], view, g.sy, g.sx, g.ph, g.pw, g.dy, g.dx)
        if col.kmajor:  # (G, Og, nc*P) -> (nc, G, Og, P)
            yt = xp.matmul(wm, mat).reshape(groups, og, hi - lo, p)
            ym[lo:hi] = yt.transpose(2, 0, 1, 3)
        else:
            xp.matmul(wm, mat, out=ym[lo:hi])
        if b is not None:
            y[lo:hi] += b.reshape(1, -1, 1, 1)
    threads.run(chunk, col.chunks, device)
    return y


def conv_backward(x, w, gy, groups, g, device, x_shape, need_x=True, need_w=True):
    """The gradients (gx, gw) of conv_forward for the upstream gradient gy; ``x`` is needed only
    for gw (conv_transpose2d's forward is this with need_w=False)."""
    xp = backend.xp(gy)
    n, c = x_shape[:2]
    o, _, kh, kw = w.shape
    og, p = o // groups, g.out_h * g.out_w
    wt = w.reshape(groups, og, -1).transpose(0, 2, 1)  # (G, Kg, Og): BLAS reads it transposed
    gym = gy.reshape(n, groups, og, p)
    gx = xp.empty(x_shape, gy.dtype) if need_x else None
    if _is_pointwise(kh, kw, g):
        xm = x.reshape(n, groups, c // groups, p) if need_w else None

        def chunk(lo, hi):
            if need_x:
                xp.matmul(wt, gym[lo:hi], out=gx[lo:hi].reshape(hi - lo, groups, c // groups, p))
            if need_w:
                return sum(_weight_grad(xp, xm[s], gym[s], p) for s in range(lo, hi))
        ranges = conv_chunks.chunks(n, 1, parts=config.get_num_threads())
    else:
        im2col, col2im = kernels.get("im2col", device), kernels.get("col2im", device)
        col = _Col(xp, device, gy.dtype, c, kh, kw, g, groups, n)
        ranges = col.chunks

        def chunk(lo, hi):
            view, mat = col.buffers(hi - lo)
            if col.kmajor:  # gy as (G, Og, nc*P)
                gyc = xp.ascontiguousarray(gym[lo:hi].transpose(1, 2, 0, 3))
                gyc = gyc.reshape(groups, og, -1)
            else:
                gyc = gym[lo:hi]
            gw = None
            if need_w:
                im2col(x[lo:hi], view, g.sy, g.sx, g.ph, g.pw, g.dy, g.dx)
                if col.kmajor:
                    gw = _weight_grad(xp, mat, gyc, p)
                else:
                    gw = _weight_grad(xp, mat, gyc, p).sum(axis=0)
            if need_x:  # gcol overwrites col, which gw no longer needs
                xp.matmul(wt, gyc, out=mat)
                col2im(view, gx[lo:hi], g.sy, g.sx, g.ph, g.pw, g.dy, g.dx)
            return gw
    gws = threads.run(chunk, ranges, device)
    if not need_w:
        return gx, None
    if not gws:
        return gx, xp.zeros(w.shape, gy.dtype)
    return gx, xp.ascontiguousarray(sum(gws)).reshape(w.shape)


def _weight_grad(xp, col, gy, p):
    """gW (..., G, Og, Kg) = gy col^T for col (..., G, Kg, P') and gy (..., G, Og, P'), from
    layers with ``p`` output pixels per sample. Sample-major chunks pass (nc, G, ...) operands:
    one batched GEMM, then a sum of the nc products (Og/P of col's size). Per-sample GEMM calls
    in a Python loop made the worker threads wait on each other for the GIL (LeNet-5 conv1,
    K = 25, 64 samples: backward 850 -> 545 us). From ``_KMAJOR_BELOW`` pixels on gW is
    computed as (col gy^T)^T, a transposed view: OpenBLAS's AVX-512 GEMM ran 15-30% faster
    with col as the untransposed operand on the benchmark layers (Og = 64..128), and the final
    transposing copy of gW is small next to such a GEMM. On smaller maps the weights are large
    next to the GEMM (late 3x3: gW 9 MiB, which NumPy transposes in ~7 ms) and the gain is
    small (~5%), so gy col^T."""
    if p < _KMAJOR_BELOW:
        return xp.matmul(gy, col.swapaxes(-1, -2))
    return xp.matmul(col, gy.swapaxes(-1, -2)).swapaxes(-1, -2)


def _depthwise_call(name, device, *arrays, g):
    kernels.get(name, device)(*arrays, g.sy, g.sx, g.ph, g.pw, g.dy, g.dx)


class Conv2dFn(Function):
    """y = W * x + b by im2col + GEMM; the geometry is checked by ``conv2d``."""

    @staticmethod
    def forward(ctx, x, w, b, groups, geometry):
        xp = backend.xp(x)
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        y = conv_forward(x, w, groups, geometry, ctx.device, b)
        ctx.save_for_backward(x, w)
        ctx.groups, ctx.geometry = groups, geometry
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gy = backend.xp(gy).ascontiguousarray(gy)
        gx, gw = conv_backward(x, w, gy, ctx.groups, ctx.geometry, ctx.device, x.shape,
                               need_x, need_w)
        return gx, gw, gy.sum(axis=(0, 2, 3)) if need_b else None


class DepthwiseConv2dFn(Function):
    """Convolution with groups == C (O = C * multiplier) by the direct depthwise kernels."""

    @staticmethod
    def forward(ctx, x, w, b, geometry):
        xp = backend.xp(x)
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        y = xp.empty((x.shape[0], w.shape[0], geometry.out_h, geometry.out_w), x.dtype)
        _depthwise_call("depthwise_conv2d_fwd", ctx.device, x, w, y, g=geometry)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.geometry = geometry
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        xp = backend.xp(gy)
        gy = xp.ascontiguousarray(gy)
        gx = gw = None
        if need_x:
            gx = xp.empty_like(x)
            _depthwise_call("depthwise_conv2d_bwd_data", ctx.device, gy, w, gx, g=ctx.geometry)
        if need_w:
            gw = xp.empty_like(w)
            _depthwise_call("depthwise_conv2d_bwd_filter", ctx.device, x, gy, gw, g=ctx.geometry)
        return gx, gw, gy.sum(axis=(0, 2, 3)) if need_b else None


class ConvTranspose2dFn(Function):
    """The adjoint of conv2d in its input: y = col2im(W^T x) + b. ``geometry`` is that of the
    convolution mapping y (``out_shape``) back to x's spatial size."""

    @staticmethod
    def forward(ctx, x, w, b, groups, geometry, out_shape):
        xp = backend.xp(x)
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        y, _ = conv_backward(None, w, x, groups, geometry, ctx.device, out_shape, True, False)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.groups, ctx.geometry = groups, geometry
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gy = backend.xp(gy).ascontiguousarray(gy)
        gx = conv_forward(gy, w, ctx.groups, ctx.geometry, ctx.device) if need_x else None
        gw = None
        if need_w:  # the weight gradient of the convolution gy -> x, with x as its output grad
            _, gw = conv_backward(gy, w, x, ctx.groups, ctx.geometry, ctx.device, gy.shape,
                                  False, True)
        return gx, gw, gy.sum(axis=(0, 2, 3)) if need_b else None


# --- argument checking and the public functions ----------------------------------------------

def _check_shapes(op, x, w, b, groups, in_channels_of):
    """Ranks, dtypes, groups and channels; ``in_channels_of(w)`` is the C that w expects."""
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight, got shape {tuple(w.shape)}")
    if x.dtype != w.dtype:
        raise TypeError(f"{op}: input ({x.dtype}) and weight ({w.dtype}) dtypes differ")
    c, expected, o = x.shape[1], in_channels_of(w), w.shape[0]
    if c != expected or c % groups:
        raise ValueError(f"{op}: expected an input of shape (N, {expected}, H, W) for a weight "
                         f"of shape {tuple(w.shape)} and groups={groups}, got {tuple(x.shape)}")
    if o % groups:
        raise ValueError(f"{op}: weight of shape {tuple(w.shape)}: its first dimension must be "
                         f"divisible by groups={groups}")
    if b is not None and tuple(b.shape) != (_out_channels(op, w, groups),):
        raise ValueError(f"{op}: expected a bias of shape ({_out_channels(op, w, groups)},), "
                         f"got {tuple(b.shape)}")


def _out_channels(op, w, groups):
    return w.shape[0] if op == "conv2d" else w.shape[1] * groups


def conv_geometry(op, size, kernel, stride, padding, dilation):
    """Geometry of a convolution over ``size`` (H, W), for the arguments ``conv_arguments``
    returned (``padding`` a pair, "same" or "valid"). Raises ValueError when the (dilated)
    kernel is larger than the padded input."""
    if isinstance(padding, str):
        # PyTorch's split of an odd total: the extra row/column goes to the bottom/right
        total = [d * (k - 1) if padding == "same" else 0 for d, k in zip(dilation, kernel)]
        before = [t // 2 for t in total]
    else:
        before = padding
        total = [2 * p for p in before]
    out = []
    for n, k, s, d, t in zip(size, kernel, stride, dilation, total):
        if d * (k - 1) + 1 > n + t:
            raise ValueError(f"{op}: the kernel {tuple(kernel)} (dilation {dilation}) is larger "
                             f"than the padded input {tuple(size)} + padding {tuple(total)}")
        out.append((n + t - d * (k - 1) - 1) // s + 1)
    return Geometry(*stride, *before, *dilation, *out)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as every framework computes it):

        y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] *
                        x[n, g(o) * C/groups + c, i*sy - ph + p*dy, j*sx - pw + q*dx]

    x: (N, C, H, W) (or (C, H, W)); weight: (O, C/groups, kh, kw); bias: (O,) or None;
    ``stride``, ``dilation``: int or (sy, sx); ``padding``: int, (ph, pw), "valid" (0) or "same"
    (output size = input size, stride 1; an odd total padding puts the extra row/column at the
    bottom/right, as PyTorch). ``groups`` splits the channels into independent convolutions:
    2 in AlexNet (Krizhevsky et al. 2012), 32 in ResNeXt (Xie et al. 2017), ``groups == C`` is
    the depthwise convolution of MobileNets (Howard et al. 2017), computed by its own kernel.
    Output: (N, O, out_h, out_w), out = (H + 2 ph - dy (kh - 1) - 1) // sy + 1.
    """
    if x.ndim == 3:
        return with_batch_of_one(
            lambda x: conv2d(x, weight, bias, stride, padding, dilation, groups), x)
    stride, padding, dilation = conv_arguments("conv2d", stride, padding, dilation, groups)
    _check_shapes("conv2d", x, weight, bias, groups, lambda w: w.shape[1] * groups)
    g = conv_geometry("conv2d", x.shape[2:], weight.shape[2:], stride, padding, dilation)
    if groups > 1 and groups == x.shape[1]:
        return DepthwiseConv2dFn.apply(x, weight, bias, geometry=g)
    return Conv2dFn.apply(x, weight, bias, groups=groups, geometry=g)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution ("deconvolution"; Zeiler et al. 2010, FCN by Long et al. 2015,
    U-Net by Ronneberger et al. 2015): the gradient of conv2d with respect to its input, each
    input pixel spreading a weighted copy of the kernel over the output.

    x: (N, C, H, W) (or (C, H, W)); weight: (C, O/groups, kh, kw); bias: (O,) or None.
    Output: (N, O, out_h, out_w) with
    out_h = (H - 1) * sy - 2 ph + dy (kh - 1) + output_padding + 1 (likewise out_w);
    ``output_padding`` (< stride or < dilation) adds rows/columns at the bottom/right to pick
    one of the output sizes that a strided conv2d maps to the same H.
    """
    op = "conv_transpose2d"
    if x.ndim == 3:
        return with_batch_of_one(lambda x: conv_transpose2d(
            x, weight, bias, stride, padding, output_padding, groups, dilation), x)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair of ints, got {padding!r}")
    stride, padding, dilation = conv_arguments(op, stride, padding, dilation, groups)
    output_padding = pair(output_padding, "output_padding", op, 0)
    _check_shapes(op, x, weight, bias, groups, lambda w: w.shape[0])
    kernel = weight.shape[2:]
    out = []
    for n, k, s, p, d, a in zip(x.shape[2:], kernel, stride, padding, dilation, output_padding):
        if a >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than the "
                             f"stride {stride} or the dilation {dilation}")
        out.append((n - 1) * s - 2 * p + d * (k - 1) + a + 1)
    if min(out) < 1:
        raise ValueError(f"{op}: an input of shape {tuple(x.shape)} gives an empty output "
                         f"{tuple(out)} for kernel {tuple(kernel)}, stride {stride}, "
                         f"padding {padding}")
    g = Geometry(*stride, *padding, *dilation, *x.shape[2:])
    out_shape = (x.shape[0], weight.shape[1] * groups, *out)
    return ConvTranspose2dFn.apply(x, weight, bias, groups=groups, geometry=g,
                                   out_shape=out_shape)
