"""Converters of the layer ops: convolutions, pooling, normalization, LRN, locally connected
layers, channel shuffle and the scatter of graph convolutions.

Padding is written explicitly, from the traced output size: the bottom/right padding is the
least that gives that size (so a PyTorch ``ceil_mode`` window or an odd "same" padding becomes
an exact asymmetric pad, with none of ONNX's ceil-mode rules involved). Pooling indices are
PyTorch's per-plane ``h * W + w``; ONNX's MaxPool counts over the whole tensor, so they are
taken modulo H * W, and unpooling scatters into the (N, C, H * W) planes.
"""
import numpy as np

from .convert_tensor import clip_node, reduce
from .table import converts, inexpressible


def _end_pad(n, out, k, s, p, d=1):
    """The bottom/right padding that makes ``out`` windows of a side ``n``."""
    return max(0, (out - 1) * s + d * (k - 1) + 1 - n - p)


def _flat_indices(b, raw, in_shape):
    return b.node("Mod", [raw, b.ints([in_shape[2] * in_shape[3]])])


# --- convolutions -------------------------------------------------------------------------
@converts("Conv2dFn", "DepthwiseConv2dFn")
def conv(b, call):
    a = call.arguments
    x, w, bias, g = a["x"], a["w"], a["b"], a["geometry"]
    groups = a.get("groups", x.shape[1])  # DepthwiseConv2dFn: groups == C
    (kh, kw), (h, wd) = w.shape[2:], x.shape[2:]
    pads = [g.ph, g.pw, _end_pad(h, g.out_h, kh, g.sy, g.ph, g.dy),
            _end_pad(wd, g.out_w, kw, g.sx, g.pw, g.dx)]
    inputs = [b.value(x), b.value(w)] + ([b.value(bias)] if bias is not None else [])
    y = b.node("Conv", inputs, kernel_shape=[kh, kw], strides=[g.sy, g.sx], pads=pads,
               dilations=[g.dy, g.dx], group=int(groups))
    activation = a.get("activation")  # fused by nn.utils.fuse: ONNX has it as its own node
    if activation == "relu":
        y = b.node("Relu", [y])
    elif activation == "relu6":
        y = clip_node(b, y, x.dtype, 0, 6)
    return [y]


@converts("ConvTranspose2dFn")
def conv_transpose(b, call):
    a = call.arguments
    x, w, bias, g, out = a["x"], a["w"], a["b"], a["geometry"], a["out_shape"]
    (kh, kw), (h, wd) = w.shape[2:], x.shape[2:]
    smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                ((h, g.sy, g.ph, g.dy, kh), (wd, g.sx, g.pw, g.dx, kw))]
    inputs = [b.value(x), b.value(w)] + ([b.value(bias)] if bias is not None else [])
    return [b.node("ConvTranspose", inputs, kernel_shape=[kh, kw], strides=[g.sy, g.sx],
                   pads=[g.ph, g.pw, g.ph, g.pw], dilations=[g.dy, g.dx],
                   group=int(a["groups"]),
                   output_padding=[out[2] - smallest[0], out[3] - smallest[1]])]


# --- pooling ------------------------------------------------------------------------------
def _max_pool(b, x, xshape, k, s, p, d, out):
    """(y, a thunk for PyTorch-style indices) of an explicit-padding MaxPool."""
    pads = [p[0], p[1], _end_pad(xshape[2], out[0], k[0], s[0], p[0], d[0]),
            _end_pad(xshape[3], out[1], k[1], s[1], p[1], d[1])]
    attrs = dict(kernel_shape=list(k), strides=list(s), pads=pads, dilations=list(d))
    y = b.node("MaxPool", [x], **attrs)

    def indices():  # a second MaxPool with the Indices output, only when something reads it
        _, raw = b.node("MaxPool", [x], outputs=2, **attrs)
        return _flat_indices(b, raw, xshape)
    return y, indices


@converts("MaxPool2dFn")
def max_pool(b, call):
    a = call.arguments
    x = a["x"]
    return list(_max_pool(b, b.value(x), x.shape, a["kernel"], a["stride"], a["padding"],
                          a["dilation"], a["out_size"]))


