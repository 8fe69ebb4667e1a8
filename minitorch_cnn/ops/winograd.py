"""Winograd minimal filtering for stride-1 3x3 convolutions: F(2x2, 3x3) and F(4x4, 3x3)
(Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks", CVPR).

An m x m output tile of a 3x3 convolution costs (m + 2)^2 multiplications per input channel
instead of 9 m^2: 2.25x fewer for F(2x2), 4x fewer for F(4x4). With t = m + 2 and the tiles
of the output numbered n-major (``tiles = ceil(out_h / m) * ceil(out_w / m)`` per sample):

    V (t*t, C, N*tiles) = B^T d B      of every input tile d     (kernel winograd_input_transform)
    U (t*t, O, C)       = G g G^T      of every filter g         (kernel winograd_filter_transform)
    M (t*t, O, N*tiles) = U V          t*t GEMMs, xp.matmul batched over the t*t positions
    y (N, O, oh, ow)    = A^T M A      cropped at the edges, + b (kernel winograd_output_transform)

All three operands are C-contiguous, so the GEMMs need no transposes, and their inner
dimension N*tiles is wide. The batch runs in chunks whose V and M fit a bounded workspace
(``conv_chunks``) on the CPU worker threads (``threads``), as ``conv_im2col.conv_forward`` does.
The filter is transformed at every call, as the weights change at every step (a cache keyed on
the array would be stale after an in-place update): it writes t*t*O*C numbers next to the
GEMMs' t*t*O*C*N*tiles multiply-adds, measured a tenth of a late 7x7 layer at batch 32.

The input gradient of a stride-1 3x3 convolution with top/left padding (ph, pw) is the same
kind of convolution of gy by the flipped, in/out-transposed filter, with top/left padding
(2 - ph, 2 - pw) and x's size as output size: ``input_grad`` runs ``forward`` on it. The
weight gradient stays im2col (``conv_im2col.conv_backward``).

F(4x4) loses digits in float32 (its transforms hold 4, 5, 8 and 1/24): ``choose_m`` picks m
from the measured errors of docs/kernels.md ("Winograd").
"""
import numpy as np

from .. import backend, config, kernels, threads
from . import conv_chunks
from .conv_im2col import Geometry

# F(4x4) in float32 within 1e-4 of the largest output up to this many channels summed over (the
# forward's C, the input gradient's O): measured up to 2048 (docs/kernels.md, "Winograd")
_F4_FLOAT32_MAX_CHANNELS = 2048
# F(4x4) faster than F(2x2) on maps of at least this size, or from this many F(4x4) tiles per
# call (choose_m's measurements)
_F4_MIN_SIZE = 28
_F4_MIN_TILES = 128
# batch chunks of about this many MiB of V + M (in cache between the transforms and the GEMMs)
# but of at least this many GEMM columns (tiles), measured (float32, 2 threads, forward):
# ResNet 3x3 (32,64,56,56) F(4x4) 58 -> 48 ms from 16 to 4 MiB; late 3x3 (32,512,7,7), 4 tiles
# a sample, 113 ms with 2 MiB chunks (3 samples), 64 with 16 MiB (16 samples)
_CHUNK_MIB = 4
_CHUNK_COLUMNS = 128


def applicable(w_shape, geometry, groups):
    """Whether Winograd computes this convolution: 3x3 filters, stride 1, dilation 1, groups 1
    (any zero padding)."""
    g = geometry
    return (groups == 1 and tuple(w_shape[2:]) == (3, 3) and g.sy == g.sx == 1
            and g.dy == g.dx == 1)


def f4_within_bound(w_shape, dtype):
    """Whether F(4x4)'s float error stays within 1e-4 of the largest output for this filter
    (float64 always; float32 up to the measured channel counts; not float16)."""
    dtype = np.dtype(dtype).name
    if dtype == "float64":
        return True
    return dtype == "float32" and max(w_shape[0], w_shape[1]) <= _F4_FLOAT32_MAX_CHANNELS


