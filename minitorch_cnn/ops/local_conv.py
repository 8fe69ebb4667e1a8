"""The locally-connected layer: a convolution whose filters are not shared across positions
(DeepFace, Taigman et al. 2014, layers L4-L6). The patch gather lives in
``kernels/*/local_conv.py``; the products are one batched GEMM over output positions (BLAS).
"""
from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module
from ..tensor import Tensor
from .pool import _pair


def local_output_size(size, k, s, p):
    """One side of the output: floor((n + 2p - k) / s) + 1, as a convolution's."""
    return (size + 2 * p - k) // s + 1


class LocalConv2dFn(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, stride, padding):
        xp = array_module(x)
        n, (out_h, out_w, o, _, kh, kw) = x.shape[0], weight.shape
        args = (kh, kw, *stride, *padding, out_h, out_w)
        col = kernels.get("local_unfold_fwd", ctx.device)(x, *args)  # (L, n, K)
        w = weight.reshape(out_h * out_w, o, -1)  # (L, o, K)
        y = xp.matmul(col, w.transpose(0, 2, 1))  # (L, n, o): one GEMM per position
        y = xp.ascontiguousarray(y.transpose(1, 2, 0)).reshape(n, o, out_h, out_w)
        if bias is not None:
            y += bias
        ctx.args, ctx.in_shape, ctx.w_shape = args, x.shape, weight.shape
        ctx.save_for_backward(col, w)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        col, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        n, o, out_h, out_w = gy.shape
        gy_l = xp.ascontiguousarray(gy.reshape(n, o, -1).transpose(2, 0, 1))  # (L, n, o)
        gx = gw = gb = None
        if need_x:
            gcol = xp.matmul(gy_l, w)  # (L, n, K)
            gx = kernels.get("local_unfold_bwd", ctx.device)(gcol, ctx.in_shape[1],
                                                              *ctx.in_shape[2:], *ctx.args)
        if need_w:
            gw = xp.matmul(gy_l.transpose(0, 2, 1), col).reshape(ctx.w_shape)
        if need_b:
            gb = gy.sum(axis=0)
        return gx, gw, gb


def local_conv2d(x, weight, bias=None, stride=1, padding=0):
    """Locally-connected 2-D layer: a different filter at every output position,

        y[n, o, i, j] = b[o, i, j] + sum_{c, a, e} w[i, j, o, c, a, e]
                                      * x_pad[n, c, i sy + a, j sx + e]

    x: (N, C, H, W); weight: (OH, OW, O, C, kh, kw), the output position first so that each
    position's filters are one contiguous (O, C kh kw) matrix of the batched GEMM; bias:
    (O, OH, OW) (one per output unit, as DeepFace) or None. Zero padding; OH = floor((H + 2 ph -
    kh) / sy) + 1, likewise OW. Parameters: OH OW O C kh kw weights + O OH OW biases (DeepFace's
    L4, 16 filters 9x9x16 on 63x63 -> 55x55: 62.7M + 48.4K), a conv's count times OH OW.
    """
    op = "local_conv2d"
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected Tensors for x and weight, got "
                        f"{type(x).__name__} and {type(weight).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D (N, C, H, W) input, got shape {x.shape}")
    if weight.ndim != 6:
        raise ValueError(f"{op}: expected a 6-D weight (OH, OW, O, C, kh, kw), "
                         f"got shape {weight.shape}")
    s = _pair(op, "stride", stride, 1)
    p = _pair(op, "padding", padding, 0)
    out_h, out_w, o, c, kh, kw = weight.shape
    if c != x.shape[1]:
        raise ValueError(f"{op}: the weight of shape {weight.shape} expects {c} input channels, "
                         f"got an input of shape {x.shape}")
    if kh > x.shape[2] + 2 * p[0] or kw > x.shape[3] + 2 * p[1]:
        raise ValueError(f"{op}: the kernel {(kh, kw)} is larger than the padded input "
                         f"{(x.shape[2] + 2 * p[0], x.shape[3] + 2 * p[1])} (input shape "
                         f"{x.shape}, padding {p})")
    expected = tuple(local_output_size(n, k, si, pi)
                     for n, k, si, pi in zip(x.shape[2:], (kh, kw), s, p))
    if expected != (out_h, out_w):
        raise ValueError(f"{op}: the weight of shape {weight.shape} is for a {(out_h, out_w)} "
                         f"output, but an input of shape {x.shape} with kernel {(kh, kw)}, "
                         f"stride {s} and padding {p} gives {expected}")
    if bias is not None and tuple(bias.shape) != (o, out_h, out_w):
        raise ValueError(f"{op}: expected a bias of shape {(o, out_h, out_w)}, "
                         f"got {tuple(bias.shape)}")
    return LocalConv2dFn.apply(x, weight, bias, stride=s, padding=p)
