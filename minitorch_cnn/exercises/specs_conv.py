"""The exercises on convolutional layers: convolution with loops and with im2col, pooling, LRN,
the locally-connected layer and the transposed convolution."""
import numpy as np

from .checker import Case, Check, Exercise, Mistake
from .engine import functional as op
from .engine import identity_kernel, run

# (N, C, H, W, O, kh, kw, stride, padding): odd sizes, non-square kernels, strides and padding
CONV_CASES = [(2, 3, 5, 5, 4, 3, 3, 1, 0), (2, 2, 7, 6, 3, 3, 3, 2, 1),
              (1, 3, 8, 9, 2, 3, 2, 2, 2), (2, 1, 6, 5, 2, 5, 5, 1, 2), (1, 2, 9, 9, 3, 3, 3, 3, 1)]


def _label(n, c, h, w, o, kh, kw, s, p):
    return f"x ({n}, {c}, {h}, {w}), w ({o}, {c}, {kh}, {kw}), stride {s}, padding {p}"


def _flip(a):
    return a[..., ::-1, ::-1]


def _conv(s, p):
    return lambda *t: op("conv2d")(*t, stride=s, padding=p)


def _conv_forward(x, w, b, stride=1, padding=0):
    return run(_conv(stride, padding), (x, w, b))[0]


