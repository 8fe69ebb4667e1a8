"""Scale-out as Zoph & Le (2017, sec. 3.4) ran it: one controller, many children trained in
parallel. Under ``mpiexec -n K python -m minitorch_cnn nas ...`` rank 0 runs the controller and
hands each of the ranks 1..K-1 one (trial, arch) at a time, the next as soon as it reports; the
workers build the same data from the same seed and train with ``LocalEvaluator.train``, so a
trial's reward is the one a single process would get. mpi4py is used directly (point-to-point
``send``/``recv`` of small Python objects); it is needed only under mpiexec:
``pip install -e ".[distributed]"`` (mpi4py and the mpich wheel).

A waiting rank polls (``Iprobe``, then a 2 ms sleep) instead of blocking in ``recv``: MPICH's
blocking receive spins on a core, and rank 0 waits for the whole of every round, taking that core
from the children it waits for.
"""
import os
import time

INSTALL = 'pip install -e ".[distributed]"'
# set by MPICH's and Open MPI's launchers: only then is MPI imported at all
_LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE")
_TASK, _STOP = 1, 2
_POLL_S = 0.002


def _receive(comm, source):
    """(message, its source, its tag) of the next message from ``source``, waiting idly."""
    from mpi4py import MPI
    status = MPI.Status()
    while not comm.Iprobe(source=source, tag=MPI.ANY_TAG, status=status):
        time.sleep(_POLL_S)
    message = comm.recv(source=status.Get_source(), tag=status.Get_tag())
    return message, status.Get_source(), status.Get_tag()


def world():
    """MPI's world communicator when launched by mpiexec with more than one rank, else None."""
    if not any(v in os.environ for v in _LAUNCHER_VARIABLES):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError(f"nas under mpiexec needs mpi4py: {INSTALL}") from None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


class Dispatcher:
    """The evaluator of rank 0: ``[(trial, arch)] -> [result]``, trained on the other ranks."""

    def __init__(self, comm):
        self.comm = comm
        self.workers = list(range(1, comm.Get_size()))

    def __call__(self, tasks):
        from mpi4py import MPI
        pending, results, idle = list(tasks), {}, list(self.workers)
        while pending or len(idle) < len(self.workers):
            while pending and idle:
                self.comm.send(pending.pop(0), dest=idle.pop(0), tag=_TASK)
            (trial, result), rank, _ = _receive(self.comm, MPI.ANY_SOURCE)
            if isinstance(result, str):
                raise RuntimeError(f"rank {rank} failed on trial {trial}: {result}")
            results[trial] = result
            idle.append(rank)
        return [results[trial] for trial, _ in tasks]

    def close(self):
        """Tell every worker to stop."""
        for rank in self.workers:
            self.comm.send(None, dest=rank, tag=_STOP)


def serve(comm, evaluator):
    """The loop of ranks 1..K-1: train what rank 0 sends until it says stop. A failure is sent
    back as its message, so rank 0 stops with it instead of waiting forever."""
    while True:
        task, _, tag = _receive(comm, 0)
        if tag == _STOP:
            return
        trial, arch = task
        try:
            result = evaluator.train(trial, arch)
        except Exception as e:  # reported to rank 0, which raises it
            result = f"{type(e).__name__}: {e}"
        comm.send((trial, result), dest=0, tag=_TASK)
