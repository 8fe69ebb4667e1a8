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
    for b in prange(n):
        for oh in range(out_h):
            for ow in range(out_w):
                for ch in range(c):
                    for i in range(kh):
                        r = oh * sy - ph + i * dy
                        for j in range(kw):
                            col = ow * sx - pw + j * dx
                            if 0 <= r < h and 0 <= col < w:
                                cols[b, oh, ow, ch, i, j] = x[b, ch, r, col]
                            else:
                                cols[b, oh, ow, ch, i, j] = pad


@njit(cache=True, parallel=True, nogil=True)
def int8_gemm_requant(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    m_rows, k_len = a.shape
    o_len = w.shape[0]
    lo = out_zero if relu else -128
    for m in prange(m_rows):
        for o in range(o_len):
            acc = np.int32(0)
            for k in range(k_len):
                acc += np.int32(a[m, k]) * np.int32(w[o, k])
            acc += bias[o] - np.int32(a_zero) * w_sums[o]
            q = math.floor(np.float64(acc) * multiplier[o] + 0.5) + out_zero
            out[m, o] = np.int8(min(max(q, lo), 127))
