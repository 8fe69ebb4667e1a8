"""Local response normalization (AlexNet, GoogLeNet): the public ``local_response_norm``.

The across-channel mode runs on the ``lrn_fwd`` / ``lrn_bwd`` kernels (a running window sum over
the channels); the within-channel mode is a separable box sum in NumPy/CuPy.
"""
import math

from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module

MODES = ("across_channels", "within_channel")


def _neg_pow(s, beta):
    # AlexNet's beta = 0.75 without pow(): s^-3/4 = r * sqrt(r), r = 1/sqrt(s)
    if beta == 0.75:
        r = 1.0 / array_module(s).sqrt(s)
        return r * array_module(s).sqrt(r)
    return s ** -beta


class LRNAcrossFn(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        x3 = array_module(x).ascontiguousarray(x).reshape(*x.shape[:2], math.prod(x.shape[2:]))
        y, scale = kernels.get("lrn_fwd", ctx.device)(x3, size, alpha, beta, k)
        ctx.save_for_backward(x3, y, scale)
        ctx.params = size, alpha, beta
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        x3, y, scale = ctx.saved_tensors
        gx = kernels.get("lrn_bwd", ctx.device)(x3, y, scale, gy.reshape(x3.shape), *ctx.params)
        return gx.reshape(gy.shape), None, None, None, None


def _box_sum(a, size):
    """Sum over the size x size neighbourhood centred on each (h, w) of (n, c, h, w), zeros
    outside: prefix sums along h then w, so the cost does not grow with size."""
    xp, pad = array_module(a), size // 2
    for axis in (2, 3):
        width = [(0, 0)] * 4
        width[axis] = (pad + 1, pad)
        cum = xp.pad(a, width).cumsum(axis=axis)
        n = a.shape[axis]
        hi = [slice(None)] * 4
        lo = [slice(None)] * 4
        hi[axis], lo[axis] = slice(size, size + n), slice(0, n)
        a = cum[tuple(hi)] - cum[tuple(lo)]
    return a


class LRNWithinFn(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        scale = k + alpha / size ** 2 * _box_sum(x * x, size)
        y = (x * _neg_pow(scale, beta)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y, scale)
        ctx.params = size, alpha, beta
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y, scale = ctx.saved_tensors
        size, alpha, beta = ctx.params
        # the centred odd box is its own adjoint, so the backward sum uses the same box
        back = _box_sum(gy * y / scale, size)
        gx = gy * _neg_pow(scale, beta) - 2.0 * alpha * beta / size ** 2 * x * back
        return gx.astype(x.dtype, copy=False), None, None, None, None


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0, mode="across_channels"):
    """Local response normalization, as in AlexNet (Krizhevsky et al. 2012, sec. 3.3) and
    GoogLeNet.

    ``mode="across_channels"`` (Caffe's ACROSS_CHANNELS, PyTorch's ``local_response_norm``), for
    x of shape (N, C, ...)::

        b[c] = a[c] / (k + alpha / size * sum_{j=c-size//2}^{c+(size-1)//2} a[j]^2) ^ beta

    with channels outside 0..C-1 counted as zero (PyTorch pads size//2 channels before and
    (size-1)//2 after; for an odd size the window is centred).

    ``mode="within_channel"`` (Caffe's WITHIN_CHANNEL), for x of shape (N, C, H, W) and an odd
    ``size``: the sum runs over the size x size spatial neighbourhood of each position in its own
    channel, zero-padded by size//2, and alpha is divided by size^2 as Caffe's average pooling
    does. Caffe fixes k = 1 in this mode; here ``k`` is used as given (pass k=1 for Caffe).

    The AlexNet paper writes the across-channel rule with alpha NOT divided by the window::

        b[c] = a[c] / (k + alpha_paper * sum_{j=max(0,c-n/2)}^{min(N-1,c+n/2)} a[j]^2) ^ beta

    with k = 2, n = 5, alpha_paper = 1e-4, beta = 0.75. So ``alpha = n * alpha_paper``
    (5e-4 for the paper's numbers) reproduces the paper exactly, and Caffe's and torchvision's
    AlexNet prototxt value alpha = 1e-4 means alpha_paper = 2e-5. The defaults are PyTorch's
    (``size`` required, alpha = 1e-4, beta = 0.75, k = 1), the same as ``nn.LocalResponseNorm``;
    the paper's k = 2 is an explicit argument (the AlexNet and ZFNet models pass it).

    The backward is the analytic one (Chainer, Caffe)::

        gx[c] = gy[c] * scale[c]^-beta
                - 2 alpha beta / size * x[c] * sum_{j: c in window(j)} gy[j] * b[j] / scale[j]
    """
    if mode not in MODES:
        raise ValueError(f"local_response_norm: mode must be one of {MODES}, got {mode!r}")
    if int(size) != size or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive integer, got {size}")
    if mode == "within_channel":
        if x.ndim != 4:
            raise ValueError(f"local_response_norm(within_channel): expected an input of shape "
                             f"(N, C, H, W), got {x.shape}")
        if size % 2 == 0:
            raise ValueError(f"local_response_norm(within_channel): size must be odd (a centred "
                             f"window, as in Caffe), got {size}")
        return LRNWithinFn.apply(x, int(size), float(alpha), float(beta), float(k))
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of shape (N, C, ...) with at "
                         f"least 3 dimensions, got {x.shape}")
    return LRNAcrossFn.apply(x, int(size), float(alpha), float(beta), float(k))
