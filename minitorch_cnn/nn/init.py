"""Weight initialisation, in place under no_grad, drawing from the device's seeded generator.

Names and formulas are PyTorch's (``torch.nn.init``): fan_in = in_channels * kh * kw for a
conv weight (O, C, kh, kw); Glorot & Bengio 2010 (xavier); He et al. 2015 (kaiming).
"""
import math

import numpy as np

from ..autograd import no_grad
from ..random import generator


def calculate_gain(nonlinearity, param=None):
    """The gain recommended for a nonlinearity (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, "
                         f"got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor, draw):
    with no_grad():
        values = draw(generator(tensor.device), tensor.shape)
        tensor.data[...] = values.astype(tensor.dtype, copy=False)
    return tensor


_CHUNK = 1 << 18  # values drawn at a time (2 MiB of float64): a buffer that stays in cache


def _fill_scaled(tensor, draw, scale, shift, fallback):
    """``tensor = draw() * scale + shift`` with the float64 draws of ``fallback`` (the same
    values: NumPy's ``normal(m, s)`` is ``m + s * standard_normal()`` and ``uniform(a, b)`` is
    ``a + (b - a) * random()``), drawn in chunks into one small buffer and cast into the
    tensor's memory: no tensor-sized float64 temporary and no fresh pages to fault in, which
    made VGG-16's 138 M weights take 18 s (``VGG16()``). CuPy arrays and strided tensors take
    ``fallback`` whole."""
    data = tensor.data
    if not isinstance(data, np.ndarray) or not data.flags.c_contiguous:
        return _fill(tensor, fallback)
    flat = data.reshape(-1)
    g = generator(tensor.device)
    buffer = np.empty(min(_CHUNK, flat.size), np.float64)
    with no_grad():
        for start in range(0, flat.size, _CHUNK):  # chunks of 2^18 values, not elements
            part = buffer[:min(_CHUNK, flat.size - start)]
            draw(g, part)
            part *= scale
            part += shift
            flat[start:start + part.size] = part
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    return _fill_scaled(tensor, lambda g, out: g.random(out=out), b - a, a,
                        lambda g, s: g.uniform(a, b, s))


def normal_(tensor, mean=0.0, std=1.0):
    return _fill_scaled(tensor, lambda g, out: g.standard_normal(out=out), std, mean,
                        lambda g, s: g.normal(mean, std, s))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Normal(mean, std) redrawn until inside [a, b] (absolute bounds, as PyTorch)."""
    def draw(g, shape):
        values = g.normal(mean, std, shape)
        outside = (values < a) | (values > b)
        while outside.any():
            values[outside] = g.normal(mean, std, int(outside.sum()))
            outside = (values < a) | (values > b)
        return values
    return _fill(tensor, draw)


def constant_(tensor, val):
    with no_grad():
        tensor.data[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
