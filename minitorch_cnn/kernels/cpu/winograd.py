"""Winograd F(m x m, 3 x 3) transforms on the CPU: Numba loops, parallel over (channel, sample)
planes (the names, shapes and formulas: ``kernels/reference/winograd.py``).

The transforms are memory-bound: each reads a plane once and writes t*t / m^2 times as much
(F(2): 4x, F(4): 2.25x), so every inner loop runs over contiguous memory, which LLVM
vectorises. The input transform copies each plane into a zero-padded scratch plane with its
columns by phase (``pp[i, k, q] = x[i - ph, q*m + k - pw]``: no bounds tests after it), then per
row of tiles computes B^T d for all columns at once (row combinations) and (B^T d) B with the
tile columns innermost, reading the phases as contiguous rows and storing
``v[a, b, c, n, th, :]`` contiguously. The output transform runs A^T M A over whole planes
(``mm[a, b, o, n]`` are contiguous (tiles_h * tiles_w) blocks) into a phase-major scratch plane,
then crops it into y, adding the bias. Scratch planes are allocated once per group of planes
(16384 7x7 planes in a late layer at batch 32: 1.5x faster than one allocation per plane).
The 1-D transforms are written out with the zeros of B^T and A^T left out and shared sums
computed once; their constants (2, 4, 5, 8, exact in binary) are made from ``one`` in the
arrays' dtype, as a literal would promote float32 arithmetic to float64. The filter transform
runs in float64 (its cost is O*C*9 reads) with the channels innermost and rounds once.
``nogil``: the op runs batch chunks in several Python threads.
"""
import numpy as np
from numba import njit, prange

from ..reference.winograd import MATRICES

_G = {m: np.array(mats[1], np.float64) for m, mats in MATRICES.items()}


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
def _groups(planes):
    """How many groups of planes the parallel loops run: each group allocates its scratch
    planes once (late layers have 16384 planes of 7x7 in a batch of 32)."""
    return min(planes, 256)


@njit(cache=True, inline="always")
def _group_range(group, planes):
    """The planes [lo, hi) of a group."""
    k = _groups(planes)
    return group * planes // k, (group + 1) * planes // k


