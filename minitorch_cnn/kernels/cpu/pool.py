"""Pooling and unpooling on the CPU: Numba loops, parallel over the n * c channel planes (each
plane is independent, so the scatter of a backward pass needs no atomics and stays in cache).

Same names, signatures and results as ``kernels/reference/pool.py``.
"""
import numba
import numpy as np
from numba import njit, prange, uint64

# below this many elements a kernel runs on the calling thread alone. Threads gain ~60 us per
# call at LeNet's sizes on an idle machine, but on a busy 2-core machine, next to BLAS's threads
# and the conv workers, waking the OpenMP team stalled single calls for a time slice (8 ms):
# LeNet-5 epochs of 2.5 s instead of 0.4 s. From 2^19 on (ResNet's stem pool at batch 1, 0.8 M:
# 9.7 -> 4.9 ms on two threads) the threads pay; LeNet's pools (0.3 M at batch 64) stay serial
PARALLEL_MIN = 1 << 19


def _run(kernel, size, *args):
    """``kernel(*args)``, on one thread when ``size`` is below PARALLEL_MIN."""
    threads = numba.get_num_threads()
    if size >= PARALLEL_MIN or threads == 1:
        return kernel(*args)
    numba.set_num_threads(1)  # (thread-local)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(threads)


def _planes(a):
    """(n, c, h, w) -> a C-contiguous (n * c, h * w) view (or copy)."""
    n, c, h, w = a.shape
    return np.ascontiguousarray(a).reshape(n * c, h * w)


