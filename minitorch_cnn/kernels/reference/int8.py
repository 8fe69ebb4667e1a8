"""int8 inference kernels in plain NumPy: the oracle of the CPU and CUDA versions.

``int8_im2col``: the patches of an int8 (N, C, H, W) image as rows of an (N, oh, ow, C, kh, kw)
array (one GEMM row per output pixel; int8, or int16 for the CPU GEMM's multiply-adds), the
padding filled with ``pad`` (the input zero point, i.e. the real value 0).

``int8_gemm_requant``: ``out = requant(a @ w.T)`` for integer activations ``a`` (M, K) and
per-output-channel weights ``w`` (O, K) (int8 or int16 arrays; on the CPU's VNNI path ``a``
holds code + 128 as uint8 and ``a_zero`` is the zero point + 128), accumulated in int32::

    acc[m, o] = sum_k a[m, k] w[o, k] + bias[o] - a_zero * w_sums[o]
    out[m, o] = clamp(floor(acc * multiplier[o] + 0.5) + out_zero, lo, 127)

with lo = out_zero (fused ReLU) or -128, ``w_sums[o] = sum_k w[o, k]`` (the zero-point
correction), ``bias`` in units of the accumulator and ``multiplier[o] = s_a s_w[o] / s_out``
in float64. Rounding is floor(x + 0.5) everywhere, so the three implementations agree bit for
bit.

``int8_quantize``: the affine int8 code of a float array, clamp(floor(x / scale + 0.5) + zero),
in float64 for the same reason.

Between quantized layers activations stay int8 in channels-last (N, H, W, C) layout, the
GEMM's output layout, with one (scale, zero point) per tensor:

``int8_im2col_nhwc``: the patches of (N, H, W, C) codes as (N, oh, ow, kh, kw, C) rows.

``int8_max_pool2d_nhwc``: max pooling on the codes (the code is monotone in the value, so the
max of the codes is the code of the max); the padding never wins (as -inf).

``int8_avg_pool_nhwc``: the mean of each window of codes, rounded to nearest (half up) in
integers: floor((2 S + D) / (2 D)) for the sum S and divisor D. The windows are given as row
and column bounds (fixed windows or adaptive bins); an element outside the input counts as
``pad`` (the zero point, i.e. the value 0). ``divisor`` 0 means the number of elements inside.

``int8_add_requant``: ``a + b`` of two int8 tensors with their own scales, requantized to the
output's scale with a fused ReLU, in fixed point (int64, exact everywhere)::

    out = clamp(((a - a_zero) a_mult + (b - b_zero) b_mult + 2^(shift-1)) >> shift + out_zero)

with ``a_mult = round(s_a / s_out 2^shift)`` and the same for ``b``.

``int8_conv2d_kmajor``: im2col + GEMM in one kernel for a conv with few taps per output
(LeNet-5's conv1: K = 25), the same result bit for bit. The CPU version lays each sample's
patches out K-major, (K, oh ow), as the float32 path does, so both the patch copies and the
multiply-adds run along image rows; a 25-long dot product does not vectorise.
"""
import numpy as np

from ..array_module import array_module


def int8_im2col(x, cols, sy, sx, ph, pw, dy, dx, pad):
    """Fill ``cols`` (N, oh, ow, C, kh, kw) with the patches of int8 ``x`` (N, C, H, W)."""
    n, c, h, w = x.shape
    out_h, out_w, _, kh, kw = cols.shape[1:]
    hp = max((out_h - 1) * sy + (kh - 1) * dy + 1, h + ph)
    wp = max((out_w - 1) * sx + (kw - 1) * dx + 1, w + pw)
    xpad = array_module(x).full((n, c, hp, wp), pad, x.dtype)
    xpad[:, :, ph:ph + h, pw:pw + w] = x
    for i in range(kh):
        for j in range(kw):
            tap = xpad[:, :, i * dy:i * dy + sy * out_h:sy, j * dx:j * dx + sx * out_w:sx]
            cols[:, :, :, :, i, j] = tap.transpose(0, 2, 3, 1)


def int8_gemm_operand(k):
    """(activation dtype, weight dtype, padded K, activation offset) that this implementation's
    ``int8_gemm_requant`` wants: its operands hold the codes (plus the offset) in these dtypes,
    K zero-padded. Here int16, K as it is."""
    return np.int16, np.int16, k, 0


def int8_quantize(x, scale, zero, out):
    """Write int8 ``out`` = clamp(floor(x / scale + 0.5) + zero), computed in float64."""
    xp = array_module(x)
    q = xp.floor(x.astype(np.float64) / scale + 0.5) + zero
    out[...] = xp.clip(q, -128, 127).astype(np.int8)


