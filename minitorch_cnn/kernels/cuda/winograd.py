"""Winograd F(m x m, 3 x 3) transforms on the GPU: one thread per tile (the names, shapes and
formulas: ``kernels/reference/winograd.py``).

Threads are numbered with the tile column innermost, in the memory order of v (input
transform) and mm (output transform), so that each of the t*t stores (loads) of a warp is
coalesced. The 1-D transforms are the CPU kernels' functions, jitted as device functions; the
constants come from ``one`` in the arrays' dtype, as on the CPU. The filter transform runs in
float64 and rounds once.
"""
from numba import cuda

from ..array_module import array_module
from ..cpu import winograd as cpu
from ..reference.winograd import MATRICES

THREADS = 256

_bt2 = cuda.jit(device=True)(cpu.bt2.py_func)
_bt4 = cuda.jit(device=True)(cpu.bt4.py_func)
_at2 = cuda.jit(device=True)(cpu.at2.py_func)
_at4 = cuda.jit(device=True)(cpu.at4.py_func)


def _blocks(size):
    return (size + THREADS - 1) // THREADS


@cuda.jit(device=True)
def _unravel_tile(idx, n, tiles_h, tiles_w):
    """(plane, sample, tile row, tile column) of tile idx, tile columns innermost."""
    tw = idx % tiles_w
    rest = idx // tiles_w
    th = rest % tiles_h
    rest //= tiles_h
    return rest // n, rest % n, th, tw


@cuda.jit(device=True)
def _at(x, nb, ch, i, j, zero):
    """x[nb, ch, i, j], or zero outside x."""
    if 0 <= i < x.shape[2] and 0 <= j < x.shape[3]:
        return x[nb, ch, i, j]
    return zero


@cuda.jit
def _input2(x, v, ph, pw, one):
    c, n, tiles_h, tiles_w = v.shape[2:]
    idx = cuda.grid(1)
    if idx >= c * n * tiles_h * tiles_w:
        return
    ch, nb, th, tw = _unravel_tile(idx, n, tiles_h, tiles_w)
    zero = one - one
    r, q = th * 2 - ph, tw * 2 - pw
    e0 = _bt2(_at(x, nb, ch, r, q, zero), _at(x, nb, ch, r, q + 1, zero),
              _at(x, nb, ch, r, q + 2, zero), _at(x, nb, ch, r, q + 3, zero))
    e1 = _bt2(_at(x, nb, ch, r + 1, q, zero), _at(x, nb, ch, r + 1, q + 1, zero),
              _at(x, nb, ch, r + 1, q + 2, zero), _at(x, nb, ch, r + 1, q + 3, zero))
    e2 = _bt2(_at(x, nb, ch, r + 2, q, zero), _at(x, nb, ch, r + 2, q + 1, zero),
              _at(x, nb, ch, r + 2, q + 2, zero), _at(x, nb, ch, r + 2, q + 3, zero))
    e3 = _bt2(_at(x, nb, ch, r + 3, q, zero), _at(x, nb, ch, r + 3, q + 1, zero),
              _at(x, nb, ch, r + 3, q + 2, zero), _at(x, nb, ch, r + 3, q + 3, zero))
    for b in range(4):
        col = _bt2(e0[b], e1[b], e2[b], e3[b])
        for a in range(4):
            v[a, b, ch, nb, th, tw] = col[a]


@cuda.jit(device=True)
def _row4(x, nb, ch, i, q, zero, two, four, five):
    """B^T of the 6 pixels x[nb, ch, i, q:q + 6]."""
    return _bt4(_at(x, nb, ch, i, q, zero), _at(x, nb, ch, i, q + 1, zero),
                _at(x, nb, ch, i, q + 2, zero), _at(x, nb, ch, i, q + 3, zero),
                _at(x, nb, ch, i, q + 4, zero), _at(x, nb, ch, i, q + 5, zero),
                two, four, five)


@cuda.jit
def _input4(x, v, ph, pw, one):
    c, n, tiles_h, tiles_w = v.shape[2:]
    idx = cuda.grid(1)
    if idx >= c * n * tiles_h * tiles_w:
        return
    ch, nb, th, tw = _unravel_tile(idx, n, tiles_h, tiles_w)
    zero = one - one
    two = one + one
    four = two + two
    five = four + one
    r, q = th * 4 - ph, tw * 4 - pw
    e0 = _row4(x, nb, ch, r, q, zero, two, four, five)
    e1 = _row4(x, nb, ch, r + 1, q, zero, two, four, five)
    e2 = _row4(x, nb, ch, r + 2, q, zero, two, four, five)
    e3 = _row4(x, nb, ch, r + 3, q, zero, two, four, five)
    e4 = _row4(x, nb, ch, r + 4, q, zero, two, four, five)
    e5 = _row4(x, nb, ch, r + 5, q, zero, two, four, five)
    for b in range(6):
        col = _bt4(e0[b], e1[b], e2[b], e3[b], e4[b], e5[b], two, four, five)
        for a in range(6):
            v[a, b, ch, nb, th, tw] = col[a]


def winograd_input_transform(x, v, ph, pw):
    """Fill v (t, t, C, N, tiles_h, tiles_w) with B^T d B of every tile d of x (N, C, H, W)."""
    tiles = v.size // (v.shape[0] * v.shape[1])
    if tiles:
        kernel = _input2 if v.shape[0] == 4 else _input4
        kernel[_blocks(tiles), THREADS](x, v, ph, pw, x.dtype.type(1))


