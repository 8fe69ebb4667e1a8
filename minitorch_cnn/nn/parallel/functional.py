"""Differentiable collectives over the process group, for splitting a model's layers across
ranks (see ``ops/collective.py``): ``all_gather``, ``all_reduce_sum``, ``exchange_halo``."""
from ...ops.collective import AllGatherFn, AllReduceSumFn, HaloFn


def all_gather(x, dim=1):
    """Every rank's ``x`` concatenated along ``dim`` in rank order (same shape on every rank);
    backward: the sum over ranks of the gradient of this rank's part."""
    return AllGatherFn.apply(x, dim=dim)


def all_reduce_sum(x):
    """The sum of every rank's ``x``; the result's consumers must be the same on every rank
    (backward passes the gradient through unchanged)."""
    return AllReduceSumFn.apply(x)


def exchange_halo(x, width):
    """Two ranks: ``x`` (N, C, ...) with the other rank's ``width`` facing channels added on
    that side (after its own on rank 0, before on rank 1)."""
    return HaloFn.apply(x, width=width)
