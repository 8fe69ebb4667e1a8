"""Winograd F(m x m, 3 x 3) transforms on the CPU: Numba loops, parallel over (channel, sample)
planes (the names, shapes and formulas: ``kernels/reference/winograd.py``).

The transforms are memory-bound: each reads a plane once and writes t*t / m^2 times as much
(F(2): 4x, F(4): 2.25x). So the input transform first copies its plane into a zero-padded
scratch plane (one pass, no bounds tests after it) and then runs one straight-line tile body
per tile, the tiles of a row innermost: its stores, ``v[a, b, c, n, th, :]``, are contiguous.
The output transform mirrors it (contiguous loads, a padded scratch plane, one cropping copy
that adds the bias). The 1-D transforms are written out with the zeros of B^T and A^T left
out and shared sums computed once; their constants (2, 4, 5, 8, exact in binary) are made from
``one`` in the arrays' dtype, as a literal would promote float32 arithmetic to float64. The
filter transform runs in float64 (its cost is O*C*9) and rounds once. ``nogil``: the op runs
batch chunks in several Python threads.
"""
import numpy as np
from numba import njit, prange

from ..reference.winograd import MATRICES


@njit(cache=True, inline="always")
def bt2(d0, d1, d2, d3):
    """B^T d for F(2, 3)."""
    return d0 - d2, d1 + d2, d2 - d1, d1 - d3


@njit(cache=True, inline="always")
def bt4(d0, d1, d2, d3, d4, d5, two, four, five):
    """B^T d for F(4, 3)."""
    s12, s34 = four * (d1 + d2), d3 + d4
    t12, t34 = four * (d1 - d2), d4 - d3
    u13, u42 = two * (d3 - d1), d4 - d2
    return (four * d0 - five * d2 + d4, s34 - s12, t12 + t34, u13 + u42, u42 - u13,
            four * d1 - five * d3 + d5)


@njit(cache=True, inline="always")
def at2(m0, m1, m2, m3):
    """A^T m for F(2, 3)."""
    return m0 + m1 + m2, m1 - m2 - m3


@njit(cache=True, inline="always")
def at4(m0, m1, m2, m3, m4, m5, two, four, eight):
    """A^T m for F(4, 3)."""
    a12, s12 = m1 + m2, m1 - m2
    a34, s34 = m3 + m4, m3 - m4
    return m0 + a12 + a34, s12 + two * s34, a12 + four * a34, s12 + eight * s34 + m5


@njit(cache=True, inline="always")
def _pad_plane(x, nb, ch, ph, pw, pad):
    """pad[i, j] = x[nb, ch, i - ph, j - pw], 0 outside x."""
    in_h, in_w = x.shape[2:]
    hp, wp = pad.shape
    pad[:, :] = 0
    for i in range(max(0, ph), min(hp, in_h + ph)):
        for j in range(max(0, pw), min(wp, in_w + pw)):
            pad[i, j] = x[nb, ch, i - ph, j - pw]


@njit(cache=True, parallel=True, nogil=True)
def _input2(x, v, ph, pw, one):
    c, n, tiles_h, tiles_w = v.shape[2:]
    for task in prange(c * n):
        ch, nb = task // n, task % n
        p = np.empty((tiles_h * 2 + 2, tiles_w * 2 + 2), x.dtype)
        _pad_plane(x, nb, ch, ph, pw, p)
        for th in range(tiles_h):
            r = th * 2
            for tw in range(tiles_w):
                q = tw * 2
                e0 = bt2(p[r, q], p[r, q + 1], p[r, q + 2], p[r, q + 3])
                e1 = bt2(p[r + 1, q], p[r + 1, q + 1], p[r + 1, q + 2], p[r + 1, q + 3])
                e2 = bt2(p[r + 2, q], p[r + 2, q + 1], p[r + 2, q + 2], p[r + 2, q + 3])
                e3 = bt2(p[r + 3, q], p[r + 3, q + 1], p[r + 3, q + 2], p[r + 3, q + 3])
                for b in range(4):
                    col = bt2(e0[b], e1[b], e2[b], e3[b])
                    for a in range(4):
                        v[a, b, ch, nb, th, tw] = col[a]


