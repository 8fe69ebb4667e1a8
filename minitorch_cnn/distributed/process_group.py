"""The process group over MPI (mpi4py) and its collectives, with PyTorch's names.

``init_process_group(backend="mpi")`` joins the processes that ``mpiexec -n N`` started (MPI is
the transport, as ChainerMN's; nothing here talks to sockets). Collectives work in place on the
array of a ``Tensor`` (or on a NumPy / CuPy array): NumPy buffers go to MPI as they are; CuPy
ones go straight to a CUDA-aware MPI when the library says it is one, and are staged through the
host otherwise. Every rank must call the same collectives in the same order (MPI's rule).

A process that raises an uncaught exception while the group is up calls ``MPI_Abort``, so the
other ranks exit with that error instead of waiting forever in their next collective.
"""
import sys
import traceback

import numpy as np

from .. import backend
from ..tensor import Tensor

_INSTALL = 'pip install -e ".[distributed]"'
_state = {"comm": None, "excepthook": None}


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"minitorch_cnn.distributed needs mpi4py and an MPI library "
                          f"({e}); install them with {_INSTALL}") from None
    return MPI


def is_available():
    """Whether mpi4py (and so an MPI library) can be imported."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


def is_initialized():
    return _state["comm"] is not None


def _comm():
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError("Default process group has not been initialized, please make sure "
                           "to call init_process_group.")
    return comm


def _abort_on_exception(exc_type, exc, tb):
    """sys.excepthook while the group is up: print the error, then abort every rank."""
    comm = _state["comm"]
    rank = comm.Get_rank() if comm is not None else "?"
    sys.stderr.write(f"[rank {rank}] uncaught exception; aborting all ranks (MPI_Abort)\n")
    sys.stderr.write("".join(traceback.format_exception(exc_type, exc, tb)))
    sys.stderr.flush()
    _mpi().COMM_WORLD.Abort(1)


def init_process_group(backend="mpi", init_method=None, world_size=-1, rank=-1):
    """Join the MPI job this process was started in (``mpiexec -n N python ...``).

    ``backend`` must be ``"mpi"``; ``world_size`` and ``rank``, when given, are checked against
    what MPI says (mpiexec assigns them). A single process started without mpiexec is a group
    of one. Installs the abort-on-uncaught-exception hook (see the module docstring).
    """
    if backend != "mpi":
        raise ValueError(f"init_process_group: only backend='mpi' is supported, got {backend!r}")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: MPI starts the processes (mpiexec); "
                         f"init_method must be None, got {init_method!r}")
    if _state["comm"] is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, world.Get_size()),
                                ("rank", rank, world.Get_rank())):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group: {name}={given} but mpiexec started this "
                             f"process with {name} {actual}")
    _state["comm"] = world.Dup()
    _state["excepthook"], sys.excepthook = sys.excepthook, _abort_on_exception


def destroy_process_group():
    """Leave the group (the MPI library itself stays up until the process exits)."""
    comm = _comm()
    _state["comm"] = None
    sys.excepthook, _state["excepthook"] = _state["excepthook"] or sys.__excepthook__, None
    comm.Free()


def get_rank():
    return _comm().Get_rank()


def get_world_size():
    return _comm().Get_size()


class ReduceOp:
    """The reductions of ``all_reduce`` (strings work too: "sum", "mean", "max" ...)."""
    SUM, AVG, MEAN, MAX, MIN, PRODUCT = "sum", "mean", "mean", "max", "min", "prod"


def _mpi_op(op):
    MPI = _mpi()
    ops = {"sum": MPI.SUM, "mean": MPI.SUM, "avg": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN,
           "prod": MPI.PROD}
    key = str(op).lower()
    if key not in ops:
        raise ValueError(f"all_reduce: op must be one of {sorted(ops)}, got {op!r}")
    return ops[key], key in ("mean", "avg")


def cuda_aware():
    """Whether the MPI library takes GPU buffers directly (MPIX_Query_cuda_support)."""
    query = getattr(_mpi(), "Query_cuda_support", None)
    try:
        return bool(query()) if query is not None else False
    except Exception:  # an MPI without the extension
        return False


class _Buffer:
    """A contiguous host (or, with a CUDA-aware MPI, device) array that MPI can use in place of
    ``array``, and ``finish()`` to write the result back where needed."""

    def __init__(self, array):
        self.array = array
        staged = backend.xp(array) is not np and not cuda_aware()
        if staged:
            self.mpi = np.ascontiguousarray(backend.to_numpy(array))
        elif getattr(array.flags, "c_contiguous", False) and getattr(
                array.flags, "writeable", True):
            self.mpi = array
        else:
            self.mpi = backend.xp(array).ascontiguousarray(array).copy()
        self.copy_back = self.mpi is not array

    def finish(self):
        if self.copy_back:
            self.array[...] = (self.mpi if backend.xp(self.array) is np
                               else backend.xp(self.array).asarray(self.mpi))


def _array(tensor, name):
    data = tensor.data if isinstance(tensor, Tensor) else tensor
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        raise TypeError(f"{name}: expected a Tensor or an array, got {type(tensor).__name__}")
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{name}: cannot reduce an array of dtype {data.dtype}")
    return data


class Work:
    """What an ``async_op=True`` collective returns: ``wait()`` finishes it (and writes the
    result back into the tensor), ``is_completed()`` polls it (which also advances MPI)."""

    def __init__(self, request, finish):
        self._request, self._finish, self._done = request, finish, False

    def is_completed(self):
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self):
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def _complete(self):
        self._done = True
        self._finish()


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks, in place: every rank ends with the same result.
    ``op="mean"`` divides the sum by the world size. With ``async_op=True`` it returns a
    ``Work`` at once (MPI_Iallreduce) and the result is there after ``wait()``."""
    comm = _comm()
    data = _array(tensor, "all_reduce")
    mpi_op, mean = _mpi_op(op)
    if mean and data.dtype.kind != "f":
        raise TypeError(f"all_reduce: op='mean' needs a floating-point tensor, got "
                        f"{data.dtype}")
    buf = _Buffer(data)
    MPI = _mpi()

    def finish():
        if mean:
            buf.mpi /= comm.Get_size()
        buf.finish()
    if async_op:
        return Work(comm.Iallreduce(MPI.IN_PLACE, buf.mpi, op=mpi_op), finish)
    comm.Allreduce(MPI.IN_PLACE, buf.mpi, op=mpi_op)
    finish()
    return None


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor`` (same shape and dtype)."""
    comm = _comm()
    data = _array(tensor, "broadcast")
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"broadcast: src must be a rank in [0, {comm.Get_size()}), got {src}")
    buf = _Buffer(data)
    if async_op:
        return Work(comm.Ibcast(buf.mpi, root=src), buf.finish)
    comm.Bcast(buf.mpi, root=src)
    buf.finish()
    return None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list`` (one tensor per rank, each of ``tensor``'s shape) with every rank's
    ``tensor``, in rank order."""
    comm = _comm()
    data = _array(tensor, "all_gather")
    size = comm.Get_size()
    if len(tensor_list) != size:
        raise ValueError(f"all_gather: tensor_list must hold world_size={size} tensors, got "
                         f"{len(tensor_list)}")
    outs = [_array(t, "all_gather") for t in tensor_list]
    for o in outs:
        if o.shape != data.shape or o.dtype != data.dtype:
            raise ValueError(f"all_gather: every output must have the input's shape "
                             f"{data.shape} and dtype {data.dtype}, got {o.shape} {o.dtype}")
    send = _Buffer(data)
    recv = backend.xp(send.mpi).empty((size,) + data.shape, data.dtype)

    def finish():
        for o, part in zip(outs, recv):
            o[...] = part if backend.xp(o) is backend.xp(part) else backend.xp(o).asarray(part)
    if async_op:
        return Work(comm.Iallgather(send.mpi, recv), finish)
    comm.Allgather(send.mpi, recv)
    finish()
    return None


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list`` (one tensor per rank, each of ``output``'s shape) over the ranks
    and leave rank r's reduced ``input_list[r]`` in ``output`` (MPI_Reduce_scatter_block): half
    the traffic of an all_reduce followed by taking one's own part."""
    comm = _comm()
    size = comm.Get_size()
    out = _array(output, "reduce_scatter")
    if len(input_list) != size:
        raise ValueError(f"reduce_scatter: input_list must hold world_size={size} tensors, "
                         f"got {len(input_list)}")
    ins = [_array(t, "reduce_scatter") for t in input_list]
    if any(i.shape != out.shape or i.dtype != out.dtype for i in ins):
        raise ValueError(f"reduce_scatter: every input must have the output's shape "
                         f"{out.shape} and dtype {out.dtype}")
    mpi_op, mean = _mpi_op(op)
    xp = backend.xp(out)
    send = _Buffer(xp.stack(ins))
    recv = _Buffer(out)

    def finish():
        if mean:
            recv.mpi /= size
        recv.finish()
    if async_op:
        return Work(comm.Ireduce_scatter_block(send.mpi, recv.mpi, op=mpi_op), finish)
    comm.Reduce_scatter_block(send.mpi, recv.mpi, op=mpi_op)
    finish()
    return None


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list`` with every rank's picklable ``obj``, in rank order."""
    gathered = _comm().allgather(obj)
    object_list[:] = gathered


def barrier(group=None):
    """Wait until every rank has reached this call."""
    _comm().Barrier()
