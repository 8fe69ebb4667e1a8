"""int8 inference kernels on the CPU: Numba loops, parallel over GEMM rows (output pixels).

The GEMM keeps both operands row-major in K (activations (M, K), weights (O, K)), so each
output is one contiguous dot product. Its operands hold int8 values; given as int16 arrays
(``quantize_int8`` keeps the patches and weights so) LLVM vectorises a one-row loop with the
int16 multiply-add instruction (pmaddwd): measured 2.5-4x faster than widening int8 loads in
the loop. The requantization and ReLU are fused into the store. On a CPU with AVX-512 VNNI the
GEMM takes u8 activations (code + 128) and s8 weights and runs ``vpdpbusd`` (64 multiply-adds
an instruction, twice ``vpmaddwd``'s) through an LLVM intrinsic, since LLVM does not emit it
from a loop; with AVX2 only (AMD Zen 3) it runs ``vpmaddwd`` through an intrinsic too, on
four activation rows by two weight rows at a time, which LLVM gives up for 32-bit multiplies
once a loop keeps several accumulators. ``int8_gemm_operand`` says which operands the GEMM
wants.
The im2col first copies the input padded with the zero point, so its gather has no bounds
tests. See ``reference/int8.py`` for the rules.
"""
import math

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic


def _has_flag(flag):
    """Whether /proc/cpuinfo lists this CPU flag."""
    try:
        with open("/proc/cpuinfo") as f:
            return f" {flag}" in f.read()
    except OSError:
        return False


VNNI = _has_flag("avx512_vnni")  # vpdpbusd: 64 u8 x s8 multiply-adds an instruction
AVX2 = _has_flag("avx2")  # vpmaddwd on 256 bits: 16 s16 x s16 multiply-adds an instruction


@njit(cache=True, parallel=True, nogil=True)
def int8_im2col(x, cols, sy, sx, ph, pw, dy, dx, pad):
    n, c, h, w = x.shape
    out_h, out_w, _, kh, kw = cols.shape[1:]
    # a copy padded with the zero point: the gather below then needs no bounds tests
    hp = max((out_h - 1) * sy + (kh - 1) * dy + 1, h + ph)
    wp = max((out_w - 1) * sx + (kw - 1) * dx + 1, w + pw)
    xp = np.empty((n, c, hp, wp), x.dtype)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for r in range(hp):
            for col in range(wp):
                rr, cc = r - ph, col - pw
                if 0 <= rr < h and 0 <= cc < w:
                    xp[b, ch, r, col] = x[b, ch, rr, cc]
                else:
                    xp[b, ch, r, col] = pad
    for task in prange(n * out_h):
        b = task // out_h
        oh = task % out_h
        for ow in range(out_w):
            for ch in range(c):
                for i in range(kh):
                    r = oh * sy + i * dy
                    col = ow * sx
                    for j in range(kw):
                        cols[b, oh, ow, ch, i, j] = xp[b, ch, r, col + j * dx]


@njit(cache=True, parallel=True, nogil=True)
def int8_quantize(x, scale, zero, out):
    flat, q = x.reshape(-1), out.reshape(-1)
    for i in prange(flat.size):
        v = math.floor(np.float64(flat[i]) / scale + 0.5) + zero
        q[i] = np.int8(min(max(v, -128), 127))


def int8_gemm_operand(k):
    """(activation dtype, weight dtype, padded K, activation offset) this GEMM wants: with VNNI
    u8 activations (code + 128) and s8 weights, K a multiple of 64; else int16 both
    (``vpmaddwd``), K a multiple of 64 past 64: the AVX2 kernel wants a multiple of 16, and the
    one-row loop then has no scalar remainder (K = 147, ResNet's stem, took 16.3 ms and K = 192
    10.8 ms)."""
    if VNNI:
        return np.uint8, np.int8, -(-k // 64) * 64, 128
    return np.int16, np.int16, (k if k <= 64 else -(-k // 64) * 64), 0


@intrinsic
def _dot_u8s8(typingctx, a, w, chunks):
    """sum(a[k] w[k]) for C-contiguous 1-d u8 ``a`` and s8 ``w`` of 64 ``chunks``: one
    ``vpdpbusd`` per 64 bytes (LLVM does not emit it from a loop), then a horizontal add."""
    sig = types.int32(a, w, types.intp)

    def codegen(context, builder, signature, args):
        ir = cgutils.ir
        a_arr = context.make_array(signature.args[0])(context, builder, args[0])
        w_arr = context.make_array(signature.args[1])(context, builder, args[1])
        bytes64, ints16 = ir.VectorType(ir.IntType(8), 64), ir.VectorType(ir.IntType(32), 16)
        dot = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ints16, [ints16, bytes64, bytes64]),
            "llvm.x86.avx512.vpdpbusd.512")
        total = cgutils.alloca_once_value(builder, ir.Constant(ints16, None))
        pa = builder.bitcast(a_arr.data, bytes64.as_pointer())
        pw = builder.bitcast(w_arr.data, bytes64.as_pointer())
        with cgutils.for_range(builder, args[2]) as loop:
            va = builder.load(builder.gep(pa, [loop.index]), align=1)
            vw = builder.load(builder.gep(pw, [loop.index]), align=1)
            builder.store(builder.call(dot, [builder.load(total), va, vw]), total)
        reduce = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), [ints16]),
            "llvm.vector.reduce.add.v16i32")
        return builder.call(reduce, [builder.load(total)])
    return sig, codegen


