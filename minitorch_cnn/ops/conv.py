"""2-D convolution and its transpose as Functions, with their argument checks: the algorithm
of each convolution is ``conv_algorithms``' choice (im2col + GEMM in ``conv_im2col``, Winograd
in ``winograd``), depthwise convolution has its own kernel.
"""
from .. import backend, kernels
from ..autograd import Function
from . import conv_algorithms
from .conv_im2col import Geometry, conv_backward, conv_forward, epilogue
from .arguments import conv_arguments, pair, with_batch_of_one


def _depthwise_call(name, device, *arrays, g):
    kernels.get(name, device)(*arrays, g.sy, g.sx, g.ph, g.pw, g.dy, g.dx)


def _save_output(ctx, y, activation):
    ctx.activation = activation
    ctx.output = y if activation is not None else None


def _through_activation(ctx, gy):
    """gy times the derivative of the fused activation at the saved output: the backward
    kernel of ReLU / ReLU6 itself (``relu_bwd``, ``relu6_bwd``), one pass, C-contiguous."""
    gy = backend.xp(gy).ascontiguousarray(gy)
    if ctx.activation is None:
        return gy
    return kernels.get(f"{ctx.activation}_bwd", ctx.device)(gy, ctx.output)


class Conv2dFn(Function):
    """y = activation(W * x + b) by the algorithm ``conv_algorithms`` picks; the geometry is
    checked by ``conv2d``. ``activation`` (None, "relu", "relu6") is applied while the output
    is in cache (inference fusion: ``mt.nn.utils.fuse``)."""

    @staticmethod
    def forward(ctx, x, w, b, groups, geometry, activation=None):
        xp = backend.xp(x)
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        y = conv_algorithms.forward(x, w, groups, geometry, ctx.device, b, activation)
        ctx.save_for_backward(x, w)
        ctx.groups, ctx.geometry = groups, geometry
        _save_output(ctx, y, activation)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gy = _through_activation(ctx, gy)
        gx, gw = conv_algorithms.backward(x, w, gy, ctx.groups, ctx.geometry, ctx.device,
                                          need_x, need_w)
        return gx, gw, gy.sum(axis=(0, 2, 3)) if need_b else None


class DepthwiseConv2dFn(Function):
    """Convolution with groups == C (O = C * multiplier) by the direct depthwise kernels, then
    the fused ``activation`` as ``Conv2dFn``'s."""

    @staticmethod
    def forward(ctx, x, w, b, geometry, activation=None):
        xp = backend.xp(x)
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        y = xp.empty((x.shape[0], w.shape[0], geometry.out_h, geometry.out_w), x.dtype)
        _depthwise_call("depthwise_conv2d_fwd", ctx.device, x, w, y, g=geometry)
        epilogue(xp, y, b, activation)
        ctx.save_for_backward(x, w)
        ctx.geometry = geometry
        _save_output(ctx, y, activation)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        xp = backend.xp(gy)
        gy = _through_activation(ctx, gy)
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
    return conv2d_activation(x, weight, bias, stride, padding, dilation, groups)


def conv2d_activation(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                      activation=None):
    """``activation(conv2d(x, weight, bias, ...))`` in one op, the activation (None, "relu" or
    "relu6") applied while each output chunk is in cache: the conv + bias + ReLU fusion of
    inference (``mt.nn.utils.fuse``), exact in training too."""
    if activation not in (None, "relu", "relu6"):
        raise ValueError(f"conv2d: activation must be None, 'relu' or 'relu6', got "
                         f"{activation!r}")
    if x.ndim == 3:
        return with_batch_of_one(lambda x: conv2d_activation(
            x, weight, bias, stride, padding, dilation, groups, activation), x)
    stride, padding, dilation = conv_arguments("conv2d", stride, padding, dilation, groups)
    _check_shapes("conv2d", x, weight, bias, groups, lambda w: w.shape[1] * groups)
    g = conv_geometry("conv2d", x.shape[2:], weight.shape[2:], stride, padding, dilation)
    if groups > 1 and groups == x.shape[1]:
        return DepthwiseConv2dFn.apply(x, weight, bias, geometry=g, activation=activation)
    return Conv2dFn.apply(x, weight, bias, groups=groups, geometry=g, activation=activation)


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
