"""Pooling and unpooling in plain NumPy (CuPy works too): a loop over the output positions, each
step vectorised over the batch and the channels. Slow and obvious: the oracle of the kernel tests.

Shapes: x (n, c, in_h, in_w), y (n, c, out_h, out_w). Max-pooling indices are PyTorch's: the flat
position ``h * in_w + w`` of the maximum inside its channel's plane (int64).
"""
from ..array_module import array_module


def _window(start, k, step, size):
    """The in-bounds input coordinates of one window row (or column)."""
    return [start + a * step for a in range(k) if 0 <= start + a * step < size]


def max_pool2d_fwd(x, kh, kw, sy, sx, ph, pw, dy, dx, out_h, out_w):
    """Max of each (dilated) window and its flat index; padding never wins. Ties keep the first
    maximum in row-major order, a NaN always wins (PyTorch's ``val > max || isnan(val)``)."""
    xp = array_module(x)
    n, c, in_h, in_w = x.shape
    y = xp.empty((n, c, out_h, out_w), x.dtype)
    indices = xp.empty((n, c, out_h, out_w), xp.int64)
    for i in range(out_h):
        rows = _window(i * sy - ph, kh, dy, in_h)
        for j in range(out_w):
            cols = _window(j * sx - pw, kw, dx, in_w)
            best = xp.full((n, c), -xp.inf, x.dtype)
            where = xp.full((n, c), rows[0] * in_w + cols[0], xp.int64)
            for h in rows:
                for w in cols:
                    v = x[:, :, h, w]
                    better = (v > best) | xp.isnan(v)
                    best = xp.where(better, v, best)
                    where = xp.where(better, h * in_w + w, where)
            y[:, :, i, j], indices[:, :, i, j] = best, where
    return y, indices


def max_pool2d_bwd(gy, indices, in_h, in_w):
    """gx: each output gradient added at its argmax (overlapping windows may share one)."""
    xp = array_module(gy)
    n, c = gy.shape[:2]
    gx = xp.zeros((n * c, in_h * in_w), gy.dtype)
    rows = xp.repeat(xp.arange(n * c), gy.shape[2] * gy.shape[3])
    xp.add.at(gx, (rows, indices.reshape(-1)), gy.reshape(-1))
    return gx.reshape(n, c, in_h, in_w)


def _avg_window(i, s, p, k, size):
    """PyTorch's avg-pool window: [start, end) clipped to the input, and the size of the window
    clipped to the padded input (the count_include_pad divisor)."""
    start = i * s - p
    end = min(start + k, size + p)
    padded = end - start
    return max(start, 0), min(end, size), padded


def _avg_windows(out_h, out_w, in_h, in_w, kh, kw, sy, sx, ph, pw, count_include_pad,
                 divisor):
    """(i, j, rows, cols, count) for every output whose window holds input: its rows and
    columns as slices of the input, and the divisor of its sum."""
    for i in range(out_h):
        h0, h1, rows_padded = _avg_window(i, sy, ph, kh, in_h)
        for j in range(out_w):
            w0, w1, cols_padded = _avg_window(j, sx, pw, kw, in_w)
            if h0 >= h1 or w0 >= w1:
                continue
            count = divisor or (rows_padded * cols_padded if count_include_pad
                                else (h1 - h0) * (w1 - w0))
            yield i, j, slice(h0, h1), slice(w0, w1), count


def avg_pool2d_fwd(x, kh, kw, sy, sx, ph, pw, out_h, out_w, count_include_pad, divisor):
    """Mean of each window; ``divisor`` (0 for none) overrides the count, as divisor_override."""
    xp = array_module(x)
    n, c, in_h, in_w = x.shape
    y = xp.zeros((n, c, out_h, out_w), x.dtype)
    for i, j, rows, cols, count in _avg_windows(out_h, out_w, in_h, in_w, kh, kw, sy, sx, ph,
                                                pw, count_include_pad, divisor):
        y[:, :, i, j] = x[:, :, rows, cols].sum(axis=(2, 3)) / count
    return y


def avg_pool2d_bwd(gy, in_h, in_w, kh, kw, sy, sx, ph, pw, count_include_pad, divisor):
    """gx: each output gradient spread evenly (1 / divisor) over its window."""
    xp = array_module(gy)
    n, c, out_h, out_w = gy.shape
    gx = xp.zeros((n, c, in_h, in_w), gy.dtype)
    for i, j, rows, cols, count in _avg_windows(out_h, out_w, in_h, in_w, kh, kw, sy, sx, ph,
                                                pw, count_include_pad, divisor):
        gx[:, :, rows, cols] += (gy[:, :, i, j] / count)[:, :, None, None]
    return gx


def max_unpool2d_fwd(x, indices, out_h, out_w):
    """y: zeros of (n, c, out_h, out_w) with each x put back at its flat index (assignment)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    y = xp.zeros((n * c, out_h * out_w), x.dtype)
    rows = xp.repeat(xp.arange(n * c), x.shape[2] * x.shape[3])
    y[rows, indices.reshape(-1)] = x.reshape(-1)
    return y.reshape(n, c, out_h, out_w)


def max_unpool2d_bwd(gy, indices):
    """gx: gy read back at each index (a gather), of the indices' shape."""
    xp = array_module(gy)
    n, c = gy.shape[:2]
    flat = gy.reshape(n * c, -1)
    return xp.take_along_axis(flat, indices.reshape(n * c, -1), axis=1).reshape(indices.shape)
