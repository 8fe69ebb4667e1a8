"""Memory-efficient dense concatenation (Pleiss, Chen, Huang, Li, van der Maaten & Weinberger,
"Memory-Efficient Implementation of DenseNets", 2017): the two ops a DenseNet block needs to
train without copying its growing input at every layer.

A dense block of L layers with growth rate k feeds layer l the concatenation of the block's
input (C0 channels) and the l outputs before it. Made by ``cat`` at every layer, that is a fresh
(N, C0 + l k, H, W) array per layer, O(L^2) copies and memory per block: each is kept for the
backward by the layer's batch norm, and its BN-ReLU output, which the 1x1 convolution keeps, is
a second array of that size. Measured on DenseNet-121 (batch 8, 224x224), a training step
allocated 1514 MiB with them and 696 MiB with the two ops below (docs/benchmarks.md). Here:

- ``FeatureBuffer`` is one (N, C0 + L k, H, W) array per block and forward pass. ``CatIntoFn``
  writes the features it has not seen yet into their channel slices and returns the first
  C0 + l k channels as a *view*: each feature map is copied once, and the layers' inputs share
  that memory. The buffer is written once per slice and never again, so the views that the
  graph keeps stay valid. Backward hands each input its slice of the gradient, exactly what
  ``CatFn`` does.
- ``BottleneckInputFn`` is the layer's BN-ReLU-Conv1x1 in training (batch statistics, running
  statistics updated) on such a view, without copying it: each sample's channels x[n] are
  contiguous even where x is not, so the ``norm_*`` row kernels and the 1x1 convolution's GEMM
  run sample by sample. It keeps only its input (the shared view) and per-row statistics: the
  BN-ReLU output, the other array of x's size, is made again in the backward (the paper's
  shared, recomputed storage for the batch norm outputs). Per dense layer that leaves
  O(bottleneck) arrays, not O(C0 + l k).
"""
from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module
from .normalization import _group, _per_row, _sum, _update_running

_AXES = (0,)  # batch norm: the rows (n, c) of a channel share statistics along n


class FeatureBuffer:
    """The shared storage of one dense block's features for one forward pass: ``channels`` in
    all (C0 + L k), allocated on the first write with the first feature's batch, size, dtype
    and device. Build a new one for each forward pass (the graph of the last one keeps views
    of the old array)."""

    def __init__(self, channels):
        self.channels = channels
        self.array = None
        self.parts = []  # the arrays written so far, in channel order
        self.end = 0

    def extend(self, xs):
        """Write the arrays of ``xs`` not written yet; the first ones must be those written
        (the same arrays). Returns the view of the channels of all of ``xs``."""
        first = xs[0]
        if self.array is None:
            if first.ndim != 4:
                raise ValueError(f"CatIntoFn: expected (N, C, H, W) features, got {first.shape}")
            n, _, h, w = first.shape
            self.array = array_module(first).empty((n, self.channels, h, w), first.dtype)
        if len(xs) < len(self.parts) or any(x is not p for x, p in zip(xs, self.parts)):
            raise ValueError("CatIntoFn: the features must extend those already written to the "
                             f"buffer ({len(self.parts)} of them), in order")
        for x in xs[len(self.parts):]:
            n, _, h, w = self.array.shape
            if x.ndim != 4 or (x.shape[0], x.shape[2], x.shape[3]) != (n, h, w) \
                    or self.end + x.shape[1] > self.channels:
                raise ValueError(f"CatIntoFn: expected a feature of shape ({n}, C, {h}, {w}) "
                                 f"with C <= {self.channels - self.end}, got {x.shape}")
            self.array[:, self.end:self.end + x.shape[1]] = x
            self.parts.append(x)
            self.end += x.shape[1]
        return self.array[:, :self.end]


class CatIntoFn(Function):
    """``cat(xs, dim=1)`` as a view of a ``FeatureBuffer``; gradient: each input's slice."""

    @staticmethod
    def forward(ctx, *xs, buffer):
        if not xs:
            raise ValueError("CatIntoFn: expected at least one tensor")
        out = buffer.extend(xs)
        bounds, end = [], 0
        for x in xs[:-1]:
            end += x.shape[1]
            bounds.append(end)
        ctx.bounds = bounds
        return out

    @staticmethod
    def backward(ctx, gy):
        return tuple(array_module(gy).split(gy, ctx.bounds, axis=1))


def _rows(a, n):
    """A sample's channels of (N, C, H, W) as rows (C, H*W): contiguous when a[n] is."""
    return a[n].reshape(a.shape[1], -1)


