"""Batch chunks for im2col convolution: the bounded workspace and the CPU threads that share
the chunks.

Workspace. ``col`` takes at most ``WORKSPACE_MIB`` MiB over all threads (256 by default; set
the environment variable ``MINITORCH_CNN_WORKSPACE_MIB`` or call ``set_workspace_mib``), unless
a single sample needs more, so VGG-sized layers with large batches run in bounded extra memory.
Buffers are kept between calls (per thread, device and dtype; ``set_workspace_mib`` releases
them): a fresh buffer would cost a page fault per 4 KiB at every call.

Threads. On the CPU, chunks are handed to ``THREADS`` worker threads (``MINITORCH_CNN_THREADS``,
default the CPU count), each running single-threaded BLAS and Numba kernels on its own chunks;
then no thread ever waits for another inside a GEMM. Measured on a shared 2-core machine under
load: multi-threaded OpenBLAS + Numba per GEMM took 7-11 s for ResNet's 3x3 layer (threads
spinning for a descheduled sibling), chunk-level threads 0.2-0.3 s; on an idle machine both
scale.
Needs OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+) and a thread-safe Numba threading
layer (OpenMP or TBB); without them, or on a GPU, the chunks run in order in the calling thread.
"""
import concurrent.futures
import ctypes
import os
import threading

from .. import kernels

WORKSPACE_MIB = float(os.environ.get("MINITORCH_CNN_WORKSPACE_MIB", 256))
THREADS = int(os.environ.get("MINITORCH_CNN_THREADS", 0)) or os.cpu_count() or 1

_local = threading.local()
_generation = 0  # bumped by set_workspace_mib: every thread drops its buffers at its next call


def set_workspace_mib(mib):
    """Cap the im2col workspace of conv2d / conv_transpose2d at ``mib`` MiB and release the
    buffers held so far."""
    global WORKSPACE_MIB, _generation
    if not mib > 0:
        raise ValueError(f"set_workspace_mib: expected a positive size in MiB, got {mib!r}")
    WORKSPACE_MIB = float(mib)
    _generation += 1
    _local.__dict__.clear()


def workspace(xp, device, dtype, size):
    """A flat array of ``size`` elements, kept for the next call of this thread."""
    buffers = _local.__dict__
    if buffers.get("generation") != _generation:
        buffers.clear()
        buffers["generation"] = _generation
    key = (device, xp.dtype(dtype).str)
    buf = buffers.get(key)
    if buf is None or buf.size < size:
        del buf  # free the smaller buffer before allocating the larger one
        buffers.pop(key, None)
        buf = buffers[key] = xp.empty(size, dtype)
    return buf[:size]


def chunks(n, per_sample_bytes, mib=None, parts=1):
    """Batch ranges whose col takes at most ``mib`` MiB (default and cap WORKSPACE_MIB), at
    least one sample each, and at least ``parts`` ranges where n allows."""
    mib = WORKSPACE_MIB if mib is None else min(mib, WORKSPACE_MIB)
    step = max(1, min(-(-n // parts), int(mib * 2**20 // max(per_sample_bytes, 1))))
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def _find_blas_local():
    """OpenBLAS's thread-local thread count setter, from the library NumPy loaded (Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths, key=lambda p: ("numpy" not in p, p)):  # NumPy's own copy first
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
        return fn
    return None


_pool = None
_pool_lock = threading.Lock()


def _forget_pool():
    """In a forked child the pool's threads are gone: start a new pool when one is needed."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


# numba is imported only here, when a pool starts: importing minitorch_cnn must not import it
# (NUMBA_ENABLE_CUDASIM is read when numba is first imported)
def _worker_init(blas_local):
    import numba
    blas_local(1)
    numba.set_num_threads(1)  # thread-local in Numba


def _numba_threadsafe():
    """Whether Numba's parallel kernels may run in several threads at once: not with its
    'workqueue' layer (the fallback where neither OpenMP nor TBB is present)."""
    import numba
    kernels.start_cpu_threads()  # picks the layer
    return numba.threading_layer() != "workqueue"


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            blas_local = _find_blas_local() if THREADS > 1 and _numba_threadsafe() else None
            _pool = False if blas_local is None else concurrent.futures.ThreadPoolExecutor(
                THREADS, "minitorch_cnn-conv", _worker_init, (blas_local,))
    return _pool


def run(fn, ranges, device):
    """``[fn(lo, hi) for lo, hi in ranges]``, spread over the worker threads on the CPU."""
    pool = _executor() if device.type == "cpu" and len(ranges) > 1 else None
    if not pool:
        return [fn(lo, hi) for lo, hi in ranges]
    return list(pool.map(lambda r: fn(*r), ranges))
