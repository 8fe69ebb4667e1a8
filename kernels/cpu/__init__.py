"""CPU kernels: Numba ``@njit(cache=True)``, parallel where that measured faster."""
