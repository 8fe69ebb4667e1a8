"""int8 inference kernels on the GPU: one thread per element written (a patch entry, an
output of the GEMM with its int32 dot product, requantization and ReLU fused). Arrays are
CuPy arrays, or NumPy arrays under Numba's CUDA simulator. See ``reference/int8.py``."""
import math

import numpy as np
from numba import cuda, float32, int64

THREADS = 256


def _blocks(size):
    return (size + THREADS - 1) // THREADS


@cuda.jit
def _im2col(x, cols, sy, sx, ph, pw, dy, dx, pad):
    idx = cuda.grid(1)
    n, out_h, out_w, c, kh, kw = cols.shape
    if idx >= cols.size:
        return
    j = idx % kw
    t = idx // kw
    i = t % kh
    t //= kh
    ch = t % c
    t //= c
    ow = t % out_w
    t //= out_w
    oh = t % out_h
    b = t // out_h
    r = oh * sy - ph + i * dy
    col = ow * sx - pw + j * dx
    if 0 <= r < x.shape[2] and 0 <= col < x.shape[3]:
        cols[b, oh, ow, ch, i, j] = x[b, ch, r, col]
    else:
        cols[b, oh, ow, ch, i, j] = pad


def int8_im2col(x, cols, sy, sx, ph, pw, dy, dx, pad):
    _im2col[_blocks(cols.size), THREADS](x, cols, sy, sx, ph, pw, dy, dx, pad)


def int8_gemm_operand(k):
    """See ``reference/int8.py``: int16 operands, K as it is."""
    return np.int16, np.int16, k, 0


@cuda.jit
def _gemm(a, w, bias, w_sums, a_zero, multiplier, out_zero, lo, out):
    idx = cuda.grid(1)
    m_rows, o_len = out.shape
    if idx >= m_rows * o_len:
        return
    m = idx // o_len
    o = idx % o_len
    acc = 0
    for k in range(a.shape[1]):
        acc += int(a[m, k]) * int(w[o, k])
    acc += bias[o] - a_zero * w_sums[o]
    q = math.floor(float(acc) * multiplier[o] + 0.5) + out_zero
    out[m, o] = min(max(q, lo), 127)


