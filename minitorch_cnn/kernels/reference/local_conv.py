"""The patch gather of the locally-connected layer (and its adjoint) in plain NumPy (CuPy works
too): the oracle of the kernel tests.

``col`` has the layout (out_h * out_w, n, c * kh * kw): one (n, K) matrix of patches per output
position l = i * out_w + j, so that the layer is one batched GEMM over l with the weights
(out_h * out_w, o, K). Column k = (ch * kh + a) * kw + b holds the (zero-padded) input
x[:, ch, i * sy - ph + a, j * sx - pw + b].
"""
from ..array_module import array_module


def local_unfold_fwd(x, kh, kw, sy, sx, ph, pw, out_h, out_w, out=None):
    """col (out_h * out_w, n, c * kh * kw): the patch under every output position, written
    into ``out`` (a C-contiguous array of that shape) when given."""
    xp = array_module(x)
    n, c = x.shape[:2]
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = xp.empty((out_h * out_w, n, c * kh * kw), x.dtype) if out is None else out
    for i in range(out_h):
        for j in range(out_w):
            patch = padded[:, :, i * sy:i * sy + kh, j * sx:j * sx + kw]
            col[i * out_w + j] = patch.reshape(n, -1)
    return col


def local_unfold_bwd(col, c, in_h, in_w, kh, kw, sy, sx, ph, pw, out_h, out_w):
    """gx (n, c, in_h, in_w): every patch gradient added back where its patch came from."""
    xp = array_module(col)
    n = col.shape[1]
    padded = xp.zeros((n, c, in_h + 2 * ph, in_w + 2 * pw), col.dtype)
    for i in range(out_h):
        for j in range(out_w):
            padded[:, :, i * sy:i * sy + kh, j * sx:j * sx + kw] += \
                col[i * out_w + j].reshape(n, c, kh, kw)
    return padded[:, :, ph:ph + in_h, pw:pw + in_w].copy()
