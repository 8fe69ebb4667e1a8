"""``mt.cuda``: is a CUDA device (a GPU with CuPy, or Numba's simulator) available here?"""
from .backend import cuda_device_count, cuda_simulated


def is_available():
    """True with CuPy and a GPU, or with ``NUMBA_ENABLE_CUDASIM=1`` (the simulated device)."""
    return cuda_device_count() > 0


def device_count():
    return cuda_device_count()


def is_simulated():
    return cuda_simulated()
