"""Scatter-add on the CPU: one serial pass (a parallel one would race on repeated indices)."""
from numba import njit


@njit(cache=True)
def scatter_add(out, index, src):
    """``out[index[i]] += src[i]`` for every i, repeated indices summing; 1-D arrays, in place."""
    for i in range(index.size):
        out[index[i]] += src[i]
