"""Local response normalization across channels, plain NumPy: the oracle of the kernels.

Arrays are (n, c, s): batch, channels, and every spatial position flattened. The window of
output channel c is channels c - size//2 .. c + (size-1)//2 (PyTorch's padding; clipped at the
ends), and scale = k + alpha/size * sum over the window of x^2. NumPy or CuPy arrays alike.
"""
from ..array_module import array_module


def _window_sum(a, before, after):
    """sum_{j=c-before}^{c+after} a[:, j] for every channel c (zero outside)."""
    c = a.shape[1]
    padded = array_module(a).pad(a, ((0, 0), (before, after), (0, 0)))
    return sum(padded[:, j:j + c] for j in range(before + after + 1))


def lrn_fwd(x, size, alpha, beta, k):
    """``(y, scale)`` with y = x * scale^-beta."""
    scale = k + alpha / size * _window_sum(x * x, size // 2, (size - 1) // 2)
    scale = scale.astype(x.dtype)
    return (x * scale ** -beta).astype(x.dtype), scale


def lrn_bwd(x, y, scale, gy, size, alpha, beta):
    """gx = gy * scale^-beta - 2 alpha beta / size * x * sum_{j: c in window(j)} gy_j y_j / scale_j.

    The window of the sum is the forward one mirrored (it matters only for an even size)."""
    t = gy * y / scale
    back = _window_sum(t, (size - 1) // 2, size // 2)
    return (gy * scale ** -beta - 2.0 * alpha * beta / size * x * back).astype(x.dtype)