def _conv_cases(rng, backward):
    cases = []
    for n, c, h, wd, o, kh, kw, s, p in CONV_CASES:
        x, w = rng.standard_normal((n, c, h, wd)), rng.standard_normal((o, c, kh, kw))
        b = rng.standard_normal(o)
        y = _conv_forward(x, w, b, s, p)
        gy = rng.standard_normal(y.shape)
        y, (gx, gw, gb) = run(_conv(s, p), (x, w, b), (0, 1, 2), gy)
        label = _label(n, c, h, wd, o, kh, kw, s, p)
        oh = (h + 2 * p - kh) // s + 1
        if not backward:
            cases.append(Case(label, (x, w, b, s, p), (y,), ("y",), [
                Mistake("deep-learning 'convolution' is cross-correlation: do not flip the "
                        "kernel.", "y", alt=_conv_forward(x, _flip(w).copy(), b, s, p)),
                Mistake("add the bias b[o] to every output of channel o.", "y",
                        alt=y - b[:, None, None]),
                Mistake("the output size is (H + 2 * padding - kh) // stride + 1.", "y",
                        shape=(n, o, h + 2 * p - kh + 1, wd + 2 * p - kw + 1)),
                Mistake(f"the output size is (H + 2 * padding - kh) // stride + 1 = {oh}: "
                        "the padding is missing.", "y",
                        shape=(n, o, (h - kh) // s + 1, (wd - kw) // s + 1))]))
            continue
        gx_flipped = run(_conv(s, p), (x, _flip(w).copy(), b), (0,), gy)[1][0]
        cases.append(Case(label, (gy, x, w, b, s, p), (gx, gw, gb), ("gx", "gw", "gb"), [
            Mistake("gx still has the padding: crop gxp[:, :, p:p + H, p:p + W].", "gx",
                    shape=(n, c, h + 2 * p, wd + 2 * p)),
            Mistake("gx was computed with a flipped kernel: the forward does not flip w, so "
                    "gxp[window] += gy * w[o] as it is.", "gx", alt=gx_flipped),
            Mistake("gw is flipped (rotated by 180 degrees): gw[o] += gy * the window of xp, "
                    "in the window's own order.", "gw", alt=_flip(gw)),
            Mistake("gb has b's shape (O,): sum gy over the batch and over every output "
                    "position (axes 0, 2, 3).", "gb", shape=(o, oh, y.shape[3])),
            Mistake("gb has b's shape (O,): sum gy over the batch as well as the positions.",
                    "gb", shape=(n, o)),
            Mistake("gw: sum over the batch, not the mean.", "gw", alt=gw / n),
        ], forward_args=(x, w, b, s, p), gy=gy))
    return cases


_CONV_HINT = ("each term w[o, c, p, q] * xp[n, c, i*s + p, j*s + q] of y[n, o, i, j] adds "
              "gy[n, o, i, j] times the other factor into gw and gxp; gb sums gy over n, i, j.")

CONV_NAIVE = Exercise("conv_naive", "ex04_conv_naive.py", "convolution with loops", [
    Check("conv2d_forward_naive", "F.conv2d", lambda rng: _conv_cases(rng, False),
          "y[n, o, i, j] = b[o] + sum over c, p, q of w[o, c, p, q] * xp[n, c, i*s + p, j*s + q]."),
    Check("conv2d_backward_naive", "F.conv2d", lambda rng: _conv_cases(rng, True), _CONV_HINT,
          forward="conv2d_forward_naive", wrt=(0, 1, 2), engine_forward=_conv_forward),
])


# --- 5. im2col ----------------------------------------------------------------------------------
def _im2col_cases(rng, which):
    cases = []
    for n, c, h, wd, _, kh, kw, s, p in CONV_CASES:
        x = rng.standard_normal((n, c, h, wd))
        eye = identity_kernel(c, kh, kw)
        col_img = _conv_forward(x, eye, np.zeros(len(eye)), s, p)     # (N, C*kh*kw, OH, OW)
        oh, ow = col_img.shape[2:]
        col = col_img.reshape(n, c * kh * kw, oh * ow)
        label = _label(n, c, h, wd, c * kh * kw, kh, kw, s, p)
        if which == "im2col":
            rows_pqc = col.reshape(n, c, kh, kw, -1).transpose(0, 2, 3, 1, 4).reshape(col.shape)
            cases.append(Case(label, (x, kh, kw, s, p), (col,), ("col",), [
                Mistake("order the rows c, then p, then q (the order of w.reshape(O, -1)), "
                        "not p, q, c.", "col", alt=rows_pqc),
                Mistake("col is (N, C*kh*kw, OH*OW): one row per (c, p, q), one column per "
                        "output position.", "col", shape=(n, oh * ow, c * kh * kw))]))
            continue
        gcol = rng.standard_normal(col.shape)
        _, (gx,) = run(_conv(s, p), (x, eye, np.zeros(len(eye))), (0,),
                       gcol.reshape(col_img.shape))
        counts = run(_conv(s, p), (x, eye, np.zeros(len(eye))), (0,),
                     np.ones(col_img.shape))[1][0]
        cases.append(Case(label, (gcol, x.shape, kh, kw, s, p), (gx,), ("x",), [
            Mistake("where windows overlap, a pixel receives several column entries: add them "
                    "(+=), do not assign (=).", "x", where=counts > 1),
            Mistake("crop the padding: return xp[:, :, p:p + H, p:p + W].", "x",
                    shape=(n, c, h + 2 * p, wd + 2 * p))]))
    return cases


def _conv_im2col_cases(rng, backward):
    cases = _conv_cases(rng, backward)
    for case in cases:
        if backward:
            n = case.args[0].shape[0]
            case.mistakes.append(Mistake("gw: sum the per-image products over the batch.",
                                         "gw", shape=(n,) + case.args[2].shape))
    return cases


IM2COL = Exercise("im2col", "ex05_im2col.py", "convolution as a matrix product", [
    Check("im2col", "F.conv2d with an identity kernel", lambda rng: _im2col_cases(rng, "im2col"),
          "col[n, (c, p, q), (i, j)] = xp[n, c, i*s + p, j*s + q]."),
    Check("col2im", "the gradient of F.conv2d with an identity kernel",
          lambda rng: _im2col_cases(rng, "col2im"),
          "col2im adds each col[n, (c, p, q), (i, j)] into xp[n, c, i*s + p, j*s + q], then "
          "crops the padding."),
    Check("conv2d_forward_im2col", "F.conv2d", lambda rng: _conv_cases(rng, False),
          "y[n] = w.reshape(O, -1) @ im2col(x)[n] + b[:, None], reshaped to (O, OH, OW)."),
    Check("conv2d_backward_im2col", "F.conv2d", lambda rng: _conv_im2col_cases(rng, True),
          "gw = sum_n gy[n] @ col[n].T; gx = col2im(w.reshape(O, -1).T @ gy[n]); gb = gy summed "
          "over n, i, j.", forward="conv2d_forward_im2col", wrt=(0, 1, 2),
          engine_forward=_conv_forward),
])


# --- 6. pooling ---------------------------------------------------------------------------------
def _pool(name, k, s):
    return lambda t: op(name)(t, k, s)


def _pool_cases(rng, name):
    cases = []
    for shape, k, s in [((2, 3, 6, 6), 2, 2), ((1, 2, 7, 9), 3, 2), ((2, 1, 5, 5), 3, 1)]:
        x = rng.standard_normal(shape)
        y = run(_pool(name, k, s), (x,))[0]
        gy = rng.standard_normal(y.shape)
        _, (gx,) = run(_pool(name, k, s), (x,), (0,), gy)
        counts = run(_pool("avg_pool2d", k, s), (x,), (0,), np.ones(y.shape))[1][0] * k * k
        spread = run(_pool("avg_pool2d", k, s), (x,), (0,), gy)[1][0]
        label = f"x {shape}, kernel {k}, stride {s}" + (" (overlapping)" if s < k else "")
        mistakes = [Mistake("overlapping windows: an input collects gradient from every window "
                            "that holds it, so add (+=), do not assign (=).", "gx",
                            where=counts > 1)]
        if name == "max_pool2d":
            mistakes += [Mistake("max pooling routes each gy only to its window's maximum, not "
                                 "to every element of the window.", "gx", alt=spread * k * k),
                         Mistake("max pooling routes each gy only to its window's maximum (that "
                                 "is average pooling's backward).", "gx", alt=spread)]
        else:
            mistakes += [Mistake("each input of a window receives gy / (kernel_size ** 2): the "
                                 "1/k^2 of the mean is missing.", "gx", alt=gx * k * k)]
        cases.append(Case(label, (gy, x, k, s), (gx,), ("gx",), mistakes,
                          forward_args=(x, k, s), gy=gy))
    return cases


def _pool_forward(name):
    return lambda x, k, s: run(_pool(name, k, s), (x,))[0]


POOLING = Exercise("pooling", "ex06_pooling.py", "max and average pooling backward", [
    Check("max_pool2d_backward", "F.max_pool2d", lambda rng: _pool_cases(rng, "max_pool2d"),
          "gx[window's argmax] += gy[n, c, i, j] for every window.",
          forward="max_pool2d_forward", wrt=(0,), engine_forward=_pool_forward("max_pool2d")),
    Check("avg_pool2d_backward", "F.avg_pool2d", lambda rng: _pool_cases(rng, "avg_pool2d"),
          "gx[window] += gy[n, c, i, j] / kernel_size ** 2 for every window.",
          forward="avg_pool2d_forward", wrt=(0,), engine_forward=_pool_forward("avg_pool2d")),
])


# --- 9. LRN -------------------------------------------------------------------------------------
def _lrn(size, alpha, beta, k):
    return lambda t: op("local_response_norm")(t, size, alpha=alpha, beta=beta, k=k)


def _lrn_cases(rng):
    cases = []
    for shape, size, alpha, beta, k in [((2, 6, 3, 3), 5, 1e-1, 0.75, 2.0),
                                        ((1, 4, 2, 3), 3, 0.5, 0.75, 1.0),
                                        ((2, 7, 2, 2), 5, 2.0, 0.5, 1.5)]:
        x = rng.standard_normal(shape) * 2
        gy = rng.standard_normal(shape)
        y, (gx,) = run(_lrn(size, alpha, beta, k), (x,), (0,), gy)
        d_beta = np.where(y != 0, x / np.where(y != 0, y, 1), 1)       # d ** beta
        paper = run(_lrn(size, alpha * size, beta, k), (x,), (0,), gy)[1][0]
        cases.append(Case(f"x {shape}, size {size}, alpha {alpha:g}, beta {beta:g}, k {k:g}",
                          (gy, x, size, alpha, beta, k), (gx,), ("gx",), [
            Mistake("x[j] is also in the denominators of its neighbours' outputs: add "
                    "-2 alpha beta / size * x[j] * sum_c gy[c] x[c] / d[c]^(beta + 1).", "gx",
                    alt=gy / d_beta),
            Mistake("alpha is divided by size in this convention (Caffe/PyTorch): d = k + "
                    "alpha / size * sum x^2; yours uses the paper's alpha.", "gx", alt=paper)],
            forward_args=(x, size, alpha, beta, k), gy=gy))
    return cases


def _lrn_forward(x, size, alpha, beta, k):
    return run(_lrn(size, alpha, beta, k), (x,))[0]


LRN = Exercise("lrn", "ex09_lrn.py", "local response normalization backward", [
    Check("lrn_backward", "F.local_response_norm", _lrn_cases,
          "gx[j] = gy[j] / d[j]^beta - 2 alpha beta / size * x[j] * sum over the channels c "
          "whose window holds j of gy[c] x[c] / d[c]^(beta + 1).",
          forward="lrn_forward", wrt=(0,), engine_forward=_lrn_forward),
])


# --- 10. locally connected ----------------------------------------------------------------------
def _local(s, p):
    return lambda *t: op("local_conv2d")(*t, stride=s, padding=p)


def _local_cases(rng):
    cases = []
    for n, c, h, wd, o, kh, kw, s, p in CONV_CASES[:4]:
        oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
        x = rng.standard_normal((n, c, h, wd))
        w, b = rng.standard_normal((oh, ow, o, c, kh, kw)), rng.standard_normal((o, oh, ow))
        gy = rng.standard_normal((n, o, oh, ow))
        _, (gx, gw, gb) = run(_local(s, p), (x, w, b), (0, 1, 2), gy)
        cases.append(Case(_label(n, c, h, wd, o, kh, kw, s, p) + " (unshared)",
                          (gy, x, w, b, s, p), (gx, gw, gb), ("gx", "gw", "gb"), [
            Mistake("the weights are not shared: gw has one filter bank per output position, "
                    "shape (OH, OW, O, C, kh, kw); do not sum over positions.", "gw",
                    shape=(o, c, kh, kw)),
            Mistake("the bias is not shared either: gb (O, OH, OW) sums gy over the batch "
                    "only.", "gb", shape=(o,)),
            Mistake("gb sums gy over the batch (axis 0).", "gb", shape=(n, o, oh, ow)),
            Mistake("gx still has the padding: crop it.", "gx",
                    shape=(n, c, h + 2 * p, wd + 2 * p)),
            Mistake("gw and gb: sum over the batch, not the mean.", "gw", alt=gw / n)],
            forward_args=(x, w, b, s, p), gy=gy))
    return cases


def _local_forward(x, w, b, stride=1, padding=0):
    return run(_local(stride, padding), (x, w, b))[0]


LOCAL_CONV = Exercise("local_conv", "ex10_local_conv.py", "the locally-connected layer", [
    Check("local_conv2d_backward", "F.local_conv2d", _local_cases,
          "at each output position (i, j): gw[i, j] = sum_n gy[n, :, i, j] outer the window of "
          "xp; gxp[window] += w[i, j]^T gy[n, :, i, j]; gb = gy.sum(axis=0).",
          forward="local_conv2d_forward", wrt=(0, 1, 2), engine_forward=_local_forward),
])


# --- 11. transposed convolution -----------------------------------------------------------------
def _tconv(s, p):
    return lambda *t: op("conv_transpose2d")(*t, stride=s, padding=p)


def _tconv_forward(x, w, b, stride=1, padding=0):
    return run(_tconv(stride, padding), (x, w, b))[0]


def _tconv_cases(rng, backward):
    cases = []
    for n, c_in, h, wd, c_out, kh, kw, s, p in [(2, 3, 4, 4, 2, 3, 3, 1, 0),
                                                (1, 2, 3, 5, 3, 3, 3, 2, 1),
                                                (2, 4, 3, 3, 1, 2, 2, 2, 0),
                                                (1, 1, 5, 4, 2, 4, 3, 3, 1)]:
        x, w = rng.standard_normal((n, c_in, h, wd)), rng.standard_normal((c_in, c_out, kh, kw))
        b = rng.standard_normal(c_out)
        y = _tconv_forward(x, w, b, s, p)
        gy = rng.standard_normal(y.shape)
        _, (gx, gw, gb) = run(_tconv(s, p), (x, w, b), (0, 1, 2), gy)
        label = (f"x ({n}, {c_in}, {h}, {wd}), w ({c_in}, {c_out}, {kh}, {kw}), stride {s}, "
                 f"padding {p}")
        if not backward:
            cases.append(Case(label, (x, w, b, s, p), (y,), ("y",), [
                Mistake("the kernel is not flipped: y is col2im(w^T x), the gradient of "
                        "conv2d with the same w.", "y", alt=_tconv_forward(x, _flip(w).copy(),
                                                                           b, s, p)),
                Mistake("OH = (H - 1) * stride - 2 * padding + kh: crop the padding.", "y",
                        shape=(n, c_out, (h - 1) * s + kh, (wd - 1) * s + kw)),
                Mistake("add the bias b[c_out] to every output of its channel.", "y",
                        alt=y - b[:, None, None])]))
            continue
        gx_flipped = run(_tconv(s, p), (x, _flip(w).copy(), b), (0,), gy)[1][0]
        cases.append(Case(label, (gy, x, w, b, s, p), (gx, gw, gb), ("gx", "gw", "gb"), [
            Mistake("gx = conv2d(gy, w) with the same w: not flipped.", "gx", alt=gx_flipped),
            Mistake("gb has b's shape (C_out,): sum gy over n, i and j.", "gb",
                    shape=(c_out,) + y.shape[2:]),
            Mistake("gw is flipped (rotated by 180 degrees).", "gw", alt=_flip(gw)),
            Mistake("gw has w's shape (C_in, C_out, kh, kw): you have the conv2d layout "
                    "(C_out, C_in, ...).", "gw", shape=(c_out, c_in, kh, kw))],
            forward_args=(x, w, b, s, p), gy=gy))
    return cases


CONV_TRANSPOSE = Exercise("conv_transpose", "ex11_conv_transpose.py",
                          "the transposed convolution", [
    Check("conv_transpose2d_forward", "F.conv_transpose2d",
          lambda rng: _tconv_cases(rng, False),
          "y = col2im(w.reshape(C_in, -1).T @ x[n].reshape(C_in, -1)) + b, of size "
          "(H - 1) * s - 2 * p + kh."),
    Check("conv_transpose2d_backward", "F.conv_transpose2d",
          lambda rng: _tconv_cases(rng, True),
          "gx = conv2d(gy, w) (same w, no bias); gw[c_in] = sum x[:, c_in] * the windows of gy; "
          "gb = gy summed over n, i, j.", forward="conv_transpose2d_forward", wrt=(0, 1, 2),
          engine_forward=_tconv_forward),
])