@converts("AvgPool2dFn")
def avg_pool(b, call):
    """PyTorch's divisors exactly: the window clipped to the symmetrically padded input
    (count_include_pad), its input elements only, or ``divisor_override``."""
    a = call.arguments
    x, (kh, kw), s, (ph, pw) = a["x"], a["kernel"], a["stride"], a["padding"]
    out, divisor = a["out_size"], a["divisor"]
    ends = [_end_pad(x.shape[2], out[0], kh, s[0], ph), _end_pad(x.shape[3], out[1], kw, s[1],
                                                                 pw)]
    value = b.value(x)
    attrs = dict(kernel_shape=[kh, kw], strides=list(s))
    if divisor:  # the window sum (zeros in every pad) over the override
        y = b.node("AveragePool", [value], pads=[ph, pw, *ends], count_include_pad=1, **attrs)
        return [b.node("Mul", [y, b.const(np.asarray(kh * kw / divisor, x.dtype))])]
    if not a["count_include_pad"] or (ph == pw == 0):
        return [b.node("AveragePool", [value], pads=[ph, pw, *ends], count_include_pad=0,
                       **attrs)]
    if ends[0] <= ph and ends[1] <= pw:  # every window lies inside the padded input
        return [b.node("AveragePool", [value], pads=[ph, pw, *ends], count_include_pad=1,
                       **attrs)]
    # a ceil-mode window reaches past the padding: pad with zeros that count, and let
    # AveragePool skip the rest
    padded = b.node("Pad", [value, b.ints([0, 0, ph, pw, 0, 0, ph, pw]),
                            b.const(np.asarray(0, x.dtype))], mode="constant")
    extra = [max(0, ends[0] - ph), max(0, ends[1] - pw)]
    return [b.node("AveragePool", [padded], pads=[0, 0, *extra], count_include_pad=0, **attrs)]


def _adaptive_bins(n, out):
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def _averaging_matrix(n, out, dtype):
    m = np.zeros((out, n), dtype)
    for i, (lo, hi) in enumerate(_adaptive_bins(n, out)):
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


