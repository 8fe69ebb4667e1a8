"""ReLU, ReLU6 and leaky ReLU, plain NumPy: the oracle of the kernels. Arrays of any shape; the
backward takes the forward's output (relu, relu6) or input (leaky_relu) and the output gradient.
NumPy or CuPy arrays alike."""
from ..array_module import array_module


def relu_fwd(x):
    """max(x, 0), NaN propagated."""
    xp = array_module(x)
    return xp.where(x < 0, xp.zeros((), x.dtype), x)


def relu_bwd(gy, y):
    """gy where y > 0, else 0."""
    xp = array_module(gy)
    return xp.where(y > 0, gy, xp.zeros((), gy.dtype))


def relu6_fwd(x):
    """min(max(x, 0), 6), NaN propagated."""
    return array_module(x).clip(x, 0, 6)


def relu6_bwd(gy, y):
    """gy where 0 < y < 6, else 0 (PyTorch's hardtanh: no gradient at 0 and 6)."""
    return array_module(gy).where((y > 0) & (y < 6), gy, gy.dtype.type(0))


def leaky_relu_fwd(x, negative_slope):
    """x where x > 0, else negative_slope * x."""
    return array_module(x).where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_bwd(gy, x, negative_slope):
    """gy where x > 0, else negative_slope * gy."""
    return array_module(gy).where(x > 0, gy, gy * gy.dtype.type(negative_slope))
