"""ReLU, ReLU6 and leaky ReLU on the GPU: one thread per element over the flat, C-contiguous
arrays."""
from numba import cuda

from ..array_module import array_module

THREADS = 256


@cuda.jit
def _relu_fwd(x, y):
    i = cuda.grid(1)
    if i < x.size:
        v = x[i]
        y[i] = 0 if v < 0 else v


@cuda.jit
def _relu_bwd(gy, y, gx):
    i = cuda.grid(1)
    if i < gy.size:
        gx[i] = gy[i] if y[i] > 0 else 0


@cuda.jit
def _relu6_fwd(x, y):
    i = cuda.grid(1)
    if i < x.size:
        v = x[i]
        y[i] = 0 if v < 0 else (6 if v > 6 else v)


@cuda.jit
def _relu6_bwd(gy, y, gx):
    i = cuda.grid(1)
    if i < gy.size:
        v = y[i]
        gx[i] = gy[i] if 0 < v < 6 else 0


@cuda.jit
def _leaky_relu_fwd(x, y, slope):
    i = cuda.grid(1)
    if i < x.size:
        v = x[i]
        y[i] = v if v > 0 else v * slope


@cuda.jit
def _leaky_relu_bwd(gy, x, gx, slope):
    i = cuda.grid(1)
    if i < gy.size:
        g = gy[i]
        gx[i] = g if x[i] > 0 else g * slope


def _launch(kernel, *arrays_then_args):
    """Run ``kernel`` over the flat first array (a new output of its shape is the second)."""
    first = arrays_then_args[0]
    if first.size:
        threads = min(THREADS, first.size)  # few for tiny inputs on the simulator
        kernel[(first.size + threads - 1) // threads, threads](*arrays_then_args)


def relu_fwd(x):
    """max(x, 0), NaN propagated."""
    y = array_module(x).empty_like(x)
    _launch(_relu_fwd, x.reshape(-1), y.reshape(-1))
    return y


def relu_bwd(gy, y):
    """gy where y > 0, else 0."""
    gx = array_module(gy).empty_like(gy)
    _launch(_relu_bwd, gy.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx


def relu6_fwd(x):
    """min(max(x, 0), 6), NaN propagated."""
    y = array_module(x).empty_like(x)
    _launch(_relu6_fwd, x.reshape(-1), y.reshape(-1))
    return y


def relu6_bwd(gy, y):
    """gy where 0 < y < 6, else 0."""
    gx = array_module(gy).empty_like(gy)
    _launch(_relu6_bwd, gy.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx


def leaky_relu_fwd(x, negative_slope):
    """x where x > 0, else negative_slope * x."""
    y = array_module(x).empty_like(x)
    _launch(_leaky_relu_fwd, x.reshape(-1), y.reshape(-1), x.dtype.type(negative_slope))
    return y


def leaky_relu_bwd(gy, x, negative_slope):
    """gy where x > 0, else negative_slope * gy."""
    gx = array_module(gy).empty_like(gy)
    _launch(_leaky_relu_bwd, gy.reshape(-1), x.reshape(-1), gx.reshape(-1),
            gy.dtype.type(negative_slope))
    return gx
