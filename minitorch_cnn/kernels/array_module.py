"""The kernels' one helper of their own: which array module an array belongs to.

Kernels take their array module from their inputs, as ops do: NumPy for NumPy arrays (on the
CPU and under Numba's CUDA simulator), CuPy for CuPy arrays (a real GPU). CuPy is never
imported here: a CuPy array exists only if CuPy was imported already.
"""
import sys

import numpy as np


def array_module(a):
    """``numpy`` or ``cupy``: the module that made ``a``."""
    if type(a).__module__.startswith("cupy"):
        return sys.modules["cupy"]
    return np


def cuda_simulated():
    """Whether Numba runs ``cuda.jit`` kernels on its simulator (``NUMBA_ENABLE_CUDASIM=1``,
    which Numba reads once, when it is first imported)."""
    from numba.core import config
    return bool(config.ENABLE_CUDASIM)