@njit(cache=True, inline="always")
def _pad_phases(x, nb, ch, ph, pw, pp, m):
    """The zero-padded plane of x[nb, ch], its columns by phase:
    pp[i, k, q] = x[nb, ch, i - ph, q*m + k - pw] (0 outside x), pp (rows, m, blocks)."""
    in_h, in_w = x.shape[2:]
    hp, _, blocks = pp.shape
    pp[:] = 0
    for i in range(max(0, ph), min(hp, in_h + ph)):
        for k in range(m):
            lo = max(0, -((k - pw) // m))
            for q in range(lo, min(blocks, (in_w - 1 + pw - k) // m + 1)):
                pp[i, k, q] = x[nb, ch, i - ph, q * m + k - pw]


@njit(cache=True, parallel=True, nogil=True)
def _input2(x, v, ph, pw, one):
    c, n, tiles_h, tiles_w = v.shape[2:]
    blocks = tiles_w + 1
    for group in prange(_groups(c * n)):
        pp = np.empty((tiles_h * 2 + 2, 2, blocks), x.dtype)
        f = np.empty((4, 2 * blocks), x.dtype)
        rows = pp.reshape(pp.shape[0], 2 * blocks)
        for task in range(*_group_range(group, c * n)):
            ch, nb = task // n, task % n
            _pad_phases(x, nb, ch, ph, pw, pp, 2)
            for th in range(tiles_h):
                # B^T d: the rows of the tile row combined, all columns at once
                s0, s1, s2, s3 = rows[th * 2], rows[th * 2 + 1], rows[th * 2 + 2], rows[th * 2 + 3]
                for q in range(2 * blocks):
                    f[0, q], f[1, q], f[2, q], f[3, q] = bt2(s0[q], s1[q], s2[q], s3[q])
                # (B^T d) B: the columns of each tile (f's phases), tile columns innermost
                for a in range(4):
                    fa = f[a]
                    for tw in range(tiles_w):
                        e = bt2(fa[tw], fa[blocks + tw], fa[tw + 1], fa[blocks + tw + 1])
                        v[a, 0, ch, nb, th, tw] = e[0]
                        v[a, 1, ch, nb, th, tw] = e[1]
                        v[a, 2, ch, nb, th, tw] = e[2]
                        v[a, 3, ch, nb, th, tw] = e[3]


@njit(cache=True, parallel=True, nogil=True)
def _input4(x, v, ph, pw, one):
    c, n, tiles_h, tiles_w = v.shape[2:]
    two = one + one
    four = two + two
    five = four + one
    blocks = tiles_w + 1
    for group in prange(_groups(c * n)):
        pp = np.empty((tiles_h * 4 + 2, 4, blocks), x.dtype)
        f = np.empty((6, 4 * blocks), x.dtype)
        rows = pp.reshape(pp.shape[0], 4 * blocks)
        for task in range(*_group_range(group, c * n)):
            ch, nb = task // n, task % n
            _pad_phases(x, nb, ch, ph, pw, pp, 4)
            for th in range(tiles_h):
                r = th * 4
                s0, s1, s2, s3, s4, s5 = (rows[r], rows[r + 1], rows[r + 2], rows[r + 3],
                                          rows[r + 4], rows[r + 5])
                for q in range(4 * blocks):
                    f[0, q], f[1, q], f[2, q], f[3, q], f[4, q], f[5, q] = bt4(
                        s0[q], s1[q], s2[q], s3[q], s4[q], s5[q], two, four, five)
                for a in range(6):
                    fa = f[a]
                    for tw in range(tiles_w):
                        e = bt4(fa[tw], fa[blocks + tw], fa[2 * blocks + tw], fa[3 * blocks + tw],
                                fa[tw + 1], fa[blocks + tw + 1], two, four, five)
                        v[a, 0, ch, nb, th, tw] = e[0]
                        v[a, 1, ch, nb, th, tw] = e[1]
                        v[a, 2, ch, nb, th, tw] = e[2]
                        v[a, 3, ch, nb, th, tw] = e[3]
                        v[a, 4, ch, nb, th, tw] = e[4]
                        v[a, 5, ch, nb, th, tw] = e[5]


def winograd_input_transform(x, v, ph, pw):
    """Fill v (t, t, C, N, tiles_h, tiles_w) with B^T d B of every tile d of x (N, C, H, W)."""
    if v.size:
        kernel = _input2 if v.shape[0] == 4 else _input4
        kernel(x, v, ph, pw, x.dtype.type(1))


@njit(cache=True, parallel=True, nogil=True)
def _filter(w, u, g):
    """u[a, b, o, :] = sum_j (sum_i g[a, i] w[o, :, i, j]) g[b, j], in float64, channels
    innermost: contiguous stores (the t*t planes of u lie O*C apart, often a power of two,
    which in one tile's 36 stores conflicted in the caches) and vector loops."""
    t = u.shape[0]
    o, c = w.shape[:2]
    for oc in prange(o):
        taps = np.empty((3, 3, c))  # w[oc] with the channels innermost, in float64
        for ch in range(c):
            for i in range(3):
                for j in range(3):
                    taps[i, j, ch] = w[oc, ch, i, j]
        gw = np.empty((t, 3, c))
        for a in range(t):
            ga0, ga1, ga2 = g[a, 0], g[a, 1], g[a, 2]
            for j in range(3):
                t0, t1, t2, out = taps[0, j], taps[1, j], taps[2, j], gw[a, j]
                for ch in range(c):
                    out[ch] = ga0 * t0[ch] + ga1 * t1[ch] + ga2 * t2[ch]
        for a in range(t):
            r0, r1, r2 = gw[a, 0], gw[a, 1], gw[a, 2]
            for b in range(t):
                gb0, gb1, gb2 = g[b, 0], g[b, 1], g[b, 2]
                out = u[a, b, oc]
                for ch in range(c):
                    out[ch] = r0[ch] * gb0 + r1[ch] * gb1 + r2[ch] * gb2


def winograd_filter_transform(w, u):
    """Fill u (t, t, O, C) with G w[o, c] G^T for the 3x3 filters w (O, C, 3, 3)."""
    if u.size:
        _filter(w, u, _G[u.shape[0] - 2])


@njit(cache=True, inline="always")
def _crop_plane(p, y, nb, oc, bias, tiles_w):
    """y[nb, oc, th*m + i, tw*m + k] = p[i, k, th*tiles_w + tw] + bias, inside y."""
    m = p.shape[0]
    out_h, out_w = y.shape[2:]
    for r in range(out_h):
        th, i = r // m, r % m
        for k in range(m):
            src = p[i, k, th * tiles_w:(th + 1) * tiles_w]
            for tw in range((out_w - k + m - 1) // m):
                y[nb, oc, r, tw * m + k] = src[tw] + bias


@njit(cache=True, parallel=True, nogil=True)
def _output2(mm, y, b, one):
    o, n, tiles_h, tiles_w = mm.shape[2:]
    tiles = tiles_h * tiles_w
    mf = mm.reshape(4, 4, o, n, tiles)
    for group in prange(_groups(o * n)):
        g = np.empty((4, 2, tiles), y.dtype)
        p = np.empty((2, 2, tiles), y.dtype)
        for task in range(*_group_range(group, o * n)):
            oc, nb = task // n, task % n
            # M A for every tile of the plane (contiguous loads and stores)
            for a in range(4):
                m0, m1 = mf[a, 0, oc, nb], mf[a, 1, oc, nb]
                m2, m3 = mf[a, 2, oc, nb], mf[a, 3, oc, nb]
                ga0, ga1 = g[a, 0], g[a, 1]
                for q in range(tiles):
                    ga0[q], ga1[q] = at2(m0[q], m1[q], m2[q], m3[q])
            # A^T (M A): p[i, k, tile] is the tile's pixel (i, k)
            for k in range(2):
                g0, g1, g2, g3 = g[0, k], g[1, k], g[2, k], g[3, k]
                p0, p1 = p[0, k], p[1, k]
                for q in range(tiles):
                    p0[q], p1[q] = at2(g0[q], g1[q], g2[q], g3[q])
            _crop_plane(p, y, nb, oc, b[oc], tiles_w)


@njit(cache=True, parallel=True, nogil=True)
def _output4(mm, y, b, one):
    o, n, tiles_h, tiles_w = mm.shape[2:]
    two = one + one
    four = two + two
    eight = four + four
    tiles = tiles_h * tiles_w
    mf = mm.reshape(6, 6, o, n, tiles)
    for group in prange(_groups(o * n)):
        g = np.empty((6, 4, tiles), y.dtype)
        p = np.empty((4, 4, tiles), y.dtype)
        for task in range(*_group_range(group, o * n)):
            oc, nb = task // n, task % n
            for a in range(6):
                m0, m1, m2 = mf[a, 0, oc, nb], mf[a, 1, oc, nb], mf[a, 2, oc, nb]
                m3, m4, m5 = mf[a, 3, oc, nb], mf[a, 4, oc, nb], mf[a, 5, oc, nb]
                ga0, ga1, ga2, ga3 = g[a, 0], g[a, 1], g[a, 2], g[a, 3]
                for q in range(tiles):
                    ga0[q], ga1[q], ga2[q], ga3[q] = at4(m0[q], m1[q], m2[q], m3[q], m4[q], m5[q],
                                                         two, four, eight)
            for k in range(4):
                g0, g1, g2, g3, g4, g5 = g[0, k], g[1, k], g[2, k], g[3, k], g[4, k], g[5, k]
                p0, p1, p2, p3 = p[0, k], p[1, k], p[2, k], p[3, k]
                for q in range(tiles):
                    p0[q], p1[q], p2[q], p3[q] = at4(g0[q], g1[q], g2[q], g3[q], g4[q], g5[q],
                                                     two, four, eight)
            _crop_plane(p, y, nb, oc, b[oc], tiles_w)


def winograd_output_transform(mm, y, b):
    """Overwrite y (N, O, out_h, out_w) with the cropped tiles A^T mm A (+ b[o] if b is not
    None) of mm (t, t, O, N, tiles_h, tiles_w)."""
    if y.size:
        kernel = _output2 if mm.shape[0] == 4 else _output4
        if b is None:  # (adding 0 costs nothing next to the tile loads)
            b = np.zeros(y.shape[1], y.dtype)
        kernel(mm, y, b, y.dtype.type(1))