@cuda.jit
def _filter(w, u, g):
    t = u.shape[0]
    o, c = w.shape[:2]
    idx = cuda.grid(1)
    if idx >= o * c:
        return
    oc, ch = idx // c, idx % c
    for a in range(t):
        gw0 = g[a, 0] * w[oc, ch, 0, 0] + g[a, 1] * w[oc, ch, 1, 0] + g[a, 2] * w[oc, ch, 2, 0]
        gw1 = g[a, 0] * w[oc, ch, 0, 1] + g[a, 1] * w[oc, ch, 1, 1] + g[a, 2] * w[oc, ch, 2, 1]
        gw2 = g[a, 0] * w[oc, ch, 0, 2] + g[a, 1] * w[oc, ch, 1, 2] + g[a, 2] * w[oc, ch, 2, 2]
        for b in range(t):
            u[a, b, oc, ch] = gw0 * g[b, 0] + gw1 * g[b, 1] + gw2 * g[b, 2]


def winograd_filter_transform(w, u):
    """Fill u (t, t, O, C) with G w[o, c] G^T for the 3x3 filters w (O, C, 3, 3)."""
    size = w.shape[0] * w.shape[1]
    if size:
        g = array_module(w).asarray(MATRICES[u.shape[0] - 2][1], "float64")
        _filter[_blocks(size), THREADS](w, u, g)


@cuda.jit(device=True)
def _put(y, nb, oc, i, j, value, bias):
    if i < y.shape[2] and j < y.shape[3]:
        y[nb, oc, i, j] = value + bias


@cuda.jit
def _output2(mm, y, b, one):
    o, n, tiles_h, tiles_w = mm.shape[2:]
    idx = cuda.grid(1)
    if idx >= o * n * tiles_h * tiles_w:
        return
    oc, nb, th, tw = _unravel_tile(idx, n, tiles_h, tiles_w)
    e0 = _at2(mm[0, 0, oc, nb, th, tw], mm[1, 0, oc, nb, th, tw], mm[2, 0, oc, nb, th, tw],
              mm[3, 0, oc, nb, th, tw])
    e1 = _at2(mm[0, 1, oc, nb, th, tw], mm[1, 1, oc, nb, th, tw], mm[2, 1, oc, nb, th, tw],
              mm[3, 1, oc, nb, th, tw])
    e2 = _at2(mm[0, 2, oc, nb, th, tw], mm[1, 2, oc, nb, th, tw], mm[2, 2, oc, nb, th, tw],
              mm[3, 2, oc, nb, th, tw])
    e3 = _at2(mm[0, 3, oc, nb, th, tw], mm[1, 3, oc, nb, th, tw], mm[2, 3, oc, nb, th, tw],
              mm[3, 3, oc, nb, th, tw])
    for i in range(2):
        row = _at2(e0[i], e1[i], e2[i], e3[i])
        for j in range(2):
            _put(y, nb, oc, th * 2 + i, tw * 2 + j, row[j], b[oc])


@cuda.jit(device=True)
def _col4(mm, b, oc, nb, th, tw, two, four, eight):
    """A^T of the column mm[:, b, oc, nb, th, tw]."""
    return _at4(mm[0, b, oc, nb, th, tw], mm[1, b, oc, nb, th, tw], mm[2, b, oc, nb, th, tw],
                mm[3, b, oc, nb, th, tw], mm[4, b, oc, nb, th, tw], mm[5, b, oc, nb, th, tw],
                two, four, eight)


@cuda.jit
def _output4(mm, y, b, one):
    o, n, tiles_h, tiles_w = mm.shape[2:]
    idx = cuda.grid(1)
    if idx >= o * n * tiles_h * tiles_w:
        return
    oc, nb, th, tw = _unravel_tile(idx, n, tiles_h, tiles_w)
    two = one + one
    four = two + two
    eight = four + four
    e0 = _col4(mm, 0, oc, nb, th, tw, two, four, eight)
    e1 = _col4(mm, 1, oc, nb, th, tw, two, four, eight)
    e2 = _col4(mm, 2, oc, nb, th, tw, two, four, eight)
    e3 = _col4(mm, 3, oc, nb, th, tw, two, four, eight)
    e4 = _col4(mm, 4, oc, nb, th, tw, two, four, eight)
    e5 = _col4(mm, 5, oc, nb, th, tw, two, four, eight)
    for i in range(4):
        row = _at4(e0[i], e1[i], e2[i], e3[i], e4[i], e5[i], two, four, eight)
        for j in range(4):
            _put(y, nb, oc, th * 4 + i, tw * 4 + j, row[j], b[oc])


def winograd_output_transform(mm, y, b):
    """Overwrite y (N, O, out_h, out_w) with the cropped tiles A^T mm A (+ b[o] if b is not
    None) of mm (t, t, O, N, tiles_h, tiles_w)."""
    tiles = mm.size // (mm.shape[0] * mm.shape[1])
    if tiles and y.size:
        if b is None:
            b = array_module(y).zeros(y.shape[1], y.dtype)
        kernel = _output2 if mm.shape[0] == 4 else _output4
        kernel[_blocks(tiles), THREADS](mm, y, b, y.dtype.type(1))
