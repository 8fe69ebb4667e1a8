"""Weight initialisation, in place under no_grad, drawing from the device's seeded generator.

Names and formulas are PyTorch's (``torch.nn.init``): fan_in = in_channels * kh * kw for a
conv weight (O, C, kh, kw); Glorot & Bengio 2010 (xavier); He et al. 2015 (kaiming).
"""
import contextlib
import math

import numpy as np

from .. import config, threads
from ..autograd import no_grad
from ..random import generator


_skip_defaults = False


@contextlib.contextmanager
def no_default_init():
    """Conv and Linear layers built inside skip their default initialisation: their parameters
    hold uninitialised memory (as after PyTorch's ``nn.utils.skip_init``), for a model that
    initialises every one of them right after. VGG's fc layers (123 M of its 138 M weights)
    were drawn twice, uniform then normal, and filling them first with anything touches 0.5 GB
    on one thread that the initialisation then touches again on all of them."""
    global _skip_defaults
    previous, _skip_defaults = _skip_defaults, True
    try:
        yield
    finally:
        _skip_defaults = previous


def skips_default():
    """Whether layers built now skip their default initialisation (``no_default_init``)."""
    return _skip_defaults


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


_BLOCK = 1 << 18  # values per independent draw: 1 MiB of float32, a block that stays in cache


def _fill_scaled(tensor, draw, scale, shift, fallback):
    """``tensor = draw() * scale + shift``, drawn in the tensor's own precision (float32 or
    float64) straight into its memory, block by block (scaled while the block is in cache).

    A tensor of more than ``_BLOCK`` values is drawn in blocks of ``_BLOCK`` from child
    generators spawned from the device's generator (``Generator.spawn``: independent streams),
    spread over the worker threads (``mt.set_num_threads``; NumPy draws without the GIL). The
    values depend on the seed only, not on the thread count. Drawing float64 and casting, one
    block at a time on one thread, took VGG-16's 138 M weights 2.2-3.3 s (``VGG16()``); a
    whole-tensor float64 temporary, 18 s. CuPy arrays, strided tensors and other dtypes take
    ``fallback`` whole."""
    data = tensor.data
    if (not isinstance(data, np.ndarray) or not data.flags.c_contiguous
            or data.dtype not in (np.float32, np.float64)):
        return _fill(tensor, fallback)
    flat = data.reshape(-1)
    g = generator(tensor.device)

    def fill(block_generator, lo, hi):
        part = flat[lo:hi]
        draw(block_generator, part)
        part *= part.dtype.type(scale)
        part += part.dtype.type(shift)

    with no_grad():
        if flat.size <= _BLOCK:
            fill(g, 0, flat.size)
            return tensor
        starts = range(0, flat.size, _BLOCK)
        generators = g.spawn(len(starts))

        def fill_blocks(first, last):
            for b in range(first, last):
                fill(generators[b], starts[b], min(starts[b] + _BLOCK, flat.size))
        n = len(starts)
        parts = min(config.get_num_threads(), n)
        bounds = [n * i // parts for i in range(parts + 1)]
        threads.run_numpy(fill_blocks, list(zip(bounds[:-1], bounds[1:])), tensor.device)
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    return _fill_scaled(tensor, lambda g, out: g.random(out=out, dtype=out.dtype), b - a, a,
                        lambda g, s: g.uniform(a, b, s))


def normal_(tensor, mean=0.0, std=1.0):
    return _fill_scaled(tensor, lambda g, out: g.standard_normal(out=out, dtype=out.dtype), std,
                        mean,
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
