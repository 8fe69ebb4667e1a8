"""Scatter-add on the GPU: one thread per source element, atomic adds for repeated indices."""
from numba import cuda


@cuda.jit
def _scatter_add(out, index, src):
    i = cuda.grid(1)
    if i < index.size:
        cuda.atomic.add(out, index[i], src[i])


def scatter_add(out, index, src):
    """``out[index[i]] += src[i]`` for every i, repeated indices summing; 1-D arrays, in place."""
    if index.size == 0:
        return
    threads = min(256, index.size)
    _scatter_add[(index.size + threads - 1) // threads, threads](out, index, src)
