"""Scatter-add: the backward of gathering by integer indices (``x[idx]``). NumPy or CuPy."""
import numpy as np

from ..array_module import array_module


def scatter_add(out, index, src):
    """``out[index[i]] += src[i]`` for every i, repeated indices summing; 1-D arrays, in place."""
    if array_module(out) is np:
        np.add.at(out, index, src)
    else:
        import cupyx
        cupyx.scatter_add(out, index, src)