class BottleneckInputFn(Function):
    """conv1x1(relu(batch_norm(x, training=True)), weight) of x (N, C, H, W) whose samples x[n]
    are each contiguous (a channel slice of a ``FeatureBuffer``): a dense layer's first half,
    BN-ReLU-Conv1x1 without a bias. ``running``: (mean, var, momentum) updated in place, or
    None.

    Nothing of x's size is stored: the BN-ReLU output of a sample is made in a temporary, fed to
    the 1x1 convolution (a GEMM, weight (O, C) @ (C, H*W)) and dropped, and the backward makes it
    again from x and the per-row statistics (one more pass over x; the paper's recomputation).
    Results: those of ``RowNormFn``, ``ReLUFn`` and the convolution, to float rounding (the
    normalisation and ReLU bit for bit: the same kernels on the same rows).
    """

    @staticmethod
    def forward(ctx, x, bn_weight, bn_bias, weight, eps, running=None):
        xp, (n, c) = array_module(x), x.shape[:2]
        moments, _, affine, _ = ctx.kernels = [
            kernels.get(k, ctx.device) for k in ("norm_row_moments", "norm_row_grad_sums",
                                                 "norm_affine", "norm_affine_bwd")]
        per_sample = [moments(_rows(x, i)) for i in range(n)]
        mr = xp.stack([m for m, _ in per_sample])
        m2 = xp.stack([v for _, v in per_sample])
        s = x[0, 0].size
        count = s * n
        mean = _sum(mr, _AXES) * (s / count)
        var = (_sum(m2, _AXES) + s * _sum((mr - mean) ** 2, _AXES)) / count
        if running is not None:
            _update_running(running, mean.reshape(-1, c), var.reshape(-1, c), count)
        mean = xp.broadcast_to(mean, (n, c)).reshape(-1)
        invstd = 1.0 / xp.sqrt(xp.broadcast_to(var, (n, c)).reshape(-1) + eps)
        a = invstd if bn_weight is None else _per_row(bn_weight, n, c) * invstd
        b = xp.zeros_like(a) if bn_bias is None else _per_row(bn_bias, n, c)
        ctx.save_for_backward(x, mean, invstd, a, b, weight)
        ctx.count, ctx.bn_weight, ctx.affine = count, bn_weight, affine
        w2 = weight.reshape(weight.shape[0], c)
        y = xp.empty((n, weight.shape[0]) + x.shape[2:], x.dtype)
        r = xp.empty((c, x[0, 0].size), x.dtype)  # one sample's BN-ReLU output, reused
        for i in range(n):
            xp.matmul(w2, _relu_rows(ctx, x, i, mean, a, b, r), out=_rows(y, i))
        return y

    @staticmethod
    def backward(ctx, gy):
        x, mean, invstd, a, b, weight = ctx.saved_tensors
        xp, (n, c) = array_module(x), x.shape[:2]
        _, grad_sums, _, affine_bwd = ctx.kernels
        need_x, need_bw, need_bb, need_w = ctx.needs_input_grad[:4]
        gy = xp.ascontiguousarray(gy)
        w2 = weight.reshape(weight.shape[0], c)
        g = xp.empty(x.shape, x.dtype)  # the gradient at the BN-ReLU output, then at x
        gw = xp.zeros(w2.shape, x.dtype) if need_w else None
        r = xp.empty((c, x[0, 0].size), x.dtype)
        sum_gy, sum_gy_xc = xp.empty(n * c), xp.empty(n * c)
        for i in range(n):
            rows, gi = slice(i * c, (i + 1) * c), _rows(g, i)
            _relu_rows(ctx, x, i, mean, a, b, r)
            if need_w:
                gw += _rows(gy, i) @ r.T
            xp.matmul(w2.T, _rows(gy, i), out=gi)
            xp.multiply(gi, r > 0, out=gi)  # ReLU's backward
            sum_gy[rows], sum_gy_xc[rows] = grad_sums(gi, _rows(x, i), mean[rows])
        gbw = (sum_gy_xc * invstd).reshape(n, c).sum(axis=0) if need_bw else None
        gbb = sum_gy.reshape(n, c).sum(axis=0) if need_bb else None
        gw = None if gw is None else gw.reshape(weight.shape)
        if not need_x:
            return None, gbw, gbb, gw
        bw = 1.0 if ctx.bn_weight is None else _per_row(ctx.bn_weight, n, c)
        sa = _group(bw * sum_gy, (n, c), _AXES) / ctx.count
        sb = _group(bw * sum_gy_xc, (n, c), _AXES) / ctx.count
        p, q = -invstd ** 3 * sb, -invstd * sa
        for i in range(n):  # in place: g becomes the gradient at x
            rows = slice(i * c, (i + 1) * c)
            affine_bwd(_rows(g, i), _rows(x, i), mean[rows], a[rows], p[rows], q[rows],
                       out=_rows(g, i))
        return g, gbw, gbb, gw


def _relu_rows(ctx, x, i, mean, a, b, out):
    """relu(batch_norm(x))[i] as rows (C, H*W), written into ``out``."""
    c = x.shape[1]
    rows = slice(i * c, (i + 1) * c)
    ctx.affine(_rows(x, i), mean[rows], a[rows], b[rows], out=out)
    return array_module(out).maximum(out, 0, out=out)
