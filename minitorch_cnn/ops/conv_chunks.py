"""Batch chunks for im2col convolution: the bounded workspace they share.

``col`` takes at most ``config.get_workspace_mib()`` MiB over all threads (256 by default;
``mt.set_workspace_mib`` or ``MINITORCH_CNN_WORKSPACE_MIB``), unless a single sample needs more,
so VGG-sized layers with large batches run in bounded extra memory. Buffers are kept between
calls (per thread, device and dtype; changing the cap releases them): a fresh buffer would cost
a page fault per 4 KiB at every call. The chunks run on the CPU worker threads of
``minitorch_cnn/threads.py``.
"""
import threading

from .. import config

_local = threading.local()
_generation = 0  # bumped when the cap changes: every thread drops its buffers at its next call


def _release_buffers():
    global _generation
    _generation += 1
    _local.__dict__.clear()


config.on_change("workspace_mib", _release_buffers)


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
    """Batch ranges whose col takes at most ``mib`` MiB (default and cap: the workspace cap),
    at least one sample each, and at least ``parts`` ranges where n allows."""
    cap = config.get_workspace_mib()
    mib = cap if mib is None else min(mib, cap)
    step = max(1, min(-(-n // parts), int(mib * 2**20 // max(per_sample_bytes, 1))))
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]