@converts("AdaptiveAvgPool2dFn")
def adaptive_avg_pool(b, call):
    """Global, tiling (AveragePool) or the averaging matrices y = A_h x A_w^T (MatMul)."""
    x, (oh, ow) = call.arguments["x"], call.arguments["out_size"]
    (h, w), value = x.shape[2:], b.value(x)
    if (oh, ow) == (1, 1):
        return [b.node("GlobalAveragePool", [value])]
    if h % oh == 0 and w % ow == 0:
        k = [h // oh, w // ow]
        return [b.node("AveragePool", [value], kernel_shape=k, strides=k)]
    rows = b.node("MatMul", [b.const(_averaging_matrix(h, oh, x.dtype)), value])
    return [b.node("MatMul", [rows, b.const(_averaging_matrix(w, ow, x.dtype).T)])]


@converts("AdaptiveMaxPool2dFn")
def adaptive_max_pool(b, call):
    """A MaxPool when the bins tile the input; else the max over each row band, then over
    each column band of those (a bin's max is the max of its rows' maxima)."""
    x, (oh, ow) = call.arguments["x"], call.arguments["out_size"]
    (h, w), value = x.shape[2:], b.value(x)
    if h % oh == 0 and w % ow == 0:
        k = (h // oh, w // ow)
        return list(_max_pool(b, value, x.shape, k, k, (0, 0), (1, 1), (oh, ow)))

    def bands(v, axis, bins):
        parts = [reduce(b, "ReduceMax", b.node("Slice", [v, b.ints([lo]), b.ints([hi]),
                                                         b.ints([axis])]), [axis], True)
                 for lo, hi in bins]
        return parts[0] if len(parts) == 1 else b.node("Concat", parts, axis=axis)
    y = bands(bands(value, 2, _adaptive_bins(h, oh)), 3, _adaptive_bins(w, ow))

    def indices():
        raise inexpressible(call, f"the argmax indices of adaptive max pooling with bins that "
                                  f"do not tile the input ({h}x{w} -> {oh}x{ow})")
    return [y, indices]


@converts("MaxUnpool2dFn")
def max_unpool(b, call):
    """Scatter each value to its recorded per-plane index of (N, C, H_out * W_out) zeros."""
    x, indices, (oh, ow) = (call.arguments[k] for k in ("x", "indices", "out_size"))
    c = x.shape[1]
    flat = b.reshape(b.value(x), x.shape, (x.shape[0], c, x.shape[2] * x.shape[3]))
    index = b.reshape(b.value(indices), x.shape, (x.shape[0], c, x.shape[2] * x.shape[3]))
    size = b.node("Concat", [b.node("Slice", [b.node("Shape", [flat]), b.ints([0]),
                                              b.ints([2])]), b.ints([oh * ow])], axis=0)
    zero = b.onnx.numpy_helper.from_array(np.zeros(1, x.dtype), "value")
    zeros = b.node("ConstantOfShape", [size], value=zero)
    y = b.node("ScatterElements", [zeros, index, flat], axis=2)
    return [b.reshape(y, (x.shape[0], c, oh * ow), (x.shape[0], c, oh, ow))]


# --- normalization ------------------------------------------------------------------------
def _channel_vector(b, v, ndim, dtype):
    """A per-channel (C,) value shaped (C, 1, ...) to broadcast over (N, C, ...)."""
    return b.node("Reshape", [b.value(v, dtype), b.ints([-1] + [1] * (ndim - 2))])


@converts("RowNormFn")
def row_norm(b, call):
    """Eval batch norm is BatchNormalization; batch, instance and group statistics are written
    out: the rows grouped as the op groups them, mean and biased variance by ReduceMean."""
    a = call.arguments
    x, weight, bias, eps = a["x"], a["weight"], a["bias"], float(a["eps"])
    c, dtype, value = x.shape[1], x.dtype, b.value(x)
    if a["fixed"] is not None:
        mean, var = a["fixed"]
        scale = b.value(weight) if weight is not None else b.const(np.ones(c, dtype))
        shift = b.value(bias) if bias is not None else b.const(np.zeros(c, dtype))
        return [b.node("BatchNormalization", [value, scale, shift, b.value(mean),
                                              b.value(var)], epsilon=eps)]
    if a["columns"]:
        rows, axes = value, [0]
    else:
        rview, raxes = a["rview"], a["raxes"]
        rows = b.node("Reshape", [value, b.ints([0, *rview[1:], -1])])
        axes = [*raxes, len(rview)]
    mean = reduce(b, "ReduceMean", rows, axes, True)
    centered = b.node("Sub", [rows, mean])
    var = reduce(b, "ReduceMean", b.node("Mul", [centered, centered]), axes, True)
    std = b.node("Sqrt", [b.node("Add", [var, b.const(np.asarray(eps, dtype))])])
    y = b.node("Div", [centered, std])
    if not a["columns"]:
        y = b.node("Reshape", [y, b.node("Shape", [value])])
    if weight is not None:
        y = b.node("Mul", [y, _channel_vector(b, weight, x.ndim, dtype)])
    if bias is not None:
        y = b.node("Add", [y, _channel_vector(b, bias, x.ndim, dtype)])
    return [y]


@converts("LayerNormFn")
def layer_norm(b, call):
    a = call.arguments
    x, dtype = a["x"], a["x"].dtype
    axes = list(range(x.ndim - len(a["shape"]), x.ndim))
    value = b.value(x)
    centered = b.node("Sub", [value, reduce(b, "ReduceMean", value, axes, True)])
    var = reduce(b, "ReduceMean", b.node("Mul", [centered, centered]), axes, True)
    y = b.node("Div", [centered, b.node("Sqrt", [b.node(
        "Add", [var, b.const(np.asarray(float(a["eps"]), dtype))])])])
    if a["weight"] is not None:
        y = b.node("Mul", [y, b.value(a["weight"])])
    if a["bias"] is not None:
        y = b.node("Add", [y, b.value(a["bias"])])
    return [y]


@converts("LRNAcrossFn")
def lrn_across(b, call):
    """ONNX's LRN (alpha / size, PyTorch's and Caffe's convention, which the op takes: the
    paper's alpha is passed as size * alpha_paper) for an odd window. ONNX centres an even
    window one channel later than PyTorch, so an even size is written out: the window sums of
    x^2 as an average pool over the channels of (N, 1, C, rest)."""
    x, size, alpha, beta, k = (call.arguments[n] for n in ("x", "size", "alpha", "beta", "k"))
    value = b.value(x)
    if size % 2:
        return [b.node("LRN", [value], size=int(size), alpha=float(alpha), beta=float(beta),
                       bias=float(k))]
    planes = b.node("Reshape", [b.node("Mul", [value, value]), b.ints([0, 1, x.shape[1], -1])])
    window = b.node("AveragePool", [planes], kernel_shape=[size, 1], strides=[1, 1],
                    pads=[size // 2, 0, (size - 1) // 2, 0], count_include_pad=1)
    return [_lrn_scale(b, value, b.node("Reshape", [window, b.node("Shape", [value])]),
                       x.dtype, alpha, beta, k)]


def _lrn_scale(b, value, average, dtype, alpha, beta, k):
    """x * (k + alpha * average)^-beta."""
    scale = b.node("Add", [b.const(np.asarray(k, dtype)),
                           b.node("Mul", [average, b.const(np.asarray(alpha, dtype))])])
    return b.node("Mul", [value, b.node("Pow", [scale, b.const(np.asarray(-beta, dtype))])])


@converts("LRNWithinFn")
def lrn_within(b, call):
    """k + alpha / size^2 * (the size x size box sum of x^2): an average pool with zero pads."""
    x, size, alpha, beta, k = (call.arguments[n] for n in ("x", "size", "alpha", "beta", "k"))
    value = b.value(x)
    half = size // 2
    window = b.node("AveragePool", [b.node("Mul", [value, value])], kernel_shape=[size, size],
                    strides=[1, 1], pads=[half] * 4, count_include_pad=1)
    return [_lrn_scale(b, value, window, x.dtype, alpha, beta, k)]


# --- other layers -------------------------------------------------------------------------
@converts("LocalConv2dFn")
def local_conv(b, call):
    """Unshared filters (DeepFace): the patches by a grouped one-hot convolution (exact
    copies), then one batched MatMul per output position with the (L, C kh kw, O) weights."""
    a = call.arguments
    x, weight, bias, (sy, sx), (ph, pw) = a["x"], a["weight"], a["bias"], a["stride"], \
        a["padding"]
    oh, ow, o, c, kh, kw = weight.shape
    k, positions = c * kh * kw, oh * ow
    eye = np.zeros((k, 1, kh, kw), x.dtype)
    eye[np.arange(k), 0, (np.arange(k) // kw) % kh, np.arange(k) % kw] = 1
    patches = b.node("Conv", [b.value(x), b.const(eye, "patch_filter")],
                     kernel_shape=[kh, kw], strides=[sy, sx], pads=[ph, pw, ph, pw], group=c)
    cols = b.node("Transpose", [b.node("Reshape", [patches, b.ints([0, k, positions])])],
                  perm=[2, 0, 1])  # (L, N, K)
    w = b.node("Transpose", [b.node("Reshape", [b.value(weight),
                                                b.ints([positions, o, k])])], perm=[0, 2, 1])
    y = b.node("Transpose", [b.node("MatMul", [cols, w])], perm=[1, 2, 0])  # (N, O, L)
    y = b.node("Reshape", [y, b.ints([0, o, oh, ow])])
    return [y if bias is None else b.node("Add", [y, b.value(bias)])]


@converts("ChannelShuffleFn")
def channel_shuffle(b, call):
    x, groups = call.arguments["x"], int(call.arguments["groups"])
    c = x.shape[1]
    split = b.node("Reshape", [b.value(x), b.ints([0, groups, c // groups, -1])])
    swapped = b.node("Transpose", [split], perm=[0, 2, 1, 3])
    return [b.node("Reshape", [swapped, b.node("Shape", [b.value(x)])])]


@converts("IndexAddFn")
def index_add(b, call):
    """out[index[e]] += src[e]: ScatterElements with reduction "add" (opset 16) on zeros."""
    src, index, rows = (call.arguments[n] for n in ("src", "index", "num_rows"))
    if b.opset < 16:
        raise inexpressible(call, "a scatter-add needs opset 16 or later")
    value = b.value(src)
    trailing = list(src.shape[1:])
    index = np.asarray(index, np.int64).reshape((-1,) + (1,) * len(trailing))
    spread = b.node("Expand", [b.const(index), b.node("Shape", [value])])
    zeros = b.const(np.zeros((int(rows), *trailing), src.dtype))
    return [b.node("ScatterElements", [zeros, spread, value], axis=0, reduction="add")]


@converts("DropoutFn")
def dropout(b, call):
    raise inexpressible(call, "dropout in training mode is random; export runs the model in "
                              "eval mode, so this call is made with training=True explicitly")