def int8_gemm_requant(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    lo = out_zero if relu else -128
    _gemm[_blocks(out.size), THREADS](a, w, bias, w_sums, int(a_zero), multiplier,
                                      int(out_zero), int(lo), out)


@cuda.jit
def _quantize(x, scale, zero, out):
    i = cuda.grid(1)
    if i < x.size:
        v = math.floor(float(x[i]) / scale + 0.5) + zero
        out[i] = min(max(v, -128), 127)


def int8_quantize(x, scale, zero, out):
    _quantize[_blocks(x.size), THREADS](x.reshape(-1), float(scale), int(zero), out.reshape(-1))


@cuda.jit
def _dequantize_nchw(q, scale, zero, out):
    idx = cuda.grid(1)
    n, o_len, out_h, out_w = out.shape
    if idx >= out.size:
        return
    c = idx % out_w
    t = idx // out_w
    r = t % out_h
    t //= out_h
    o = t % o_len
    b = t // o_len
    out[b, o, r, c] = (float32(q[b, r, c, o]) - float32(zero)) * float32(scale)


def int8_dequantize_nchw(q, scale, zero, out):
    _dequantize_nchw[_blocks(out.size), THREADS](q, float(scale), float(zero), out)


@cuda.jit
def _im2col_nhwc(x, cols, sy, sx, ph, pw, dy, dx, pad):
    idx = cuda.grid(1)
    n, out_h, out_w, kh, kw, c = cols.shape
    if idx >= cols.size:
        return
    ch = idx % c
    t = idx // c
    j = t % kw
    t //= kw
    i = t % kh
    t //= kh
    ow = t % out_w
    t //= out_w
    oh = t % out_h
    b = t // out_h
    r = oh * sy - ph + i * dy
    col = ow * sx - pw + j * dx
    if 0 <= r < x.shape[1] and 0 <= col < x.shape[2]:
        cols[b, oh, ow, i, j, ch] = x[b, r, col, ch]
    else:
        cols[b, oh, ow, i, j, ch] = pad


def int8_im2col_nhwc(x, cols, sy, sx, ph, pw, dy, dx, pad):
    _im2col_nhwc[_blocks(cols.size), THREADS](x, cols, sy, sx, ph, pw, dy, dx, pad)


@cuda.jit
def _max_pool_nhwc(x, out, kh, kw, sy, sx, ph, pw, dy, dx):
    idx = cuda.grid(1)
    n, out_h, out_w, c = out.shape
    if idx >= out.size:
        return
    ch = idx % c
    t = idx // c
    ox = t % out_w
    t //= out_w
    oy = t % out_h
    b = t // out_h
    best = -128
    for i in range(kh):
        r = oy * sy - ph + i * dy
        for j in range(kw):
            col = ox * sx - pw + j * dx
            if 0 <= r < x.shape[1] and 0 <= col < x.shape[2]:
                best = max(best, x[b, r, col, ch])
    out[b, oy, ox, ch] = best


def int8_max_pool2d_nhwc(x, out, kh, kw, sy, sx, ph, pw, dy, dx):
    _max_pool_nhwc[_blocks(out.size), THREADS](x, out, kh, kw, sy, sx, ph, pw, dy, dx)


@cuda.jit
def _avg_pool_nhwc(x, out, row_lo, row_hi, col_lo, col_hi, divisor, pad):
    idx = cuda.grid(1)
    n, out_h, out_w, c = out.shape
    if idx >= out.size:
        return
    ch = idx % c
    t = idx // c
    ox = t % out_w
    t //= out_w
    oy = t % out_h
    b = t // out_h
    r0, r1, c0, c1 = row_lo[oy], row_hi[oy], col_lo[ox], col_hi[ox]
    total = 0
    count = 0
    for r in range(max(r0, 0), min(r1, x.shape[1])):
        for col in range(max(c0, 0), min(c1, x.shape[2])):
            total += int64(x[b, r, col, ch])
            count += 1
    d = divisor
    if divisor > 0:
        total += ((r1 - r0) * (c1 - c0) - count) * pad
    else:
        d = count
    out[b, oy, ox, ch] = (2 * total + d) // (2 * d)


def int8_avg_pool_nhwc(x, out, row_lo, row_hi, col_lo, col_hi, divisor, pad):
    _avg_pool_nhwc[_blocks(out.size), THREADS](x, out, row_lo, row_hi, col_lo, col_hi,
                                               int(divisor), int(pad))


@cuda.jit
def _add_requant(a, b, a_zero, b_zero, a_mult, b_mult, shift, out_zero, lo, out):
    i = cuda.grid(1)
    if i < a.size:
        acc = ((int64(a[i]) - a_zero) * a_mult + (int64(b[i]) - b_zero) * b_mult
               + (int64(1) << (shift - 1)))
        out[i] = min(max((acc >> shift) + out_zero, lo), 127)


def int8_add_requant(a, b, a_zero, b_zero, a_mult, b_mult, shift, out_zero, relu, out):
    lo = out_zero if relu else -128
    _add_requant[_blocks(a.size), THREADS](a.reshape(-1), b.reshape(-1), int(a_zero),
                                           int(b_zero), int(a_mult), int(b_mult), int(shift),
                                           int(out_zero), int(lo), out.reshape(-1))


@cuda.jit
def _conv2d_kmajor(x, w, kh, kw, sy, sx, ph, pw, dy, dx, bias, w_sums, a_zero, multiplier,
                   out_zero, lo, out):
    idx = cuda.grid(1)
    n, out_h, out_w, o_len = out.shape
    if idx >= out.size:
        return
    o = idx % o_len
    t = idx // o_len
    ox = t % out_w
    t //= out_w
    oy = t % out_h
    b = t // out_h
    acc = 0
    for ch in range(x.shape[1]):
        for i in range(kh):
            r = oy * sy - ph + i * dy
            for j in range(kw):
                col = ox * sx - pw + j * dx
                v = a_zero
                if 0 <= r < x.shape[2] and 0 <= col < x.shape[3]:
                    v = int(x[b, ch, r, col])
                acc += v * int(w[o, (ch * kh + i) * kw + j])
    acc += bias[o] - a_zero * w_sums[o]
    q = math.floor(float(acc) * multiplier[o] + 0.5) + out_zero
    out[b, oy, ox, o] = min(max(q, lo), 127)


def int8_conv2d_kmajor(x, w, kh, kw, sy, sx, ph, pw, dy, dx, bias, w_sums, a_zero, multiplier,
                       out_zero, relu, out):
    lo = out_zero if relu else -128
    _conv2d_kmajor[_blocks(out.size), THREADS](x, w, kh, kw, sy, sx, ph, pw, dy, dx, bias,
                                               w_sums, int(a_zero), multiplier, int(out_zero),
                                               int(lo), out)
