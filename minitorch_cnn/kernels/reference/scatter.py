"""Scatter-add: the backward of gathering by integer indices (``x[idx]``)."""
import numpy as np


def scatter_add(out, index, src):
    """``out[index[i]] += src[i]`` for every i, repeated indices summing; 1-D arrays, in place."""
    np.add.at(out, index, src)
