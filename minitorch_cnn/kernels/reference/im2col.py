"""im2col / col2im in plain NumPy: the oracle of the fast kernels (Chellapilla et al. 2006,
"High performance convolutional neural networks for document processing").

``col[n, c, i, j, oh, ow] = x[n, c, oh*sy - ph + i*dy, ow*sx - pw + j*dx]`` (0 outside the
image). ``ph`` and ``pw`` are the top and left padding; the output size ``(oh, ow)`` is read from
``col``'s shape, so bottom/right padding (asymmetric for ``padding="same"``) is implied by it.
``col`` may be any strided view (the ops use a (C, kh, kw, N, oh, ow) buffer seen as
(N, C, kh, kw, oh, ow) when that suits the GEMM better). NumPy or CuPy arrays alike.
"""
from ..array_module import array_module


def _padded_extent(n_out, s, k, d):
    return (n_out - 1) * s + (k - 1) * d + 1


def _window(i, j, out_h, out_w, sy, sx, dy, dx):
    """The padded-input pixels that tap (i, j) reads, as an index of an (N, C, H, W) array."""
    return (Ellipsis, slice(i * dy, i * dy + sy * out_h, sy),
            slice(j * dx, j * dx + sx * out_w, sx))


def im2col(x, col, sy, sx, ph, pw, dy, dx):
    """Fill ``col`` (N, C, kh, kw, out_h, out_w) with the patches of ``x`` (N, C, H, W)."""
    n, c, in_h, in_w = x.shape
    kh, kw, out_h, out_w = col.shape[2:]
    # pad by (ph, pw) at the top/left and as far as the windows reach at the bottom/right
    hp = max(_padded_extent(out_h, sy, kh, dy), in_h + ph)
    wp = max(_padded_extent(out_w, sx, kw, dx), in_w + pw)
    xpad = array_module(x).zeros((n, c, hp, wp), x.dtype)
    xpad[:, :, ph:ph + in_h, pw:pw + in_w] = x
    for i in range(kh):
        for j in range(kw):
            col[:, :, i, j] = xpad[_window(i, j, out_h, out_w, sy, sx, dy, dx)]


def col2im(col, x, sy, sx, ph, pw, dy, dx):
    """Overwrite ``x`` (N, C, H, W) with the sum of the patches in ``col``: im2col's adjoint."""
    n, c, in_h, in_w = x.shape
    kh, kw, out_h, out_w = col.shape[2:]
    hp = max(_padded_extent(out_h, sy, kh, dy), in_h + ph)
    wp = max(_padded_extent(out_w, sx, kw, dx), in_w + pw)
    xpad = array_module(x).zeros((n, c, hp, wp), x.dtype)
    for i in range(kh):
        for j in range(kw):
            xpad[_window(i, j, out_h, out_w, sy, sx, dy, dx)] += col[:, :, i, j]
    x[...] = xpad[:, :, ph:ph + in_h, pw:pw + in_w]
