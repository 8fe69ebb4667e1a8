"""Normalization kernels on the GPU: one block per row for the sums (a shared-memory tree in
float64), grid-stride loops over the elements for the affine maps. Arrays are 2-D (rows, s);
the ``norm_col_*`` kernels take a statistic per column of (N, C) instead."""
from numba import cuda, float64

from ..array_module import array_module, cuda_simulated

# a power of two (the tree reduction halves it); few under the simulator, where every CUDA
# thread is a Python thread
THREADS = 8 if cuda_simulated() else 128


@cuda.jit(device=True)
def _block_sum2(sa, sb, a, b):
    """Sum a and b over the block's threads (every thread gets nothing back; thread 0 reads
    sa[0], sb[0])."""
    t = cuda.threadIdx.x
    sa[t], sb[t] = a, b
    cuda.syncthreads()
    half = THREADS // 2
    while half > 0:
        if t < half:
            sa[t] += sa[t + half]
            sb[t] += sb[t + half]
        cuda.syncthreads()
        half //= 2


@cuda.jit
def _moments(x, mean, m2):
    r, t = cuda.blockIdx.x, cuda.threadIdx.x
    s = x.shape[1]
    shift = float64(x[r, 0])  # the shifted one-pass sums of the CPU kernel
    s1 = 0.0
    s2 = 0.0
    for p in range(t, s, THREADS):
        d = x[r, p] - shift
        s1 += d
        s2 += d * d
    sa = cuda.shared.array(THREADS, float64)
    sb = cuda.shared.array(THREADS, float64)
    _block_sum2(sa, sb, s1, s2)
    if t == 0:
        mean[r] = shift + sa[0] / s
        m2[r] = max(sb[0] - sa[0] * sa[0] / s, 0.0)


@cuda.jit
def _grad_sums(gy, x, center, sum_gy, sum_gy_xc):
    r, t = cuda.blockIdx.x, cuda.threadIdx.x
    c = center[r]
    a = 0.0
    b = 0.0
    for p in range(t, x.shape[1], THREADS):
        g = float64(gy[r, p])
        a += g
        b += g * (x[r, p] - c)
    sa = cuda.shared.array(THREADS, float64)
    sb = cuda.shared.array(THREADS, float64)
    _block_sum2(sa, sb, a, b)
    if t == 0:
        sum_gy[r] = sa[0]
        sum_gy_xc[r] = sb[0]


@cuda.jit
def _affine(x, center, a, b, y):
    s = x.shape[1]
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        r, p = i // s, i % s
        y[r, p] = (x[r, p] - center[r]) * a[r] + b[r]


@cuda.jit
def _affine_bwd(gy, x, center, a, p_, q, gx):
    s = x.shape[1]
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        r, p = i // s, i % s
        gx[r, p] = gy[r, p] * a[r] + (x[r, p] - center[r]) * p_[r] + q[r]