@njit(inline="always")
def _requant_row(acc, bias, w_sums, a_zero, multiplier, out_zero, lo, out):
    """One output row of a GEMM: int32 sums + bias - zero point x weight sums, requantized to
    int8 (round half up, clamped to [lo, 127]; lo = the output zero point under a ReLU)."""
    for o in range(out.shape[0]):
        v = acc[o] + bias[o] - np.int32(a_zero) * w_sums[o]
        q = math.floor(np.float64(v) * multiplier[o] + 0.5) + out_zero
        out[o] = np.int8(min(max(q, lo), 127))


@njit(cache=True, parallel=True, nogil=True)
def _gemm_vnni(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    m_rows, k_len = a.shape
    o_len = w.shape[0]
    lo = out_zero if relu else -128
    for m in prange(m_rows):
        acc = np.empty(o_len, np.int32)
        row = a[m]
        for o in range(o_len):
            acc[o] = _dot_u8s8(row, w[o], k_len // 64)
        _requant_row(acc, bias, w_sums, a_zero, multiplier, out_zero, lo, out[m])


@intrinsic
def _dot4x2_s16(typingctx, a0, a1, a2, a3, w0, w1, chunks):
    """The eight sums(a_i[k] w_j[k]) of four by two C-contiguous 1-d int16 rows of 16
    ``chunks``: each 32-byte load feeds two or four ``vpmaddwd``, then eight horizontal adds.
    LLVM emits ``vpmaddwd`` from a one-row loop, but not once the loop keeps several
    accumulators (it widens to 32-bit multiplies), hence the intrinsic."""
    sig = types.UniTuple(types.int32, 8)(a0, a1, a2, a3, w0, w1, types.intp)

    def codegen(context, builder, signature, args):
        ir = cgutils.ir
        shorts16, ints8 = ir.VectorType(ir.IntType(16), 16), ir.VectorType(ir.IntType(32), 8)
        madd = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ints8, [shorts16, shorts16]),
            "llvm.x86.avx2.pmadd.wd")
        rows = [builder.bitcast(context.make_array(t)(context, builder, v).data,
                                shorts16.as_pointer())
                for t, v in zip(signature.args[:6], args[:6])]
        totals = [cgutils.alloca_once_value(builder, ir.Constant(ints8, None)) for _ in range(8)]
        with cgutils.for_range(builder, args[6]) as loop:
            vw = [builder.load(builder.gep(row, [loop.index]), align=1) for row in rows[4:]]
            for i, row in enumerate(rows[:4]):
                va = builder.load(builder.gep(row, [loop.index]), align=1)
                for j in range(2):
                    total = totals[2 * i + j]
                    builder.store(builder.add(builder.load(total),
                                              builder.call(madd, [va, vw[j]])), total)
        reduce = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), [ints8]),
            "llvm.vector.reduce.add.v8i32")
        sums = [builder.call(reduce, [builder.load(t)]) for t in totals]
        return context.make_tuple(builder, signature.return_type, sums)
    return sig, codegen


