"""ReLU, ReLU6 and leaky ReLU on the CPU: one flat pass each, no temporaries.

NumPy needs two or three passes for these (a comparison into a boolean mask, a mixed-dtype
multiply; ``np.maximum`` alone is 3x slower than a plain select loop), so on a (16,64,56,56)
float32 array the kernels take 0.3 ms (forward) and 0.65 ms (backward) against NumPy's 1.0 and
1.3. Serial loops: these are memory-bound, and threads gained nothing on the shared 2-core
machines where they were measured. Arrays must be C-contiguous; outputs are new arrays.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _relu_fwd(x, y):
    for i in range(x.size):
        v = x[i]
        y[i] = 0 if v < 0 else v  # NaN passes through, as np.maximum


@njit(cache=True)
def _relu_bwd(gy, y, gx):
    for i in range(gy.size):
        gx[i] = gy[i] if y[i] > 0 else 0


@njit(cache=True)
def _relu6_fwd(x, y):
    for i in range(x.size):
        v = x[i]
        y[i] = 0 if v < 0 else (6 if v > 6 else v)  # NaN passes through, as np.clip


@njit(cache=True)
def _relu6_bwd(gy, y, gx):
    for i in range(gy.size):
        v = y[i]
        gx[i] = gy[i] if 0 < v < 6 else 0


@njit(cache=True)
def _leaky_relu_fwd(x, y, slope):
    for i in range(x.size):
        v = x[i]
        y[i] = v if v > 0 else v * slope


@njit(cache=True)
def _leaky_relu_bwd(gy, x, gx, slope):
    for i in range(gy.size):
        g = gy[i]
        gx[i] = g if x[i] > 0 else g * slope


def _new_output(kernel, inputs, *scalars):
    """A new C-contiguous array shaped as ``inputs[0]``, filled by ``kernel(*inputs, output,
    *scalars)`` over the flat (C-contiguous) arrays."""
    out = np.empty(inputs[0].shape, inputs[0].dtype)
    kernel(*(a.reshape(-1) for a in inputs), out.reshape(-1), *scalars)
    return out


def relu_fwd(x):
    """max(x, 0), NaN propagated."""
    return _new_output(_relu_fwd, (x,))


def relu_bwd(gy, y):
    """gy where y > 0, else 0."""
    return _new_output(_relu_bwd, (gy, y))


def relu6_fwd(x):
    """min(max(x, 0), 6), NaN propagated. NumPy's clip and the mask of the backward took 17% of
    a MobileNetV2 training step."""
    return _new_output(_relu6_fwd, (x,))


def relu6_bwd(gy, y):
    """gy where 0 < y < 6, else 0 (PyTorch's hardtanh: no gradient at 0 and 6)."""
    return _new_output(_relu6_bwd, (gy, y))


def leaky_relu_fwd(x, negative_slope):
    """x where x > 0, else negative_slope * x."""
    return _new_output(_leaky_relu_fwd, (x,), x.dtype.type(negative_slope))


def leaky_relu_bwd(gy, x, negative_slope):
    """gy where x > 0, else negative_slope * gy."""
    return _new_output(_leaky_relu_bwd, (gy, x), gy.dtype.type(negative_slope))