def choose_m(w_shape, x_shape, dtype):
    """The tile size m (2 or 4) for a convolution of x_shape (N, C, H, W) by w_shape
    (O, C, 3, 3) with stride 1 and padding 1 (one answer for its forward and input gradient).

    F(4x4) does 36 multiplications per 4x4 output tile, F(2x2) 16 per 2x2 (2.25 and 4 per
    output), but F(4x4) loses digits: measured in float32 on the zoo's 3x3 layers (VGG-16,
    ResNet-18/50) and up to 2048 channels, its error stayed below 2.1e-5 of the largest output
    (F(2x2) and im2col: below 1e-6), within the 1e-4 bound. And its transformed filters are
    2.25x larger (36 O C numbers, written at every call), which small batches of small maps do
    not amortise: measured (float32, 2 threads), F(2x2) was faster below 128 F(4x4) tiles per
    call on maps under 28x28 (7x7 at batch 16: 1.28x im2col's speed against 1.09x; 14x14 at
    batch 4: 1.48x against 1.22x), F(4x4) from there (7x7 at batch 32: 1.38x against 1.33x)
    and on maps of 28x28 and more (28x28 at batch 1: 1.59x against 1.37x).

    So: F(4x4) when the error allows it (float64: always, errors ~1e-14; float32: C and O at
    most 2048, the measured range), the map is at least 28x28 or gives at least 128 F(4x4)
    tiles per call, and its tiles cost no more multiplications than F(2x2)'s (not on maps of
    1-2 pixels); else F(2x2). Other dtypes (float16: F(4x4)'s error would be ~1e-2): F(2x2)."""
    if not f4_within_bound(w_shape, dtype):
        return 2
    n, _, h, w = x_shape
    cost = {m: (m + 2) ** 2 * _tiles(h, m) * _tiles(w, m) for m in (2, 4)}
    amortised = min(h, w) >= _F4_MIN_SIZE or n * _tiles(h, 4) * _tiles(w, 4) >= _F4_MIN_TILES
    return 4 if amortised and cost[4] <= cost[2] else 2


def _tiles(size, m):
    return -(-size // m)


def forward(x, w, geometry, m, device, b=None):
    """y (N, O, out_h, out_w) = the stride-1 3x3 convolution of x (N, C, H, W) by w (O, C, 3, 3)
    (+ b (O,)) by Winograd F(m x m, 3 x 3), m in (2, 4); x, w C-contiguous, same float dtype.
    ``geometry`` is the ``conv_im2col.Geometry`` of the convolution (``applicable`` holds)."""
    if m not in (2, 4):
        raise ValueError(f"winograd.forward: m must be 2 or 4, got {m!r}")
    xp = backend.xp(x)
    n, c = x.shape[:2]
    o, t = w.shape[0], m + 2
    out_h, out_w = geometry.out_h, geometry.out_w
    tiles_h, tiles_w = _tiles(out_h, m), _tiles(out_w, m)
    u = xp.empty((t, t, o, c), w.dtype)
    kernels.get("winograd_filter_transform", device)(w, u)
    um = u.reshape(t * t, o, c)
    y = xp.empty((n, o, out_h, out_w), x.dtype)
    if y.size == 0:
        return y
    input_transform = kernels.get("winograd_input_transform", device)
    output_transform = kernels.get("winograd_output_transform", device)
    tiles = tiles_h * tiles_w
    per_sample = t * t * (c + o) * tiles
    sample_bytes = per_sample * xp.dtype(x.dtype).itemsize
    mib = max(_CHUNK_MIB, sample_bytes * _tiles(_CHUNK_COLUMNS, tiles) / 2**20)
    if device.type != "cpu":  # a GPU wants few, large launches: chunks as large as allowed
        mib = None
    chunks = conv_chunks.chunks(n, sample_bytes, mib, config.get_num_threads())

    def chunk(lo, hi):
        nc = hi - lo
        size_v = t * t * c * nc * tiles
        data = conv_chunks.workspace(xp, device, x.dtype, nc * per_sample)
        v = data[:size_v].reshape(t, t, c, nc, tiles_h, tiles_w)
        mm = data[size_v:].reshape(t, t, o, nc, tiles_h, tiles_w)
        input_transform(x[lo:hi], v, geometry.ph, geometry.pw)
        xp.matmul(um, v.reshape(t * t, c, -1), out=mm.reshape(t * t, o, -1))
        output_transform(mm, y[lo:hi], b)
    threads.run(chunk, chunks, device)
    return y


def input_grad(gy, w, geometry, m, device, x_shape):
    """gx (x_shape) of the convolution ``forward`` computes, for the upstream gradient gy
    (N, O, out_h, out_w): the stride-1 3x3 convolution of gy by w flipped and transposed to
    (C, O, 3, 3), top/left padding (2 - ph, 2 - pw), by Winograd F(m x m, 3 x 3)."""
    xp = backend.xp(gy)
    wt = xp.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    g = Geometry(1, 1, 2 - geometry.ph, 2 - geometry.pw, 1, 1, *x_shape[2:])
    return forward(gy, wt, g, m, device)