@njit(cache=True, parallel=True, nogil=True)
def _input4(x, v, ph, pw, one):
    c, n, tiles_h, tiles_w = v.shape[2:]
    two = one + one
    four = two + two
    five = four + one
    for task in prange(c * n):
        ch, nb = task // n, task % n
        p = np.empty((tiles_h * 4 + 2, tiles_w * 4 + 2), x.dtype)
        _pad_plane(x, nb, ch, ph, pw, p)
        for th in range(tiles_h):
            r = th * 4
            for tw in range(tiles_w):
                q = tw * 4
                e0 = bt4(p[r, q], p[r, q + 1], p[r, q + 2], p[r, q + 3], p[r, q + 4],
                         p[r, q + 5], two, four, five)
                e1 = bt4(p[r + 1, q], p[r + 1, q + 1], p[r + 1, q + 2], p[r + 1, q + 3],
                         p[r + 1, q + 4], p[r + 1, q + 5], two, four, five)
                e2 = bt4(p[r + 2, q], p[r + 2, q + 1], p[r + 2, q + 2], p[r + 2, q + 3],
                         p[r + 2, q + 4], p[r + 2, q + 5], two, four, five)
                e3 = bt4(p[r + 3, q], p[r + 3, q + 1], p[r + 3, q + 2], p[r + 3, q + 3],
                         p[r + 3, q + 4], p[r + 3, q + 5], two, four, five)
                e4 = bt4(p[r + 4, q], p[r + 4, q + 1], p[r + 4, q + 2], p[r + 4, q + 3],
                         p[r + 4, q + 4], p[r + 4, q + 5], two, four, five)
                e5 = bt4(p[r + 5, q], p[r + 5, q + 1], p[r + 5, q + 2], p[r + 5, q + 3],
                         p[r + 5, q + 4], p[r + 5, q + 5], two, four, five)
                for b in range(6):
                    col = bt4(e0[b], e1[b], e2[b], e3[b], e4[b], e5[b], two, four, five)
                    for a in range(6):
                        v[a, b, ch, nb, th, tw] = col[a]


def winograd_input_transform(x, v, ph, pw):
    """Fill v (t, t, C, N, tiles_h, tiles_w) with B^T d B of every tile d of x (N, C, H, W)."""
    if v.size:
        kernel = _input2 if v.shape[0] == 4 else _input4
        kernel(x, v, ph, pw, x.dtype.type(1))


@njit(cache=True, parallel=True, nogil=True)
def _filter(w, u, g):
    t = u.shape[0]
    o, c = w.shape[:2]
    for task in prange(o * c):
        oc, ch = task // c, task % c
        for a in range(t):
            gw0 = g[a, 0] * w[oc, ch, 0, 0] + g[a, 1] * w[oc, ch, 1, 0] + \
                g[a, 2] * w[oc, ch, 2, 0]
            gw1 = g[a, 0] * w[oc, ch, 0, 1] + g[a, 1] * w[oc, ch, 1, 1] + \
                g[a, 2] * w[oc, ch, 2, 1]
            gw2 = g[a, 0] * w[oc, ch, 0, 2] + g[a, 1] * w[oc, ch, 1, 2] + \
                g[a, 2] * w[oc, ch, 2, 2]
            for b in range(t):
                u[a, b, oc, ch] = gw0 * g[b, 0] + gw1 * g[b, 1] + gw2 * g[b, 2]


def winograd_filter_transform(w, u):
    """Fill u (t, t, O, C) with G w[o, c] G^T for the 3x3 filters w (O, C, 3, 3)."""
    if u.size:
        _filter(w, u, np.asarray(MATRICES[u.shape[0] - 2][1], np.float64))


@njit(cache=True, parallel=True, nogil=True)
def _output2(mm, y, b, one):
    o, n, tiles_h, tiles_w = mm.shape[2:]
    for task in prange(o * n):
        oc, nb = task // n, task % n
        p = np.empty((tiles_h * 2, tiles_w * 2), y.dtype)
        for th in range(tiles_h):
            r = th * 2
            for tw in range(tiles_w):
                q = tw * 2
                e0 = at2(mm[0, 0, oc, nb, th, tw], mm[1, 0, oc, nb, th, tw],
                         mm[2, 0, oc, nb, th, tw], mm[3, 0, oc, nb, th, tw])
                e1 = at2(mm[0, 1, oc, nb, th, tw], mm[1, 1, oc, nb, th, tw],
                         mm[2, 1, oc, nb, th, tw], mm[3, 1, oc, nb, th, tw])
                e2 = at2(mm[0, 2, oc, nb, th, tw], mm[1, 2, oc, nb, th, tw],
                         mm[2, 2, oc, nb, th, tw], mm[3, 2, oc, nb, th, tw])
                e3 = at2(mm[0, 3, oc, nb, th, tw], mm[1, 3, oc, nb, th, tw],
                         mm[2, 3, oc, nb, th, tw], mm[3, 3, oc, nb, th, tw])
                for i in range(2):
                    row = at2(e0[i], e1[i], e2[i], e3[i])
                    p[r + i, q] = row[0]
                    p[r + i, q + 1] = row[1]
        _crop_plane(p, y, nb, oc, b[oc])


