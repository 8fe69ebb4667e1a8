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


def _new_output(kernel, inputs, *scalars):
    """A new C-contiguous array shaped as ``inputs[0]``, filled by ``kernel(*inputs, output,
    *scalars)`` over the flat (C-contiguous) arrays, one thread per element."""
    first = inputs[0]
    out = array_module(first).empty(first.shape, first.dtype)
    if first.size:
        threads = min(THREADS, first.size)  # few for tiny inputs on the simulator
        kernel[(first.size + threads - 1) // threads, threads](
            *(a.reshape(-1) for a in inputs), out.reshape(-1), *scalars)
    return out


def relu_fwd(x):
    """max(x, 0), NaN propagated."""
    return _new_output(_relu_fwd, (x,))


def relu_bwd(gy, y):
    """gy where y > 0, else 0."""
    return _new_output(_relu_bwd, (gy, y))


def relu6_fwd(x):
    """min(max(x, 0), 6), NaN propagated."""
    return _new_output(_relu6_fwd, (x,))


def relu6_bwd(gy, y):
    """gy where 0 < y < 6, else 0."""
    return _new_output(_relu6_bwd, (gy, y))


def leaky_relu_fwd(x, negative_slope):
    """x where x > 0, else negative_slope * x."""
    return _new_output(_leaky_relu_fwd, (x,), x.dtype.type(negative_slope))


def leaky_relu_bwd(gy, x, negative_slope):
    """gy where x > 0, else negative_slope * gy."""
    return _new_output(_leaky_relu_bwd, (gy, x), gy.dtype.type(negative_slope))