def _elementwise_grid(x):
    """Grid-stride loops: enough blocks to fill a GPU; one block on the simulator."""
    blocks = 1 if cuda_simulated() else min((x.size + THREADS - 1) // THREADS, 4096)
    return blocks, THREADS


def norm_row_moments(x):
    """``(mean, m2)`` per row, float64: the mean and the sum of squared deviations."""
    xp = array_module(x)
    mean, m2 = xp.empty(x.shape[0]), xp.empty(x.shape[0])
    if x.shape[0]:
        _moments[x.shape[0], THREADS](x, mean, m2)
    return mean, m2


def norm_row_grad_sums(gy, x, center):
    """``(sum gy, sum gy * (x - center))`` per row, float64."""
    xp = array_module(x)
    sum_gy, sum_gy_xc = xp.empty(x.shape[0]), xp.empty(x.shape[0])
    if x.shape[0]:
        _grad_sums[x.shape[0], THREADS](gy, x, center.astype(x.dtype), sum_gy, sum_gy_xc)
    return sum_gy, sum_gy_xc


def norm_affine(x, center, a, b, out=None):
    """y = (x - center[r]) * a[r] + b[r], into ``out`` when given (x itself may be it)."""
    y = array_module(x).empty_like(x) if out is None else out
    if x.size:
        _affine[_elementwise_grid(x)](x, *(v.astype(x.dtype) for v in (center, a, b)), y)
    return y


def norm_affine_bwd(gy, x, center, a, p, q, out=None):
    """gx = gy * a[r] + (x - center[r]) * p[r] + q[r], into ``out`` when given (gy or x itself
    may be it)."""
    gx = array_module(x).empty_like(x) if out is None else out
    if x.size:
        _affine_bwd[_elementwise_grid(x)](gy, x, *(v.astype(x.dtype) for v in (center, a, p, q)),
                                          gx)
    return gx


@cuda.jit
def _layer_norm_fwd(x, w, b, eps, y, mean, invstd):
    r, t = cuda.blockIdx.x, cuda.threadIdx.x
    d = x.shape[1]
    shift = float64(x[r, 0])
    s1 = 0.0
    s2 = 0.0
    for p in range(t, d, THREADS):
        v = x[r, p] - shift
        s1 += v
        s2 += v * v
    sa = cuda.shared.array(THREADS, float64)
    sb = cuda.shared.array(THREADS, float64)
    _block_sum2(sa, sb, s1, s2)  # ends with a barrier: every thread may read the sums
    mu = shift + sa[0] / d
    inv = 1.0 / (max(sb[0] - sa[0] * sa[0] / d, 0.0) / d + eps) ** 0.5
    if t == 0:
        mean[r], invstd[r] = mu, inv
    for p in range(t, d, THREADS):
        y[r, p] = (x[r, p] - mu) * inv * w[p] + b[p]


@cuda.jit
def _layer_norm_bwd(gy, x, mean, invstd, w, gx):
    r, t = cuda.blockIdx.x, cuda.threadIdx.x
    d = x.shape[1]
    mu, inv = mean[r], invstd[r]
    sg = 0.0
    sgx = 0.0
    for p in range(t, d, THREADS):
        g = gy[r, p] * w[p]
        sg += g
        sgx += g * (x[r, p] - mu) * inv
    sa = cuda.shared.array(THREADS, float64)
    sb = cuda.shared.array(THREADS, float64)
    _block_sum2(sa, sb, sg, sgx)
    mg, mgx = sa[0] / d, sb[0] / d
    for p in range(t, d, THREADS):
        gx[r, p] = inv * (gy[r, p] * w[p] - mg - (x[r, p] - mu) * inv * mgx)


def layer_norm_fwd(x, w, b, eps):
    """``(y, mean, invstd)`` for rows of x (M, D): y = (x - mean) * invstd * w + b with w, b of
    length D; mean and invstd per row, float64."""
    xp = array_module(x)
    y, mean, invstd = xp.empty_like(x), xp.empty(x.shape[0]), xp.empty(x.shape[0])
    if x.shape[0]:
        _layer_norm_fwd[x.shape[0], THREADS](x, w.astype(x.dtype), b.astype(x.dtype),
                                             float(eps), y, mean, invstd)
    return y, mean, invstd


def layer_norm_bwd(gy, x, mean, invstd, w):
    """``(gx, gw, gb)``: gx = invstd (g - mean_d(g) - xhat mean_d(g xhat)) with g = gy w,
    gw = sum_rows gy xhat, gb = sum_rows gy."""
    xp = array_module(x)
    gx = xp.empty_like(x)
    if x.shape[0]:
        _layer_norm_bwd[x.shape[0], THREADS](gy, x, mean, invstd, w.astype(x.dtype), gx)
    xhat = (x - mean[:, None].astype(x.dtype)) * invstd[:, None].astype(x.dtype)
    return gx, (gy * xhat).sum(axis=0).astype(w.dtype), gy.sum(axis=0).astype(w.dtype)


# The same four for a 2-D (N, C) array with one statistic per column (batch norm of (N, C)):
# one thread per column walks the rows (neighbouring threads read neighbouring columns).
@cuda.jit
def _col_sums(gy, x, center, shifted, s1, s2):
    j = cuda.grid(1)
    if j < x.shape[1]:
        a = 0.0
        b = 0.0
        for i in range(x.shape[0]):
            d = x[i, j] - center[j]
            g = d if shifted else float64(gy[i, j])
            a += g
            b += g * d
        s1[j], s2[j] = a, b


@cuda.jit
def _col_affine(x, center, a, b, y):
    c = x.shape[1]
    for k in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        i, j = k // c, k % c
        y[i, j] = (x[i, j] - center[j]) * a[j] + b[j]


@cuda.jit
def _col_affine_bwd(gy, x, center, a, p_, q, gx):
    c = x.shape[1]
    for k in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        i, j = k // c, k % c
        gx[i, j] = gy[i, j] * a[j] + (x[i, j] - center[j]) * p_[j] + q[j]


def _column_grid(x):
    return (x.shape[1] + THREADS - 1) // THREADS, THREADS


def norm_col_moments(x):
    """``(mean, m2)`` per column, float64."""
    xp = array_module(x)
    shift = x[0].astype(xp.float64)  # the shifted one-pass sums of the rows
    s1, s2 = xp.empty(x.shape[1]), xp.empty(x.shape[1])
    if x.size:
        _col_sums[_column_grid(x)](x, x, shift, True, s1, s2)
    n = x.shape[0]
    return shift + s1 / n, xp.maximum(s2 - s1 * s1 / n, 0.0)


def norm_col_grad_sums(gy, x, center):
    """``(sum gy, sum gy * (x - center))`` per column, float64."""
    xp = array_module(x)
    s1, s2 = xp.empty(x.shape[1]), xp.empty(x.shape[1])
    if x.size:
        _col_sums[_column_grid(x)](gy, x, center.astype(xp.float64), False, s1, s2)
    return s1, s2


def norm_col_affine(x, center, a, b):
    """y = (x - center[j]) * a[j] + b[j] for column j."""
    y = array_module(x).empty_like(x)
    if x.size:
        _col_affine[_elementwise_grid(x)](x, *(v.astype(x.dtype) for v in (center, a, b)), y)
    return y


def norm_col_affine_bwd(gy, x, center, a, p, q):
    """gx = gy * a[j] + (x - center[j]) * p[j] + q[j] for column j."""
    gx = array_module(x).empty_like(x)
    if x.size:
        _col_affine_bwd[_elementwise_grid(x)](gy, x, *(v.astype(x.dtype)
                                                      for v in (center, a, p, q)), gx)
    return gx