def int8_gemm_requant(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    """Write int8 ``out`` (M, O) = requantized int32 ``a @ w.T`` (see the module docstring)."""
    xp = array_module(a)
    acc = a.astype(np.int32) @ w.astype(np.int32).T
    acc += (bias - np.int32(a_zero) * w_sums).astype(np.int32)
    q = xp.floor(acc.astype(np.float64) * multiplier + 0.5) + out_zero
    out[...] = xp.clip(q, out_zero if relu else -128, 127).astype(np.int8)


def int8_dequantize_nchw(q, scale, zero, out):
    """Write float32 ``out`` (N, O, oh, ow) = (q - zero) * scale for the GEMM's int8 output
    ``q`` (N, oh, ow, O), in float32 (one rounding), transposed to channels-first."""
    y = (q.astype(np.float32) - np.float32(zero)) * np.float32(scale)
    out[...] = y.transpose(0, 3, 1, 2)


def int8_im2col_nhwc(x, cols, sy, sx, ph, pw, dy, dx, pad):
    """Fill ``cols`` (N, oh, ow, kh, kw, C) with the patches of int8 ``x`` (N, H, W, C)."""
    n, h, w, c = x.shape
    out_h, out_w, kh, kw, _ = cols.shape[1:]
    hp = max((out_h - 1) * sy + (kh - 1) * dy + 1, h + ph)
    wp = max((out_w - 1) * sx + (kw - 1) * dx + 1, w + pw)
    xpad = array_module(x).full((n, hp, wp, c), pad, x.dtype)
    xpad[:, ph:ph + h, pw:pw + w] = x
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j] = xpad[:, i * dy:i * dy + sy * out_h:sy,
                                       j * dx:j * dx + sx * out_w:sx]


def int8_max_pool2d_nhwc(x, out, kh, kw, sy, sx, ph, pw, dy, dx):
    """Write ``out`` (N, oh, ow, C) = the max of each window of int8 ``x`` (N, H, W, C)."""
    xp = array_module(x)
    n, h, w, c = x.shape
    out_h, out_w = out.shape[1:3]
    hp = max((out_h - 1) * sy + (kh - 1) * dy + 1, h + ph)
    wp = max((out_w - 1) * sx + (kw - 1) * dx + 1, w + pw)
    xpad = xp.full((n, hp, wp, c), -128, np.int8)  # -128 never exceeds a window's inside
    xpad[:, ph:ph + h, pw:pw + w] = x
    best = xp.full(out.shape, -128, np.int8)
    for i in range(kh):
        for j in range(kw):
            tap = xpad[:, i * dy:i * dy + sy * out_h:sy, j * dx:j * dx + sx * out_w:sx]
            best = xp.maximum(best, tap)
    out[...] = best


def int8_avg_pool_nhwc(x, out, row_lo, row_hi, col_lo, col_hi, divisor, pad):
    """Write ``out`` (N, oh, ow, C) = the rounded mean of the window rows
    [row_lo[i], row_hi[i]) x columns [col_lo[j], col_hi[j]) of int8 ``x`` (N, H, W, C)."""
    h, w = x.shape[1:3]
    wide = x.astype(np.int64)
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            r0, r1, c0, c1 = int(row_lo[i]), int(row_hi[i]), int(col_lo[j]), int(col_hi[j])
            inside = wide[:, max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)]
            count = inside.shape[1] * inside.shape[2]
            total = inside.sum(axis=(1, 2))
            d = divisor
            if divisor > 0:
                total = total + ((r1 - r0) * (c1 - c0) - count) * pad
            else:
                d = count
            out[:, i, j] = (2 * total + d) // (2 * d)


def int8_add_requant(a, b, a_zero, b_zero, a_mult, b_mult, shift, out_zero, relu, out):
    """Write int8 ``out`` = requantized ``a + b`` (see the module docstring)."""
    xp = array_module(a)
    acc = ((a.astype(np.int64) - a_zero) * a_mult + (b.astype(np.int64) - b_zero) * b_mult
           + (1 << (shift - 1)))
    q = (acc >> shift) + out_zero
    out[...] = xp.clip(q, out_zero if relu else -128, 127).astype(np.int8)


def int8_conv2d_kmajor(x, w, kh, kw, sy, sx, ph, pw, dy, dx, bias, w_sums, a_zero, multiplier,
                       out_zero, relu, out):
    """The conv of int8 ``x`` (N, C, H, W) by weights ``w`` (O, >= C kh kw) in (C, kh, kw)
    order, requantized into ``out`` (N, oh, ow, O): by definition im2col (padding ``a_zero``)
    + ``int8_gemm_requant``."""
    n, c = x.shape[:2]
    _, out_h, out_w, o_len = out.shape
    cols = array_module(x).zeros((n, out_h, out_w, c, kh, kw), np.int32)
    int8_im2col(x, cols, sy, sx, ph, pw, dy, dx, a_zero)
    a = cols.reshape(n * out_h * out_w, -1)
    int8_gemm_requant(a, w[:, :a.shape[1]], bias, w_sums, a_zero, multiplier, out_zero, relu,
                      out.reshape(-1, o_len))
