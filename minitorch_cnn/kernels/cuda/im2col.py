"""im2col / col2im on the GPU: one thread per element written, padding fused.

im2col has one thread per ``col`` element (a gather, no conflicts), threads numbered in the
memory order of ``col`` so that writes coalesce. col2im is written as a gather too, one thread
per input pixel summing the taps that read it, so it needs no atomics and overwrites its output.
``col`` is (N, C, kh, kw, oh, ow) C-contiguous, or the K-major view of a (C, kh, kw, N, oh, ow)
buffer; the kernels get the contiguous array and a flag, since a strided host array cannot be
passed to the simulator.
"""
from numba import cuda

THREADS = 256


def _blocks(size):
    return (size + THREADS - 1) // THREADS


def _physical(col):
    """``col`` as a C-contiguous array and whether that array is K-major."""
    if col.flags.c_contiguous:
        return col, False
    kmajor = col.transpose(1, 2, 3, 0, 4, 5)
    if kmajor.flags.c_contiguous:
        return kmajor, True
    raise ValueError("im2col (cuda): col must be a C-contiguous (N, C, kh, kw, oh, ow) array or "
                     "the (N, C, kh, kw, oh, ow) view of a C-contiguous (C, kh, kw, N, oh, ow) one")


@cuda.jit(device=True)
def _unravel_nchw(idx, c, h, w):
    """(b, ch, row, column) of the idx-th element of a C-contiguous (N, C, H, W) array."""
    column = idx % w
    t = idx // w
    row = t % h
    t //= h
    return t // c, t % c, row, column


@cuda.jit(device=True)
def _output_of(pos, pad, tap, dilation, stride, n_out):
    """The output o whose window's tap reads input position pos (o stride - pad + tap dilation
    = pos), or -1 if there is none."""
    t = pos + pad - tap * dilation
    if t < 0 or t % stride != 0 or t // stride >= n_out:
        return -1
    return t // stride


@cuda.jit(device=True)
def _unravel(idx, col, kmajor):
    """(b, ch, i, j, oh, ow) of the idx-th element of the physical col."""
    if kmajor:
        c, kh, kw, n, out_h, out_w = col.shape
    else:
        n, c, kh, kw, out_h, out_w = col.shape
    ow = idx % out_w
    t = idx // out_w
    oh = t % out_h
    t //= out_h
    b = 0
    if kmajor:
        b = t % n
        t //= n
    j = t % kw
    t //= kw
    i = t % kh
    t //= kh
    ch = t % c
    if not kmajor:
        b = t // c
    return b, ch, i, j, oh, ow


@cuda.jit
def _im2col(x, col, kmajor, sy, sx, ph, pw, dy, dx):
    idx = cuda.grid(1)
    if idx >= col.size:
        return
    b, ch, i, j, oh, ow = _unravel(idx, col, kmajor)
    ih = oh * sy - ph + i * dy
    iw = ow * sx - pw + j * dx
    v = x[b, ch, 0, 0] * 0
    if 0 <= ih < x.shape[2] and 0 <= iw < x.shape[3]:
        v = x[b, ch, ih, iw]
    if kmajor:
        col[ch, i, j, b, oh, ow] = v
    else:
        col[b, ch, i, j, oh, ow] = v


@cuda.jit
def _col2im(col, kmajor, x, sy, sx, ph, pw, dy, dx):
    idx = cuda.grid(1)
    n, c, in_h, in_w = x.shape
    kh, kw = col.shape[1:3] if kmajor else col.shape[2:4]
    out_h, out_w = col.shape[4], col.shape[5]
    if idx >= n * c * in_h * in_w:
        return
    b, ch, ih, iw = _unravel_nchw(idx, c, in_h, in_w)
    acc = 0.0
    for i in range(kh):
        oh = _output_of(ih, ph, i, dy, sy, out_h)
        if oh < 0:
            continue
        for j in range(kw):
            ow = _output_of(iw, pw, j, dx, sx, out_w)
            if ow < 0:
                continue
            if kmajor:
                acc += col[ch, i, j, b, oh, ow]
            else:
                acc += col[b, ch, i, j, oh, ow]
    x[b, ch, ih, iw] = acc


def im2col(x, col, sy, sx, ph, pw, dy, dx):
    """Fill ``col`` (N, C, kh, kw, out_h, out_w) with the patches of ``x`` (N, C, H, W)."""
    if col.size:
        col, kmajor = _physical(col)
        _im2col[_blocks(col.size), THREADS](x, col, kmajor, sy, sx, ph, pw, dy, dx)


def col2im(col, x, sy, sx, ph, pw, dy, dx):
    """Overwrite ``x`` (N, C, H, W) with the sum of the patches in ``col``: im2col's adjoint."""
    if x.size:
        col, kmajor = _physical(col)
        _col2im[_blocks(x.size), THREADS](col, kmajor, x, sy, sx, ph, pw, dy, dx)
