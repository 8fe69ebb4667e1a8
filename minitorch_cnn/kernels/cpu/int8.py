"""int8 inference kernels on the CPU: Numba loops, parallel over GEMM rows (output pixels).

The GEMM keeps both operands row-major in K (activations (M, K), weights (O, K)), so each
output is one contiguous int8 dot product that LLVM widens to int32 and vectorises; the
requantization and ReLU are fused into the store. See ``reference/int8.py`` for the rules.
"""
import math

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True, nogil=True)
def int8_im2col(x, cols, sy, sx, ph, pw, dy, dx, pad):
    n, c, h, w = x.shape
    out_h, out_w, _, kh, kw = cols.shape[1:]
    for task in prange(n * out_h):
        b = task // out_h
        oh = task % out_h
        for ow in range(out_w):
            for ch in range(c):
                for i in range(kh):
                    r = oh * sy - ph + i * dy
                    row_ok = 0 <= r < h
                    for j in range(kw):
                        col = ow * sx - pw + j * dx
                        if row_ok and 0 <= col < w:
                            cols[b, oh, ow, ch, i, j] = x[b, ch, r, col]
                        else:
                            cols[b, oh, ow, ch, i, j] = pad


@njit(cache=True, inline="always")
def _store(acc, bias, w_sum, a_zero, multiplier, out_zero, lo):
    acc += bias - np.int32(a_zero) * w_sum
    q = math.floor(np.float64(acc) * multiplier + 0.5) + out_zero
    return np.int8(min(max(q, lo), 127))


@njit(cache=True, parallel=True, nogil=True)
def int8_gemm_requant(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    m_rows, k_len = a.shape
    o_len = w.shape[0]
    lo = out_zero if relu else -128
    for block in prange((m_rows + 3) // 4):
        m0 = block * 4
        if m0 + 4 <= m_rows:  # four rows at once: each weight row is loaded once for four
            for o in range(o_len):
                acc0 = acc1 = acc2 = acc3 = np.int32(0)
                for k in range(k_len):
                    wk = np.int16(w[o, k])
                    acc0 += np.int32(np.int16(a[m0, k]) * wk)
                    acc1 += np.int32(np.int16(a[m0 + 1, k]) * wk)
                    acc2 += np.int32(np.int16(a[m0 + 2, k]) * wk)
                    acc3 += np.int32(np.int16(a[m0 + 3, k]) * wk)
                out[m0, o] = _store(acc0, bias[o], w_sums[o], a_zero, multiplier[o],
                                    out_zero, lo)
                out[m0 + 1, o] = _store(acc1, bias[o], w_sums[o], a_zero, multiplier[o],
                                        out_zero, lo)
                out[m0 + 2, o] = _store(acc2, bias[o], w_sums[o], a_zero, multiplier[o],
                                        out_zero, lo)
                out[m0 + 3, o] = _store(acc3, bias[o], w_sums[o], a_zero, multiplier[o],
                                        out_zero, lo)
        else:
            for m in range(m0, m_rows):
                for o in range(o_len):
                    acc = np.int32(0)
                    for k in range(k_len):
                        acc += np.int32(np.int16(a[m, k]) * np.int16(w[o, k]))
                    out[m, o] = _store(acc, bias[o], w_sums[o], a_zero, multiplier[o],
                                       out_zero, lo)
