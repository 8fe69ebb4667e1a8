"""int8 inference kernels in plain NumPy: the oracle of the CPU and CUDA versions.

``int8_im2col``: the patches of an int8 (N, C, H, W) image as rows of an (N, oh, ow, C, kh, kw)
array (one GEMM row per output pixel; int8, or int16 for the CPU GEMM's multiply-adds), the
padding filled with ``pad`` (the input zero point, i.e. the real value 0).

``int8_gemm_requant``: ``out = requant(a @ w.T)`` for int8-valued activations ``a`` (M, K) and
per-output-channel weights ``w`` (O, K) (int8 or int16 arrays), accumulated in int32::

    acc[m, o] = sum_k a[m, k] w[o, k] + bias[o] - a_zero * w_sums[o]
    out[m, o] = clamp(floor(acc * multiplier[o] + 0.5) + out_zero, lo, 127)

with lo = out_zero (fused ReLU) or -128, ``w_sums[o] = sum_k w[o, k]`` (the zero-point
correction), ``bias`` in units of the accumulator and ``multiplier[o] = s_a s_w[o] / s_out``
in float64. Rounding is floor(x + 0.5) everywhere, so the three implementations agree bit for
bit.

``int8_quantize``: the affine int8 code of a float array, clamp(floor(x / scale + 0.5) + zero),
in float64 for the same reason.
"""
import numpy as np

from ..array_module import array_module


def int8_im2col(x, cols, sy, sx, ph, pw, dy, dx, pad):
    """Fill ``cols`` (N, oh, ow, C, kh, kw) with the patches of int8 ``x`` (N, C, H, W)."""
    n, c, h, w = x.shape
    out_h, out_w, _, kh, kw = cols.shape[1:]
    hp = max((out_h - 1) * sy + (kh - 1) * dy + 1, h + ph)
    wp = max((out_w - 1) * sx + (kw - 1) * dx + 1, w + pw)
    xpad = array_module(x).full((n, c, hp, wp), pad, np.int8)
    xpad[:, :, ph:ph + h, pw:pw + w] = x
    for i in range(kh):
        for j in range(kw):
            tap = xpad[:, :, i * dy:i * dy + sy * out_h:sy, j * dx:j * dx + sx * out_w:sx]
            cols[:, :, :, :, i, j] = tap.transpose(0, 2, 3, 1)


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
