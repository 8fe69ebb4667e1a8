"""Winograd minimal filtering F(m x m, 3 x 3) in plain NumPy: the oracle of the fast kernels
(Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks", CVPR).

A stride-1 3x3 convolution is computed over tiles: each t x t input tile d (t = m + 2, tiles
m apart) gives an m x m output tile ``Y = A^T [(G g G^T) . (B^T d B)] A`` (``.`` elementwise),
and summing the elementwise products over the input channels is, for each of the t*t
positions, one GEMM. The three transforms are the kernels of this family:

* ``winograd_input_transform(x, v, ph, pw)``: ``v[a, b, c, n, th, tw] = (B^T d B)[a, b]`` for
  the tile of x (N, C, H, W) whose top-left pixel is ``x[n, c, th*m - ph, tw*m - pw]`` (zeros
  outside the image, so any top/left padding, and tiles past the bottom/right edge read zeros);
  v is (t, t, C, N, tiles_h, tiles_w), the ops' (t*t, C, N*tiles) GEMM operand.
* ``winograd_filter_transform(w, u)``: ``u[a, b, o, c] = (G w[o, c] G^T)[a, b]`` for w
  (O, C, 3, 3), u (t, t, O, C); computed in float64 and rounded once to u's dtype.
* ``winograd_output_transform(mm, y, b)``: y (N, O, out_h, out_w) = the tiles
  ``A^T mm[:, :, o, n, th, tw] A`` (mm (t, t, O, N, tiles_h, tiles_w)), the partial tiles at the
  bottom/right edge cropped, plus ``b[o]`` when the bias b (O,) is not None.

The matrices: F(2, 3) as in Lavin & Gray's section 4.1 (interpolation points 0, 1, -1, inf);
F(4, 3) with the points 0, 1, -1, 2, -2, inf, as in their section 4.2 and Lavin's wincnn. The
kernels take m from the shapes (t = v.shape[0]). NumPy or CuPy arrays alike.
"""
from ..array_module import array_module

# m -> (B^T, G, A^T) as nested lists (exact in binary except G's thirds, sixths and 24ths)
MATRICES = {
    2: ([[1, 0, -1, 0],
         [0, 1, 1, 0],
         [0, -1, 1, 0],
         [0, 1, 0, -1]],
        [[1, 0, 0],
         [1 / 2, 1 / 2, 1 / 2],
         [1 / 2, -1 / 2, 1 / 2],
         [0, 0, 1]],
        [[1, 1, 1, 0],
         [0, 1, -1, -1]]),
    4: ([[4, 0, -5, 0, 1, 0],
         [0, -4, -4, 1, 1, 0],
         [0, 4, -4, -1, 1, 0],
         [0, -2, -1, 2, 1, 0],
         [0, 2, -1, -2, 1, 0],
         [0, 4, 0, -5, 0, 1]],
        [[1 / 4, 0, 0],
         [-1 / 6, -1 / 6, -1 / 6],
         [-1 / 6, 1 / 6, -1 / 6],
         [1 / 24, 1 / 12, 1 / 6],
         [1 / 24, -1 / 12, 1 / 6],
         [0, 0, 1]],
        [[1, 1, 1, 1, 1, 0],
         [0, 1, -1, 2, -2, 0],
         [0, 1, 1, 4, 4, 0],
         [0, 1, -1, 8, -8, 1]]),
}


def _tile_of(t):
    m = t - 2
    if m not in MATRICES:
        raise ValueError(f"winograd: expected tiles of size 4 (F(2,3)) or 6 (F(4,3)), got {t}")
    return m


def winograd_input_transform(x, v, ph, pw):
    """Fill v (t, t, C, N, tiles_h, tiles_w) with B^T d B of every tile d of x (N, C, H, W)."""
    xp = array_module(x)
    t, _, c, n, tiles_h, tiles_w = v.shape
    m = _tile_of(t)
    in_h, in_w = x.shape[2:]
    hp, wp = tiles_h * m + 2, tiles_w * m + 2
    # the padded input as far as the tiles reach; ph or pw < 0 crops x instead
    xpad = xp.zeros((n, c, hp, wp), x.dtype)
    r0, r1 = max(0, -ph), min(in_h, hp - ph)
    c0, c1 = max(0, -pw), min(in_w, wp - pw)
    if r1 > r0 and c1 > c0:
        xpad[:, :, r0 + ph:r1 + ph, c0 + pw:c1 + pw] = x[:, :, r0:r1, c0:c1]
    d = xp.empty((n, c, tiles_h, tiles_w, t, t), x.dtype)
    for i in range(t):
        for j in range(t):
            d[..., i, j] = xpad[:, :, i:i + m * tiles_h:m, j:j + m * tiles_w:m]
    bt = xp.asarray(MATRICES[m][0], x.dtype)
    v[...] = xp.einsum("ai,bj,nchwij->abcnhw", bt, bt, d)


def winograd_filter_transform(w, u):
    """Fill u (t, t, O, C) with G w[o, c] G^T for the 3x3 filters w (O, C, 3, 3)."""
    xp = array_module(w)
    g = xp.asarray(MATRICES[_tile_of(u.shape[0])][1], "float64")
    u[...] = xp.einsum("ai,bj,ocij->aboc", g, g, w.astype("float64")).astype(u.dtype)


def winograd_output_transform(mm, y, b):
    """Overwrite y (N, O, out_h, out_w) with the cropped tiles A^T mm A (+ b[o] if b is not
    None) of mm (t, t, O, N, tiles_h, tiles_w)."""
    xp = array_module(mm)
    t, _, o, n, tiles_h, tiles_w = mm.shape
    m = _tile_of(t)
    at = xp.asarray(MATRICES[m][2], mm.dtype)
    tiles = xp.einsum("ia,jb,abonhw->nohiwj", at, at, mm)
    full = tiles.reshape(n, o, tiles_h * m, tiles_w * m)
    out_h, out_w = y.shape[2:]
    y[...] = full[:, :, :out_h, :out_w]
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
