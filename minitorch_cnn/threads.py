"""CPU threads: the worker pool that runs the convolutions' batch chunks, and the thread counts
of BLAS and Numba.

On the CPU, chunks are handed to ``config.get_num_threads()`` worker threads, each running
single-threaded BLAS and Numba kernels on its own chunks; then no thread ever waits for another
inside a GEMM. Measured on a shared 2-core machine under load: multi-threaded OpenBLAS + Numba
per GEMM took 7-11 s for ResNet's 3x3 layer (threads spinning for a descheduled sibling),
chunk-level threads 0.2-0.3 s; on an idle machine both scale.

This needs OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+), found in the library NumPy
loaded, and a thread-safe Numba threading layer (OpenMP or TBB). Without them (another BLAS,
an older OpenBLAS, Numba's 'workqueue' layer), or on a GPU, the chunks run in order in the
calling thread: the same results, one thread's speed. Work that calls only NumPy (the
initialisation's random draws) runs on a plain pool of its own (``run_numpy``), which starts
neither.
"""
import concurrent.futures
import ctypes
import os
import sys
import threading

from . import config, kernels


def _openblas_functions(names, maps_path="/proc/self/maps"):
    """The named OpenBLAS functions (ctypes, ``int f(int)``) from the library this process
    loaded, or None if it has no OpenBLAS with all of them (Linux; NumPy's own copy first)."""
    try:
        with open(maps_path) as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths, key=lambda p: ("numpy" not in p, p)):
        try:
            library = ctypes.CDLL(path)
            functions = [getattr(library, name) for name in names]
        except (OSError, AttributeError):
            continue
        for fn in functions:
            fn.argtypes, fn.restype = [ctypes.c_int], None
        return functions
    return None


def blas_set_local_threads():
    """OpenBLAS's per-thread thread-count setter, or None where there is none."""
    found = _openblas_functions(["openblas_set_num_threads_local"])
    return found and found[0]


def _numba_threadsafe():
    """Whether Numba's parallel kernels may run in several threads at once: not with its
    'workqueue' layer (the fallback where neither OpenMP nor TBB is present)."""
    import numba
    kernels.start_cpu_threads()  # picks the layer
    return numba.threading_layer() != "workqueue"


# numba is imported only here, when a pool starts: importing minitorch_cnn must not import it
def _worker_init(blas_local):
    import numba
    blas_local(1)
    numba.set_num_threads(1)  # thread-local in Numba


_pool = None  # None: not made yet; False: chunks run in the calling thread
_pool_lock = threading.Lock()


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            threads = config.get_num_threads()
            blas_local = blas_set_local_threads() if threads > 1 and _numba_threadsafe() \
                else None
            _pool = False if blas_local is None else concurrent.futures.ThreadPoolExecutor(
                threads, "minitorch_cnn-conv", _worker_init, (blas_local,))
    return _pool


def _cap_numba_and_blas(n):
    """Numba's and BLAS's own thread counts (for the work outside the pool) set to ``n``."""
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    found = _openblas_functions(["openblas_set_num_threads"])
    if found:
        found[0](n)


def run(fn, ranges, device):
    """``[fn(lo, hi) for lo, hi in ranges]``, spread over the worker threads on the CPU."""
    return _map(_executor() if device.type == "cpu" and len(ranges) > 1 else None, fn, ranges)


def _map(pool, fn, ranges):
    if not pool:
        return [fn(lo, hi) for lo, hi in ranges]
    return list(pool.map(lambda r: fn(*r), ranges))


_numpy_pool = None


def run_numpy(fn, ranges, device):
    """``run`` for work that calls only NumPy, which releases the GIL (drawing random numbers):
    a plain pool of as many threads, which loads neither Numba nor BLAS's thread setters.
    Starting the convolutions' pool (importing Numba, starting its threads) took 0.6 s of the
    1.5 s that ``VGG16()`` spent initialising its weights."""
    global _numpy_pool
    threads = config.get_num_threads()
    if device.type != "cpu" or len(ranges) < 2 or threads < 2:
        return _map(None, fn, ranges)
    with _pool_lock:
        if _numpy_pool is None:
            _numpy_pool = concurrent.futures.ThreadPoolExecutor(threads, "minitorch_cnn-numpy")
        pool = _numpy_pool
    return _map(pool, fn, ranges)


def _apply_thread_count():
    """After ``set_num_threads``: Numba and BLAS follow now, the pool at its next use."""
    global _pool, _numpy_pool
    with _pool_lock:
        for pool in (_pool, _numpy_pool):
            if pool:
                pool.shutdown(wait=True)
        _pool = _numpy_pool = None
    _cap_numba_and_blas(config.get_num_threads())


def _forget_pool():
    """In a forked child the pool's threads are gone: start a new pool when one is needed."""
    global _pool, _numpy_pool, _pool_lock
    _pool, _numpy_pool, _pool_lock = None, None, threading.Lock()


config.on_change("num_threads", _apply_thread_count)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
