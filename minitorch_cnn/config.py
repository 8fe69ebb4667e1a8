"""Run-time settings: read from the environment once, when minitorch_cnn is imported, and
changed afterwards only through the setters here, each of which is also a context manager that
restores the previous value on exit.

=========================  ==============================  =====================================
setting                    environment (read at import)    setter
=========================  ==============================  =====================================
kernel implementation      ``MINITORCH_CNN_KERNELS``       ``mt.kernels.use("reference")``
CPU threads                ``MINITORCH_CNN_THREADS``       ``mt.set_num_threads(n)``
im2col workspace (MiB)     ``MINITORCH_CNN_WORKSPACE_MIB`` ``mt.set_workspace_mib(mib)``
conv algorithm autotune    ``MINITORCH_CNN_BENCHMARK``     ``mt.backends.benchmark = True``
CUDA simulator             ``NUMBA_ENABLE_CUDASIM``        none: Numba reads it once, at its import
=========================  ==============================  =====================================

Nothing else in the package reads these variables. Numba's OpenMP wait policy is not a setting
of ours: ``kernels/cpu`` starts Numba's threads with passive waiting when the first CPU kernel
is loaded, unless ``OMP_WAIT_POLICY`` says otherwise.
"""
import os
import sys

from . import kernels

DEFAULT_WORKSPACE_MIB = 256.0


def _read_environment():
    env = os.environ
    implementation = env.get("MINITORCH_CNN_KERNELS", "default") or "default"
    if implementation not in ("reference", "default", "cpu", "cuda"):
        raise ValueError(f"MINITORCH_CNN_KERNELS: expected 'reference' (or unset), got "
                         f"{implementation!r}")
    if implementation == "reference":
        kernels.use("reference")
    threads = int(env.get("MINITORCH_CNN_THREADS", 0) or 0) or os.cpu_count() or 1
    mib = float(env.get("MINITORCH_CNN_WORKSPACE_MIB", DEFAULT_WORKSPACE_MIB))
    numba = sys.modules.get("numba")
    if numba is not None:  # Numba is loaded already: its reading is the one in force
        simulated = bool(numba.config.ENABLE_CUDASIM)
    else:
        simulated = env.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
    benchmark = env.get("MINITORCH_CNN_BENCHMARK", "0") or "0"
    if benchmark not in ("0", "1"):
        raise ValueError(f"MINITORCH_CNN_BENCHMARK: expected 0 or 1, got {benchmark!r}")
    return threads, mib, simulated, benchmark == "1"


_num_threads, _workspace_mib, CUDA_SIMULATED, _benchmark = _read_environment()
_listeners = {"_num_threads": [], "_workspace_mib": []}


def on_change(setting, callback):
    """Call ``callback()`` after ``setting`` ('num_threads' or 'workspace_mib') changed: the
    thread pool and the workspace drop what they hold."""
    _listeners["_" + setting].append(callback)


class _Setting:
    """A setter that is also a context manager: ``set_x(v)`` sets now; ``with set_x(v):``
    sets for the block and restores the previous value after it."""

    def __init__(self, name, value):
        self.name, self.previous = name, globals()[name]
        self._set(value)

    def _set(self, value):
        globals()[self.name] = value
        for callback in _listeners[self.name]:
            callback()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._set(self.previous)


def get_num_threads():
    """CPU threads the convolutions' worker pool, Numba's kernels and BLAS may use."""
    return _num_threads


def set_num_threads(n):
    """Use ``n`` CPU threads from now on (or within a ``with`` block): the convolutions' worker
    pool, and Numba's and BLAS's own thread counts for the work outside it.
    (``MINITORCH_CNN_THREADS`` sizes the pool only; ``NUMBA_NUM_THREADS`` and
    ``OPENBLAS_NUM_THREADS`` keep their own meaning until this is called.)"""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    return _Setting("_num_threads", n)


def get_workspace_mib():
    """The cap, in MiB over all threads, of the im2col workspace of the convolutions."""
    return _workspace_mib


def set_workspace_mib(mib):
    """Cap the im2col workspace at ``mib`` MiB (and release the buffers held so far)."""
    if isinstance(mib, bool) or not isinstance(mib, (int, float)) or not mib > 0:
        raise ValueError(f"set_workspace_mib: expected a positive size in MiB, got {mib!r}")
    return _Setting("_workspace_mib", float(mib))


class Backends:
    """``mt.backends``: how the convolutions pick their algorithm, as ``torch.backends.cudnn``.

    ``benchmark`` (False unless ``MINITORCH_CNN_BENCHMARK=1``): when True, the first
    convolution of each new (shapes, geometry, dtype, device) times every algorithm that can
    compute it (im2col + GEMM, Winograd F(2x2,3x3) and F(4x4,3x3)) and uses the fastest for the
    rest of the process; when False, a fixed rule picks (``ops/conv_algorithms.py``).
    """

    @property
    def benchmark(self):
        return _benchmark

    @benchmark.setter
    def benchmark(self, on):
        global _benchmark
        if not isinstance(on, bool):
            raise TypeError(f"mt.backends.benchmark: expected True or False, got {on!r}")
        _benchmark = on


backends = Backends()
