"""Maps of the last two dimensions that act on rows and columns separately: ``interpolate``
(nearest and bilinear resizing, as in U-Net and FCN variants that upsample instead of using a
transposed convolution) and the non-constant paddings (``reflect``, ``replicate``, ``circular``)
of ``F.pad`` and of ``Conv2d(padding_mode=...)``.

Each is ``y = A_h x A_w^T`` on the (H, W) planes, with ``A_h`` (out_h, H) and ``A_w``
(out_w, W) small matrices: one-hot rows for nearest and padding (``index`` gives their columns,
so forward is a gather), two weights per row for bilinear. The backward is ``A_h^T gy A_w``,
two matrix products, the same for every mode and device; no scatter loop.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import to_device_array


class SeparableMapFn(Function):
    """y[..., i, j] = sum_{h, w} A_h[i, h] x[..., h, w] A_w[j, w]; with ``rows``/``cols`` index
    arrays (one-hot maps) forward gathers instead of multiplying."""

    @staticmethod
    def forward(ctx, x, a_h, a_w, rows=None, cols=None):
        ctx.maps = (a_h, a_w)
        if rows is not None:
            return x[..., rows[:, None], cols[None, :]]
        return a_h @ (x @ a_w.T)

    @staticmethod
    def backward(ctx, gy):
        a_h, a_w = ctx.maps
        return a_h.T @ (gy @ a_w), None, None


def _on_device(x, *arrays):
    return tuple(to_device_array(a, x.device) for a in arrays)


def _one_hot(index, size, dtype):
    m = np.zeros((len(index), size), dtype)
    m[np.arange(len(index)), index] = 1
    return m


def _apply(x, rows, cols, a_h=None, a_w=None):
    """The map given by gather indices (one-hot) or by weight matrices, on x's device."""
    h, w = x.shape[-2:]
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    if a_h is None:
        a_h, a_w = _one_hot(rows, h, dtype), _one_hot(cols, w, dtype)
        a_h, a_w, rows, cols = _on_device(x, a_h, a_w, rows, cols)
        return SeparableMapFn.apply(x, a_h, a_w, rows=rows, cols=cols)
    a_h, a_w = _on_device(x, a_h.astype(dtype), a_w.astype(dtype))
    return SeparableMapFn.apply(x, a_h, a_w)


# --- padding ------------------------------------------------------------------------------------
PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_index(n, before, after, mode, op):
    if mode == "reflect" and max(before, after) >= n:
        raise ValueError(f"{op}: reflect padding must be smaller than the dimension it pads, "
                         f"got padding ({before}, {after}) for a dimension of size {n}")
    if mode == "circular" and max(before, after) > n:
        raise ValueError(f"{op}: circular padding can be at most the dimension it pads, got "
                         f"padding ({before}, {after}) for a dimension of size {n}")
    if min(before, after) < 0:
        raise ValueError(f"{op}: {mode} padding must be non-negative, got ({before}, {after})")
    return np.pad(np.arange(n), (before, after), mode=PAD_MODES[mode])


def pad_mode(x, pad, mode, op="pad"):
    """``F.pad`` for the non-constant modes: ``pad`` is (left, right) or (left, right, top,
    bottom) of the last one or two dimensions; ``mode`` reflect (mirror without repeating the
    edge), replicate (repeat the edge) or circular (wrap around)."""
    if mode not in PAD_MODES:
        raise ValueError(f"{op}: mode must be 'constant', " +
                         ", ".join(repr(m) for m in PAD_MODES) + f", got {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) not in (2, 4) or x.ndim < len(pad) // 2 + 1:
        raise ValueError(f"{op}: {mode} padding takes 2 sizes (last dimension) or 4 (last two) "
                         f"of an input with one dimension more at least, got {pad} for shape "
                         f"{x.shape}")
    if len(pad) == 2:  # one dimension: a plane of height 1
        y = pad_mode(x.unsqueeze(-2), pad + (0, 0), mode, op)
        return y.squeeze(-2)
    left, right, top, bottom = pad
    rows = _pad_index(x.shape[-2], top, bottom, mode, op)
    cols = _pad_index(x.shape[-1], left, right, mode, op)
    return _apply(x, rows, cols)


# --- interpolation ------------------------------------------------------------------------------
def _out_sizes(x, size, scale_factor):
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        size = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
        if len(size) != 2 or any(int(s) < 1 for s in size):
            raise ValueError(f"interpolate: size must be a positive int or (H, W), got {size}")
        return tuple(int(s) for s in size), None
    scales = ((scale_factor, scale_factor) if isinstance(scale_factor, (int, float))
              else tuple(scale_factor))
    if len(scales) != 2 or not all(s > 0 and math.isfinite(s) for s in scales):
        raise ValueError(f"interpolate: scale_factor must be positive (one or two), got "
                         f"{scale_factor}")
    sizes = tuple(int(math.floor(n * s)) for n, s in zip(x.shape[-2:], scales))
    if min(sizes) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor} leaves an empty output "
                         f"from {x.shape[-2:]}")
    return sizes, scales


def _nearest_index(n_in, n_out, scale):
    ratio = n_in / n_out if scale is None else 1.0 / scale
    return np.minimum(np.floor(np.arange(n_out) * ratio).astype(np.int64), n_in - 1)


def _linear_matrix(n_in, n_out, scale, align_corners):
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        ratio = n_in / n_out if scale is None else 1.0 / scale
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = src - i0
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), i0), 1 - frac)
    np.add.at(m, (np.arange(n_out), i1), frac)
    return m


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the (H, W) of an (N, C, H, W) input, as ``torch.nn.functional.interpolate``.

    ``mode="nearest"``: output pixel i takes input pixel floor(i * in / out) (PyTorch's
    "nearest", which shifts by half a pixel against "nearest-exact"). ``mode="bilinear"``:
    with ``align_corners=True`` the corner pixels of input and output coincide, source
    i * (in - 1) / (out - 1); with False (the default) pixels are areas, source
    (i + 0.5) * in / out - 0.5 clamped at 0. Given a ``scale_factor``, the output is
    floor(in * scale) and the scale itself maps the coordinates (unless
    ``recompute_scale_factor=True``, which uses in / out as a given size would).
    """
    if input.ndim != 4:
        raise ValueError(f"interpolate: expected an input of shape (N, C, H, W), got "
                         f"{input.shape}")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    sizes, scales = _out_sizes(input, size, scale_factor)
    if recompute_scale_factor:
        scales = None
    scales = scales or (None, None)
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError("interpolate: align_corners is only for the linear modes "
                             "(bilinear); leave it None with mode='nearest'")
        rows, cols = (_nearest_index(n, m, s)
                      for n, m, s in zip(input.shape[-2:], sizes, scales))
        return _apply(input, rows, cols)
    if mode == "bilinear":
        a_h, a_w = (_linear_matrix(n, m, s, bool(align_corners))
                    for n, m, s in zip(input.shape[-2:], sizes, scales))
        return _apply(input, None, None, a_h, a_w)
    raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")

