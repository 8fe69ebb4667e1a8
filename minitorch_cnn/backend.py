"""Devices and array modules: where data lives and which library computes on it.

A tensor lives on ``Device("cpu")`` (NumPy arrays) or ``Device("cuda", i)`` (CuPy arrays). With
``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported, the ``cuda`` device is *simulated*: it
holds NumPy arrays and runs the ``@cuda.jit`` kernels of ``kernels/cuda/`` through Numba's CUDA
simulator, so every CUDA kernel can be tested on a machine without a GPU.

CuPy is imported lazily, only when a real GPU is asked for; nothing here imports it at load time.
"""
import numpy as np

from . import config

CUPY_INSTALL = 'pip install "minitorch_cnn[cuda]"  (CuPy for CUDA 12)'


def cuda_simulated():
    """True when Numba's CUDA simulator stands in for a GPU (``NUMBA_ENABLE_CUDASIM=1``, read
    once at start-up: ``config.CUDA_SIMULATED``)."""
    return config.CUDA_SIMULATED


def _import_cupy():
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def cuda_device_count():
    """Number of usable CUDA devices: 1 under the simulator, CuPy's count on a GPU, else 0."""
    if cuda_simulated():
        return 1
    cupy = _import_cupy()
    if cupy is None:
        return 0
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CuPy installed without a driver or a GPU
        return 0


class Device:
    """A place for arrays: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda", 1)`` or
    ``Device("cuda:1")``."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, Device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"Device: expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        if ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise ValueError(f"Device: bad device string {type}:{idx!r}")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"Device: unknown device type {type!r}; expected 'cpu' or 'cuda'")
        self.type = type
        self.index = (index or 0) if type == "cuda" else None

    @property
    def xp(self):
        """The array module of this device: numpy, or cupy on a real GPU."""
        if self.type == "cpu" or cuda_simulated():
            return np
        return require_cupy()

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}', index={self.index})" if self.type == "cuda" \
            else "device(type='cpu')"

    def __str__(self):
        return self.type if self.type == "cpu" else f"cuda:{self.index}"


CPU = Device("cpu")


def as_device(device):
    """``None`` -> cpu; a string or a Device -> a checked Device that is available here."""
    if device is None:
        return CPU
    device = device if isinstance(device, Device) else Device(device)
    if device.type == "cuda":
        count = cuda_device_count()
        if count == 0:
            raise RuntimeError(
                f"{device} was asked for, but no CUDA device is available: install CuPy with "
                f"{CUPY_INSTALL} on a machine with an NVIDIA GPU, or set NUMBA_ENABLE_CUDASIM=1 "
                "before importing minitorch_cnn to run the CUDA kernels on Numba's simulator")
        if device.index >= count:
            raise RuntimeError(f"{device} was asked for, but only {count} CUDA device(s) exist")
    return device


def require_cupy():
    cupy = _import_cupy()
    if cupy is None:
        raise RuntimeError(f"CuPy is not installed: the cuda device needs {CUPY_INSTALL}")
    return cupy


def xp(array):
    """The array module (numpy or cupy) of ``array``; ops take theirs from their inputs."""
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return np
    module = type(array).__module__
    if module.startswith("cupy"):
        return require_cupy()
    return np


def to_device_array(array, device):
    """Copy or move a raw array to ``device`` (a Device); returns it unchanged if already there."""
    if device.type == "cpu" or cuda_simulated():
        if xp(array) is not np:
            return array.get()
        return array
    cupy = require_cupy()
    with cupy.cuda.Device(device.index):
        return cupy.asarray(array)


def to_numpy(array):
    """A host NumPy array with the data of ``array`` (a copy from a GPU)."""
    return array.get() if xp(array) is not np else np.asarray(array)


def synchronize(device):
    """Wait for the device's queued work (a no-op on the CPU and the simulator); for timing."""
    if device.type == "cuda" and not cuda_simulated():
        require_cupy().cuda.Device(device.index).synchronize()
