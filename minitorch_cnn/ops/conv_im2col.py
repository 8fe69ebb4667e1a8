"""Convolution as im2col + GEMM in bounded batch chunks, forward and backward: the algorithm
of every convolution that ``conv_algorithms`` does not give to Winograd.

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
from . import conv_chunks

# stride, top/left padding and dilation, as the kernels take them, and the output size
Geometry = namedtuple("Geometry", "sy sx ph pw dy dx out_h out_w")

# below this many output pixels per sample, one wide GEMM over the chunk beats per-sample GEMMs
_KMAJOR_BELOW = 256
# sample-major chunks of about this size stay in cache between im2col and the GEMMs (measured:
# ResNet 3x3 forward+backward 15% faster than with whole-batch chunks)
_CACHE_MIB = 8


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


def epilogue(xp, y, b, activation):
    """y += b, then the fused activation (None, "relu" or "relu6"), in place."""
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    if activation == "relu":
        xp.maximum(y, 0, out=y)
    elif activation == "relu6":
        xp.clip(y, 0, 6, out=y)


def conv_forward(x, w, groups, g, device, b=None, activation=None):
    """y (N, O, out_h, out_w) = conv of x (N, C, H, W) by w (O, C/groups, kh, kw), then + b and
    ``activation`` (``epilogue``), chunk by chunk while the output is in cache."""
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
            epilogue(xp, y[lo:hi], b, activation)
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
        epilogue(xp, y[lo:hi], b, activation)
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


