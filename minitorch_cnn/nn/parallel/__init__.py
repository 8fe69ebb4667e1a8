"""Data parallelism across processes: ``DistributedDataParallel`` (over ``mt.distributed``)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
