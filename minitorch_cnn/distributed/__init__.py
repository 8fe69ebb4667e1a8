"""Distributed training over MPI (``import minitorch_cnn.distributed as dist``).

Start N processes with MPI's launcher, ``mpiexec -n N python train_script.py`` (add
``-hosts a,b`` or ``-f hostfile`` for several machines), call ``dist.init_process_group("mpi")``
in each, and wrap the model in ``mt.nn.parallel.DistributedDataParallel``. Needs the
``distributed`` extra: ``pip install -e ".[distributed]"`` (mpi4py and the ``mpich`` wheel,
which brings ``mpiexec``).
"""
from .process_group import (ReduceOp, Work, all_gather, all_gather_object, all_reduce, barrier,
                            broadcast, cuda_aware, destroy_process_group, get_rank,
                            get_world_size, init_process_group, is_available, is_initialized,
                            reduce_scatter)

__all__ = ["ReduceOp", "Work", "all_gather", "all_gather_object", "all_reduce", "barrier",
           "broadcast", "cuda_aware", "destroy_process_group", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "reduce_scatter"]
