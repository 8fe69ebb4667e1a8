"""The locally-connected layer: a convolution whose filters are not shared across positions
(DeepFace, Taigman et al. 2014, layers L4-L6). The patch gather lives in
``kernels/*/local_conv.py``; the products are one batched GEMM over output positions (BLAS).

The patches (col, out_h * out_w * C kh kw per sample: DeepFace's L4 unfolds 16 samples into
250 MB) go to the im2col workspace of ``conv_chunks``, in batch chunks that keep it under its
cap, and are gathered again in backward instead of being kept from forward; gcol overwrites
them. As for conv2d, no col lives between forward and backward: DeepFace's training step
(batch 16) peaked at 2130 MiB RSS instead of 2384, in the same time (the second gather of L4
takes 14 ms of a 600 ms step), and larger batches no longer need a col of the whole batch.
"""
from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module
from ..tensor import Tensor
from . import conv_chunks
from .arguments import pair


def local_output_size(size, k, s, p):
    """One side of the output: floor((n + 2p - k) / s) + 1, as a convolution's."""
    return (size + 2 * p - k) // s + 1


class _Patches:
    """The col of one call: its batch ``chunks`` and, per chunk, the (L, nc, K) patches of
    x[lo:hi] in this thread's workspace."""

    def __init__(self, x, args, device):
        self.x, self.args, self.device = x, args, device
        self.xp = array_module(x)
        kh, kw, out_h, out_w = args[0], args[1], args[-2], args[-1]
        self.positions, self.k = out_h * out_w, x.shape[1] * kh * kw
        per_sample = self.positions * self.k * self.xp.dtype(x.dtype).itemsize
        self.chunks = conv_chunks.chunks(x.shape[0], per_sample)

    def buffer(self, nc):
        size = self.positions * nc * self.k
        data = conv_chunks.workspace(self.xp, self.device, self.x.dtype, size)
        return data.reshape(self.positions, nc, self.k)

    def gather(self, lo, hi):
        return kernels.get("local_unfold_fwd", self.device)(self.x[lo:hi], *self.args,
                                                             out=self.buffer(hi - lo))


class LocalConv2dFn(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, *, stride, padding):
        xp = array_module(x)
        x = xp.ascontiguousarray(x)
        n, (out_h, out_w, o, _, kh, kw) = x.shape[0], weight.shape
        args = (kh, kw, *stride, *padding, out_h, out_w)
        w = weight.reshape(out_h * out_w, o, -1)  # (L, o, K)
        y = xp.empty((n, o, out_h, out_w), x.dtype)
        patches = _Patches(x, args, ctx.device)
        for lo, hi in patches.chunks:  # (L, nc, K) (L, K, o): one GEMM per position
            y_l = xp.matmul(patches.gather(lo, hi), w.transpose(0, 2, 1))
            y[lo:hi].reshape(hi - lo, o, -1)[...] = y_l.transpose(1, 2, 0)
        if bias is not None:
            y += bias
        ctx.args, ctx.w_shape = args, weight.shape
        ctx.save_for_backward(x, w)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        n, o, out_h, out_w = gy.shape
        gy_l = xp.ascontiguousarray(gy.reshape(n, o, out_h * out_w).transpose(2, 0, 1))  # L,n,o
        gx = xp.empty(x.shape, gy.dtype) if need_x else None
        gw = None
        patches = _Patches(x, ctx.args, ctx.device)
        for lo, hi in patches.chunks:
            gy_c = gy_l[:, lo:hi]
            if need_w:
                part = xp.matmul(gy_c.transpose(0, 2, 1), patches.gather(lo, hi))  # (L, o, K)
                if gw is None:
                    gw = part
                else:
                    gw += part
            if need_x:  # gcol overwrites the patches, which gw no longer needs
                gcol = xp.matmul(gy_c, w, out=patches.buffer(hi - lo))
                gx[lo:hi] = kernels.get("local_unfold_bwd", ctx.device)(
                    gcol, x.shape[1], *x.shape[2:], *ctx.args)
        if need_w and gw is None:  # an empty batch: no chunks, a zero gradient
            gw = xp.zeros(ctx.w_shape, gy.dtype)
        gw = None if gw is None else gw.reshape(ctx.w_shape)
        return gx, gw, gy.sum(axis=0) if need_b else None


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
    s = pair(stride, "stride", op, 1)
    p = pair(padding, "padding", op, 0)
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