@njit(cache=True, parallel=True, nogil=True)
def _output4(mm, y, b, one):
    o, n, tiles_h, tiles_w = mm.shape[2:]
    two = one + one
    four = two + two
    eight = four + four
    for task in prange(o * n):
        oc, nb = task // n, task % n
        p = np.empty((tiles_h * 4, tiles_w * 4), y.dtype)
        for th in range(tiles_h):
            r = th * 4
            for tw in range(tiles_w):
                q = tw * 4
                e0 = at4(mm[0, 0, oc, nb, th, tw], mm[1, 0, oc, nb, th, tw],
                         mm[2, 0, oc, nb, th, tw], mm[3, 0, oc, nb, th, tw],
                         mm[4, 0, oc, nb, th, tw], mm[5, 0, oc, nb, th, tw], two, four, eight)
                e1 = at4(mm[0, 1, oc, nb, th, tw], mm[1, 1, oc, nb, th, tw],
                         mm[2, 1, oc, nb, th, tw], mm[3, 1, oc, nb, th, tw],
                         mm[4, 1, oc, nb, th, tw], mm[5, 1, oc, nb, th, tw], two, four, eight)
                e2 = at4(mm[0, 2, oc, nb, th, tw], mm[1, 2, oc, nb, th, tw],
                         mm[2, 2, oc, nb, th, tw], mm[3, 2, oc, nb, th, tw],
                         mm[4, 2, oc, nb, th, tw], mm[5, 2, oc, nb, th, tw], two, four, eight)
                e3 = at4(mm[0, 3, oc, nb, th, tw], mm[1, 3, oc, nb, th, tw],
                         mm[2, 3, oc, nb, th, tw], mm[3, 3, oc, nb, th, tw],
                         mm[4, 3, oc, nb, th, tw], mm[5, 3, oc, nb, th, tw], two, four, eight)
                e4 = at4(mm[0, 4, oc, nb, th, tw], mm[1, 4, oc, nb, th, tw],
                         mm[2, 4, oc, nb, th, tw], mm[3, 4, oc, nb, th, tw],
                         mm[4, 4, oc, nb, th, tw], mm[5, 4, oc, nb, th, tw], two, four, eight)
                e5 = at4(mm[0, 5, oc, nb, th, tw], mm[1, 5, oc, nb, th, tw],
                         mm[2, 5, oc, nb, th, tw], mm[3, 5, oc, nb, th, tw],
                         mm[4, 5, oc, nb, th, tw], mm[5, 5, oc, nb, th, tw], two, four, eight)
                for i in range(4):
                    row = at4(e0[i], e1[i], e2[i], e3[i], e4[i], e5[i], two, four, eight)
                    for j in range(4):
                        p[r + i, q + j] = row[j]
        _crop_plane(p, y, nb, oc, b[oc])


@njit(cache=True, inline="always")
def _crop_plane(p, y, nb, oc, bias):
    """y[nb, oc] = the top-left of the tile plane p, plus bias."""
    out_h, out_w = y.shape[2:]
    for i in range(out_h):
        for j in range(out_w):
            y[nb, oc, i, j] = p[i, j] + bias


def winograd_output_transform(mm, y, b):
    """Overwrite y (N, O, out_h, out_w) with the cropped tiles A^T mm A (+ b[o] if b is not
    None) of mm (t, t, O, N, tiles_h, tiles_w)."""
    if y.size:
        kernel = _output2 if mm.shape[0] == 4 else _output4
        if b is None:  # (adding 0 costs nothing next to the tile loads)
            b = np.zeros(y.shape[1], y.dtype)
        kernel(mm, y, b, y.dtype.type(1))