@njit(inline="always")
def _taps(start, k, step, size):
    """[lo, hi): the taps a of a window side with 0 <= start + a * step < size."""
    lo = 0 if start >= 0 else (step - 1 - start) // step
    return lo, min(k, (size - start + step - 1) // step)


@njit(inline="always")
def _better(v, best):
    """PyTorch's rule: strictly greater wins (the first of ties), a NaN always wins. Written as
    selects, not branches, which random data mispredicts."""
    return (v > best) | (v != v)


@njit(cache=True, parallel=True)
def _max_fwd_direct(x, y, indices, in_h, in_w, out_h, out_w, kh, kw, sy, sx, ph, pw, dy, dx):
    # strided windows (AlexNet's, GoogLeNet's 3x3/2): a loop over each window's taps; flat
    # arrays and unsigned offsets: no wrap-around tests (12% faster than 2-D indexing)
    for p in prange(x.size // (in_h * in_w)):
        src, dst = uint64(p * in_h * in_w), uint64(p * out_h * out_w)
        for i in range(out_h):
            h0 = i * sy - ph
            a0, a1 = _taps(h0, kh, dy, in_h)
            for j in range(out_w):
                w0 = j * sx - pw
                b0, b1 = _taps(w0, kw, dx, in_w)
                where = (h0 + a0 * dy) * in_w + w0 + b0 * dx
                best = x[src + uint64(where)]
                for a in range(a0, a1):
                    row = (h0 + a * dy) * in_w + w0
                    for b in range(b0, b1):
                        k = row + b * dx
                        v = x[src + uint64(k)]
                        better = _better(v, best)
                        best = v if better else best
                        where = k if better else where
                o = dst + uint64(i * out_w + j)
                y[o] = best
                indices[o] = where


# planes per task of _max_fwd_rows, which allocates its row buffers once per task
_PLANES_PER_TASK = 16


@njit(cache=True, parallel=True)
def _max_fwd_rows(x, y, indices, in_h, in_w, out_h, out_w, kh, kw, sy, ph, pw, dy, dx):
    # column stride 1 (Inception's 3x3/1 pools), separable: first every input row's maxima over
    # each output column's taps (rmax, their columns in rcol), then each output row's maxima
    # over its rows of rmax. Both inner loops run along the output columns and vectorise:
    # GoogLeNet's 3x3/1 pools 2-5x faster than _max_fwd_direct (its strided ones ran 1.3-1.6x
    # slower, so they keep the direct loop). A window's first maximum in row-major order is the
    # first maximum of the first row whose maximum is largest: the same indices.
    j_lo = min(out_w, pw)  # [j_lo, j_hi): the columns with every tap inside the row
    j_hi = max(j_lo, min(out_w, in_w - (kw - 1) * dx + pw))
    planes = x.size // (in_h * in_w)
    for task in prange((planes + _PLANES_PER_TASK - 1) // _PLANES_PER_TASK):
        rmax = np.empty(in_h * out_w, x.dtype)
        rcol = np.empty(in_h * out_w, np.int64)
        for p in range(task * _PLANES_PER_TASK, min(planes, (task + 1) * _PLANES_PER_TASK)):
            src, dst = uint64(p * in_h * in_w), uint64(p * out_h * out_w)
            for h in range(in_h):
                _row_maxima(x, rmax, rcol, src + uint64(h * in_w), uint64(h * out_w), in_w,
                            out_w, kw, pw, dx, j_lo, j_hi)
            for i in range(out_h):
                h0 = i * sy - ph
                a0, a1 = _taps(h0, kh, dy, in_h)
                out, h = dst + uint64(i * out_w), h0 + a0 * dy
                for j in range(out_w):
                    r = uint64(h * out_w + j)
                    y[out + uint64(j)], indices[out + uint64(j)] = rmax[r], h * in_w + rcol[r]
                for a in range(a0 + 1, a1):
                    h = h0 + a * dy
                    for j in range(out_w):
                        r, o = uint64(h * out_w + j), out + uint64(j)
                        better = _better(rmax[r], y[o])
                        y[o] = rmax[r] if better else y[o]
                        indices[o] = h * in_w + rcol[r] if better else indices[o]


@njit(inline="always")
def _row_maxima(x, rmax, rcol, row, r, in_w, out_w, kw, pw, dx, j_lo, j_hi):
    """rmax[r + j], rcol[r + j]: the maximum of x[row + j - pw + b dx] over the taps b inside
    the row, and its column, for every output column j."""
    for e in range(out_w - (j_hi - j_lo)):  # the edge columns, outside [j_lo, j_hi)
        j = e if e < j_lo else e + j_hi - j_lo
        b0, b1 = _taps(j - pw, kw, dx, in_w)
        where = j - pw + b0 * dx
        best = x[row + uint64(where)]
        for b in range(b0 + 1, b1):
            k = j - pw + b * dx
            better = _better(x[row + uint64(k)], best)
            best = x[row + uint64(k)] if better else best
            where = k if better else where
        rmax[r + uint64(j)], rcol[r + uint64(j)] = best, where
    for j in range(j_lo, j_hi):
        rmax[r + uint64(j)], rcol[r + uint64(j)] = x[row + uint64(j - pw)], j - pw
    for b in range(1, kw):
        for j in range(j_lo, j_hi):
            k, o = j - pw + b * dx, r + uint64(j)
            better = _better(x[row + uint64(k)], rmax[o])
            rmax[o] = x[row + uint64(k)] if better else rmax[o]
            rcol[o] = k if better else rcol[o]


@njit(cache=True, parallel=True)
def _max_fwd_2x2(x, y, indices, in_h, in_w, out_h, out_w):
    # MaxPool2d(2) with every window inside the input (LeNet's, VGG's pools): constant taps
    # and strides let the compiler vectorise; 4-7x faster than the general loop
    for p in prange(x.size // (in_h * in_w)):
        src, dst = uint64(p * in_h * in_w), uint64(p * out_h * out_w)
        for i in range(out_h):
            for j in range(out_w):
                k = 2 * i * in_w + 2 * j
                best, where = x[src + uint64(k)], k
                for t in (k + 1, k + in_w, k + in_w + 1):  # row-major order
                    v = x[src + uint64(t)]
                    better = _better(v, best)
                    best = v if better else best
                    where = t if better else where
                o = dst + uint64(i * out_w + j)
                y[o] = best
                indices[o] = where


def max_pool2d_fwd(x, kh, kw, sy, sx, ph, pw, dy, dx, out_h, out_w):
    """Max of each (dilated) window and its flat index in the channel's plane (int64)."""
    n, c, in_h, in_w = x.shape
    y = np.empty((n, c, out_h, out_w), x.dtype)
    indices = np.empty((n, c, out_h, out_w), np.int64)
    args = (np.ascontiguousarray(x).reshape(-1), y.reshape(-1), indices.reshape(-1), in_h, in_w,
            out_h, out_w)
    if (kh, kw, sy, sx, ph, pw, dy, dx) == (2, 2, 2, 2, 0, 0, 1, 1) and 2 * out_h <= in_h \
            and 2 * out_w <= in_w:  # (not ceil_mode's partial windows)
        _run(_max_fwd_2x2, x.size, *args)
    elif sx == 1:
        _run(_max_fwd_rows, x.size, *args, kh, kw, sy, ph, pw, dy, dx)
    else:
        _run(_max_fwd_direct, x.size, *args, kh, kw, sy, sx, ph, pw, dy, dx)
    return y, indices


@njit(cache=True, parallel=True)
def _scatter_planes(gx, indices, gy, accumulate):
    for p in prange(gx.shape[0]):
        gx[p, :] = 0  # zeroed here, plane by plane, while it is in cache
        for k in range(gy.shape[1]):
            if accumulate:
                gx[p, indices[p, k]] += gy[p, k]
            else:
                gx[p, indices[p, k]] = gy[p, k]


def max_pool2d_bwd(gy, indices, in_h, in_w):
    """gx: each output gradient added at its argmax (overlapping windows may share one)."""
    n, c = gy.shape[:2]
    gx = np.empty((n * c, in_h * in_w), gy.dtype)
    _run(_scatter_planes, gx.size, gx, _planes(indices), _planes(gy), True)
    return gx.reshape(n, c, in_h, in_w)


def _avg_windows(out_h, out_w, in_h, in_w, kh, kw, sy, sx, ph, pw, count_include_pad, divisor,
                 dtype):
    """Each output row's window [h0, h1) and column's [w0, w1), clipped to the input, and the
    divisor of every output as PyTorch's (see kernels/reference/pool.py), in x's dtype."""
    sides = []
    for out, s, p, k, size in ((out_h, sy, ph, kh, in_h), (out_w, sx, pw, kw, in_w)):
        start = np.arange(out, dtype=np.int64) * s - p
        end = np.minimum(start + k, size + p)
        lo, hi = np.maximum(start, 0), np.minimum(end, size)
        sides.append((lo, hi, (end - start) if count_include_pad else np.maximum(hi - lo, 0)))
    (h0, h1, rows), (w0, w1, cols) = sides
    counts = np.full((out_h, out_w), divisor) if divisor else np.outer(rows, cols)
    return h0, h1, w0, w1, np.maximum(counts, 1).astype(dtype).reshape(-1)  # empty: sum is 0


@njit(cache=True, parallel=True)
def _avg_fwd(x, y, in_h, in_w, out_h, out_w, h0, h1, w0, w1, counts):
    # separable: the rows of a window row are summed into acc (a vectorised loop over in_w),
    # then each output sums its run of acc; unsigned flat indices skip Numba's wrap-around test
    for p in prange(x.size // (in_h * in_w)):
        src, dst = uint64(p * in_h * in_w), uint64(p * out_h * out_w)
        acc = np.empty(in_w, x.dtype)
        for i in range(out_h):
            acc[:] = 0
            for h in range(h0[i], h1[i]):
                row = src + uint64(h * in_w)
                for w in range(in_w):
                    acc[w] += x[row + uint64(w)]
            for j in range(out_w):
                total = acc[0] * 0
                for w in range(w0[j], w1[j]):
                    total += acc[w]
                k = uint64(i * out_w + j)
                y[dst + k] = total / counts[k]


def avg_pool2d_fwd(x, kh, kw, sy, sx, ph, pw, out_h, out_w, count_include_pad, divisor):
    """Mean of each window; ``divisor`` (0 for none) overrides the count, as divisor_override."""
    n, c, in_h, in_w = x.shape
    y = np.empty((n, c, out_h, out_w), x.dtype)
    windows = _avg_windows(out_h, out_w, in_h, in_w, kh, kw, sy, sx, ph, pw, count_include_pad,
                           divisor, x.dtype)
    _run(_avg_fwd, x.size, np.ascontiguousarray(x).reshape(-1), y.reshape(-1), in_h, in_w,
         out_h, out_w, *windows)
    return y


@njit(cache=True, parallel=True)
def _avg_bwd(gy, gx, in_h, in_w, out_h, out_w, h0, h1, w0, w1, counts):
    # the adjoint of _avg_fwd: spread each output row's gradients over acc, add acc to its rows
    for p in prange(gx.size // (in_h * in_w)):
        src, dst = uint64(p * out_h * out_w), uint64(p * in_h * in_w)
        acc = np.empty(in_w, gx.dtype)
        for k in range(in_h * in_w):
            gx[dst + uint64(k)] = 0
        for i in range(out_h):
            acc[:] = 0
            for j in range(out_w):
                k = uint64(i * out_w + j)
                g = gy[src + k] / counts[k]
                for w in range(w0[j], w1[j]):
                    acc[w] += g
            for h in range(h0[i], h1[i]):
                row = dst + uint64(h * in_w)
                for w in range(in_w):
                    gx[row + uint64(w)] += acc[w]


def avg_pool2d_bwd(gy, in_h, in_w, kh, kw, sy, sx, ph, pw, count_include_pad, divisor):
    """gx: each output gradient spread evenly (1 / divisor) over its window."""
    n, c, out_h, out_w = gy.shape
    gx = np.empty((n, c, in_h, in_w), gy.dtype)
    windows = _avg_windows(out_h, out_w, in_h, in_w, kh, kw, sy, sx, ph, pw, count_include_pad,
                           divisor, gy.dtype)
    _run(_avg_bwd, gx.size, np.ascontiguousarray(gy).reshape(-1), gx.reshape(-1), in_h, in_w,
         out_h, out_w, *windows)
    return gx


def max_unpool2d_fwd(x, indices, out_h, out_w):
    """y: zeros of (n, c, out_h, out_w) with each x put back at its flat index (assignment)."""
    n, c = x.shape[:2]
    y = np.empty((n * c, out_h * out_w), x.dtype)
    _run(_scatter_planes, y.size, y, _planes(indices), _planes(x), False)
    return y.reshape(n, c, out_h, out_w)


@njit(cache=True, parallel=True)
def _gather_planes(gx, indices, gy):
    for p in prange(gx.shape[0]):
        for k in range(gx.shape[1]):
            gx[p, k] = gy[p, indices[p, k]]


def max_unpool2d_bwd(gy, indices):
    """gx: gy read back at each index (a gather), of the indices' shape."""
    n, c = gy.shape[:2]
    gx = np.empty((n * c, indices.shape[2] * indices.shape[3]), gy.dtype)
    _run(_gather_planes, gy.size, gx, _planes(indices), _planes(gy))
    return gx.reshape(indices.shape)
