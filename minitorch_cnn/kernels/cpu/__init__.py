"""CPU kernels: Numba ``@njit(cache=True)``, parallel where that measured faster.

``start_threads`` (called by the registry before the first CPU kernel is loaded) starts Numba's
thread pool so that its threads sleep rather than spin while they wait.
"""
import os

_WAIT_POLICY = "OMP_WAIT_POLICY"
_started = False


def start_threads():
    """Start Numba's worker threads, letting them sleep, not spin, between parallel kernels.

    GNU OpenMP, Numba's usual threading layer, keeps a finished region's threads spinning for
    a while by default. The convolutions run their GEMMs in worker threads of their own
    (``ops/conv_chunks.py``) between the main thread's parallel kernels, and on a 2-core
    machine the spinning threads took a core from them. Training steps with passive waiting,
    measured with AVX-512 GEMM: ResNet-18 (batch 16) 889 -> 726 ms, GoogLeNet (8) 637 -> 534,
    DenseNet-121 (8) 1437 -> 990. OpenMP reads ``OMP_WAIT_POLICY`` once, when it is loaded,
    which is here: the variable is set to PASSIVE for that moment only, so an OpenMP runtime
    loaded later (torch's) keeps its default, and never when the user has set it. Without
    effect if Numba's threads were started before, or its layer is not OpenMP.
    """
    global _started
    if _started:
        return
    _started = True
    import numba
    if _WAIT_POLICY in os.environ:
        numba.get_num_threads()  # (starts the threads)
        return
    os.environ[_WAIT_POLICY] = "PASSIVE"
    try:
        numba.get_num_threads()
    finally:
        del os.environ[_WAIT_POLICY]