@njit(cache=True, parallel=True, nogil=True)
def _gemm_avx2(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    # a task takes four activation rows against two weight rows at a time: each load feeds
    # two or four multiply-adds. One thread, AVX2 (Zen 3), one-row loop / this / NumPy's
    # sgemm: ResNet-18 layer3's (392, 2304, 256) 11.4 / 4.2 / 5.9 ms, layer4's (98, 4608,
    # 512) 11.5 / 4.7 / 6.6 ms, layer1's (6272, 576, 64) 11.8 / 7.9 / 7.5 ms
    m_rows, k_len = a.shape
    o_len = w.shape[0]
    lo = out_zero if relu else -128
    chunks = k_len // 16
    for block in prange((m_rows + 3) // 4):
        last = m_rows - 1  # past the end of M, the last row again
        rows = (block * 4, min(block * 4 + 1, last), min(block * 4 + 2, last),
                min(block * 4 + 3, last))
        acc = np.empty((4, o_len + 1), np.int32)
        for o in range(0, o_len, 2):
            p = min(o + 1, o_len - 1)
            (acc[0, o], acc[0, o + 1], acc[1, o], acc[1, o + 1], acc[2, o], acc[2, o + 1],
             acc[3, o], acc[3, o + 1]) = _dot4x2_s16(a[rows[0]], a[rows[1]], a[rows[2]],
                                                     a[rows[3]], w[o], w[p], chunks)
        for r in range(4):
            _requant_row(acc[r], bias, w_sums, a_zero, multiplier, out_zero, lo, out[rows[r]])


def int8_gemm_requant(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    contiguous = a.flags.c_contiguous and w.flags.c_contiguous
    if (VNNI and a.dtype == np.uint8 and w.dtype == np.int8 and a.shape[1] % 64 == 0
            and contiguous):
        _gemm_vnni(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out)
    elif (AVX2 and a.dtype == np.int16 and w.dtype == np.int16 and a.shape[1] % 16 == 0
          and contiguous):
        _gemm_avx2(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out)
    else:
        _gemm_loops(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out)


@njit(cache=True, parallel=True, nogil=True)
def _gemm_loops(a, w, bias, w_sums, a_zero, multiplier, out_zero, relu, out):
    m_rows, k_len = a.shape
    o_len = w.shape[0]
    lo = out_zero if relu else -128
    for m in prange(m_rows):
        acc = np.empty(o_len, np.int32)
        for o in range(o_len):  # the dot products first: with the epilogue in the same loop
            total = np.int32(0)  # LLVM stopped vectorising them (2-3x slower)
            for k in range(k_len):
                total += np.int32(a[m, k]) * np.int32(w[o, k])
            acc[o] = total
        _requant_row(acc, bias, w_sums, a_zero, multiplier, out_zero, lo, out[m])


@njit(cache=True, parallel=True, nogil=True)
def int8_dequantize_nchw(q, scale, zero, out):
    n, out_h, out_w, o_len = q.shape
    s, z = np.float32(scale), np.float32(zero)
    for plane in prange(n * o_len):
        b, o = plane // o_len, plane % o_len
        for r in range(out_h):
            for c in range(out_w):
                out[b, o, r, c] = (np.float32(q[b, r, c, o]) - z) * s


@njit(cache=True, parallel=True, nogil=True)
def int8_im2col_nhwc(x, cols, sy, sx, ph, pw, dy, dx, pad):
    n, h, w, c = x.shape
    out_h, out_w, kh, kw, _ = cols.shape[1:]
    for task in prange(n * out_h):
        b = task // out_h
        oh = task % out_h
        for ow in range(out_w):
            for i in range(kh):
                r = oh * sy - ph + i * dy
                for j in range(kw):
                    col = ow * sx - pw + j * dx
                    if 0 <= r < h and 0 <= col < w:
                        for ch in range(c):  # a contiguous run of C codes
                            cols[b, oh, ow, i, j, ch] = x[b, r, col, ch]
                    else:
                        for ch in range(c):
                            cols[b, oh, ow, i, j, ch] = pad


@njit(cache=True, parallel=True, nogil=True)
def int8_max_pool2d_nhwc(x, out, kh, kw, sy, sx, ph, pw, dy, dx):
    n, h, w, c = x.shape
    out_h, out_w = out.shape[1:3]
    for task in prange(n * out_h):
        b = task // out_h
        oy = task % out_h
        for ox in range(out_w):
            best = out[b, oy, ox]
            best[:] = -128
            for i in range(kh):
                r = oy * sy - ph + i * dy
                if 0 <= r < h:
                    for j in range(kw):
                        col = ox * sx - pw + j * dx
                        if 0 <= col < w:
                            for ch in range(c):
                                best[ch] = max(best[ch], x[b, r, col, ch])


@njit(cache=True, parallel=True, nogil=True)
def int8_avg_pool_nhwc(x, out, row_lo, row_hi, col_lo, col_hi, divisor, pad):
    n, h, w, c = x.shape
    out_h, out_w = out.shape[1:3]
    for task in prange(n * out_h):
        b = task // out_h
        oy = task % out_h
        r0, r1 = row_lo[oy], row_hi[oy]
        total = np.empty(c, np.int64)
        for ox in range(out_w):
            c0, c1 = col_lo[ox], col_hi[ox]
            total[:] = 0
            count = 0
            for r in range(max(r0, 0), min(r1, h)):
                for col in range(max(c0, 0), min(c1, w)):
                    count += 1
                    for ch in range(c):
                        total[ch] += x[b, r, col, ch]
            d = divisor
            extra = 0
            if divisor > 0:
                extra = ((r1 - r0) * (c1 - c0) - count) * pad
            else:
                d = count
            for ch in range(c):
                out[b, oy, ox, ch] = (2 * (total[ch] + extra) + d) // (2 * d)


@njit(cache=True, parallel=True, nogil=True)
def int8_add_requant(a, b, a_zero, b_zero, a_mult, b_mult, shift, out_zero, relu, out):
    fa, fb, q = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    lo = out_zero if relu else -128
    half = np.int64(1) << (shift - 1)
    for i in prange(fa.size):
        acc = ((np.int64(fa[i]) - a_zero) * a_mult + (np.int64(fb[i]) - b_zero) * b_mult
               + half)
        v = (acc >> shift) + out_zero
        q[i] = np.int8(min(max(v, lo), 127))


@njit(cache=True, parallel=True, nogil=True)
def int8_conv2d_kmajor(x, w, kh, kw, sy, sx, ph, pw, dy, dx, bias, w_sums, a_zero, multiplier,
                       out_zero, relu, out):
    # one sample per task: its padded copy, then long multiply-adds per (tap, output channel)
    # and the requantization, stored channels-last. At stride 1 the outputs are computed on the
    # padded input's row pitch (wp - out_w columns a row computed and dropped), so that a
    # tap's inputs for every output are one contiguous run of the padded copy and no patches
    # are copied (LeNet-5's conv1 at batch 256: 6.7 -> 4.6 ms, median of 30 alternated runs on
    # two threads); other strides gather K-major patches (K, P).
    n, c, h, wd = x.shape
    _, out_h, out_w, o_len = out.shape
    k_len = c * kh * kw
    hp = max((out_h - 1) * sy + (kh - 1) * dy + 1, h + ph) + 1  # + 1: the last run's overhang
    wp = max((out_w - 1) * sx + (kw - 1) * dx + 1, wd + pw)
    pitch = wp if sy == 1 and sx == 1 else out_w
    p_len = out_h * pitch
    lo = out_zero if relu else -128
    for b in prange(n):
        xp = np.full((c, hp * wp), np.int32(a_zero))
        for ch in range(c):
            for r in range(h):
                for cc in range(wd):
                    xp[ch, (r + ph) * wp + cc + pw] = x[b, ch, r, cc]
        acc = np.zeros((o_len, p_len), np.int32)
        if pitch == wp:
            for ch in range(c):
                for i in range(kh):
                    for j in range(kw):
                        k, start = (ch * kh + i) * kw + j, i * dy * wp + j * dx
                        for o in range(o_len):
                            wv = np.int32(w[o, k])
                            for p in range(np.uintp(p_len)):
                                acc[np.uintp(o), p] += wv * xp[ch, np.uintp(start) + p]
        else:
            col = np.empty((k_len, p_len), np.int32)
            for ch in range(c):
                for i in range(kh):
                    for j in range(kw):
                        k = (ch * kh + i) * kw + j
                        for oy in range(out_h):
                            row = (oy * sy + i * dy) * wp + j * dx
                            for ox in range(out_w):
                                col[k, oy * out_w + ox] = xp[ch, row + ox * sx]
            for k in range(k_len):
                for o in range(o_len):
                    wv = np.int32(w[o, k])
                    for p in range(np.uintp(p_len)):
                        acc[np.uintp(o), p] += wv * col[np.uintp(k), p]
        q8 = np.empty((o_len, out_h * out_w), np.int8)
        for o in range(o_len):
            shift = bias[o] - np.int32(a_zero) * w_sums[o]
            mo = multiplier[o]
            for oy in range(out_h):
                for ox in range(out_w):
                    q = math.floor(np.float64(acc[o, oy * pitch + ox] + shift) * mo + 0.5)
                    q8[o, oy * out_w + ox] = np.int8(min(max(q + out_zero, lo), 127))
        for oy in range(out_h):
            for ox in range(out_w):
                for o in range(o_len):
                    out[b, oy, ox, o] = q8[o, oy * out_w + ox]
