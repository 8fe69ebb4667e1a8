"""Differentiable collectives for model parallelism (a layer's kernels split over ranks):
each forward exchange has the matching reduction in backward (Megatron-LM's f/g pairs).

- ``AllGatherFn``: every rank's maps concatenated along ``dim`` (rank order); backward sums
  the gradients that each rank's consumers sent to this rank's part (a reduce-scatter).
- ``AllReduceSumFn``: the sum of every rank's partial result (a layer split along its
  inputs); its downstream is computed identically on every rank, so backward is the identity.
- ``HaloFn`` (two ranks): the neighbour's ``width`` boundary channels added on the side that
  faces it (rank 0 gets rank 1's first channels after its own, rank 1 gets rank 0's last ones
  before its own), for a layer whose window crosses the split (local response normalization);
  backward returns the gradient of those channels to their owner.
"""
from .. import backend
from .. import distributed as dist
from ..autograd import Function


def _gather(a):
    xp = backend.xp(a)
    a = xp.ascontiguousarray(a)
    parts = [xp.empty_like(a) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, a)
    return parts


class AllGatherFn(Function):
    @staticmethod
    def forward(ctx, x, dim=1):
        ctx.dim, ctx.size, ctx.rank = dim, x.shape[dim], dist.get_rank()
        return backend.xp(x).concatenate(_gather(x), axis=dim)

    @staticmethod
    def backward(ctx, gy):
        xp = backend.xp(gy)
        parts = [xp.ascontiguousarray(p) for p in xp.split(gy, dist.get_world_size(),
                                                           axis=ctx.dim)]
        out = xp.empty_like(parts[0])
        dist.reduce_scatter(out, parts)
        return out


class AllReduceSumFn(Function):
    @staticmethod
    def forward(ctx, x):
        y = backend.xp(x).array(x, copy=True)
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy


class HaloFn(Function):
    @staticmethod
    def forward(ctx, x, width=2):
        if dist.get_world_size() != 2:
            raise ValueError(f"HaloFn: exchanges between two ranks, the world has "
                             f"{dist.get_world_size()}")
        xp = backend.xp(x)
        ctx.rank, ctx.width = dist.get_rank(), width
        edges = _gather(xp.stack([x[:, :width], x[:, -width:]]))
        if ctx.rank == 0:
            return xp.concatenate([x, edges[1][0]], axis=1)
        return xp.concatenate([edges[0][1], x], axis=1)

    @staticmethod
    def backward(ctx, gy):
        xp, w = backend.xp(gy), ctx.width
        if ctx.rank == 0:
            gx, g_halo = xp.array(gy[:, :-w]), gy[:, -w:]
        else:
            gx, g_halo = xp.array(gy[:, w:]), gy[:, :w]
        theirs = _gather(g_halo)[1 - ctx.rank]
        if ctx.rank == 0:
            gx[:, -w:] += theirs
        else:
            gx[:, :w] += theirs
        return gx
