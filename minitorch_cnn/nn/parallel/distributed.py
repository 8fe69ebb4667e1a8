"""``DistributedDataParallel``: the same model on every rank, gradients averaged by allreduce.

At wrap time the ranks compare their parameters' names, shapes and dtypes (a mismatch is a
``ValueError`` naming the parameter, on every rank) and take rank 0's parameters and buffers.
Gradients are averaged in buckets of about ``bucket_cap_mb`` MiB, parameters in reverse
registration order (roughly the order backward produces their gradients). Each parameter's
post-accumulate-grad hook copies its gradient into its bucket's flat buffer; a full bucket
starts a non-blocking ``MPI_Iallreduce`` while backward goes on with the layers below, later
hooks poll the started ones (MPI progresses inside MPI calls), and the hook of the last
parameter waits for all of them and writes the averages back into ``.grad``. So when
``loss.backward()`` returns, every rank holds the same averaged gradients, as with PyTorch.
Buckets start in the same order on every rank (MPI's collectives must match). ``no_sync()``
skips the exchange, for gradient accumulation; the first backward after it averages the sum.
"""
import contextlib
import time

import numpy as np

from ... import backend
from ... import distributed as dist
from ...autograd import no_grad
from ..module import Module


class _Bucket:
    """Parameters whose gradients travel in one allreduce, and their flat host buffer."""

    def __init__(self, index, params):
        self.index, self.params = index, params
        dtype = params[0].data.dtype
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p.data.size
        self.flat = np.zeros(n, dtype)
        self.ready, self.work = 0, None

    def fill(self, i, p):
        start = self.offsets[i]
        self.flat[start:start + p.data.size] = backend.to_numpy(p.grad.data).ravel()

    def write_back(self, world):
        self.flat /= world
        for p, start in zip(self.params, self.offsets):
            part = self.flat[start:start + p.data.size].reshape(p.data.shape)
            p.grad.data[...] = part if backend.xp(p.grad.data) is np else (
                backend.xp(p.grad.data).asarray(part))


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training on every rank of the process group.

    Args:
        module: the model (the same architecture on every rank).
        broadcast_buffers: copy rank 0's buffers (batch-norm statistics) to all ranks at the
            start of every forward in training, as PyTorch's default.
        bucket_cap_mb: the size of a gradient bucket in MiB (PyTorch's default 25).
    Move and cast the model (``.to``, ``.double()``) before wrapping it: the gradient buckets
    take the parameters' dtypes at wrap time.
    ``comm_stats`` holds, for the last synchronised backward, the bytes reduced, the seconds
    the last hook spent waiting (communication not hidden behind backward) and the buckets.
    """

    def __init__(self, module, device_ids=None, output_device=None, broadcast_buffers=True,
                 bucket_cap_mb=25, find_unused_parameters=False):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: call "
                               "minitorch_cnn.distributed.init_process_group() first")
        if find_unused_parameters:
            raise ValueError("DistributedDataParallel: find_unused_parameters=True is not "
                             "supported; every parameter must get a gradient each step")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        _check_same_parameters(module)
        with no_grad():
            for _, p in module.named_parameters():
                dist.broadcast(p, 0)
            for _, b in module.named_buffers():
                dist.broadcast(b, 0)
        object.__setattr__(self, "_names", {id(p): n for n, p in named})
        object.__setattr__(self, "_buckets", _make_buckets([p for _, p in named],
                                                           bucket_cap_mb * 2**20))
        object.__setattr__(self, "_slot", {})
        for bucket in self._buckets:
            for i, p in enumerate(bucket.params):
                self._slot[id(p)] = (bucket, i)
        object.__setattr__(self, "_handles", [p.register_post_accumulate_grad_hook(
            self._grad_ready) for _, p in named])
        object.__setattr__(self, "_require_sync", True)
        object.__setattr__(self, "_next", 0)  # the next bucket to start
        object.__setattr__(self, "_wait_s", 0.0)
        object.__setattr__(self, "comm_stats", {})

    # --- forward ------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        self._check_finished()
        if self.training and self.broadcast_buffers:
            _broadcast_coalesced([b for _, b in self.module.named_buffers()])
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside accumulate gradients locally, without communicating."""
        prev = self._require_sync
        object.__setattr__(self, "_require_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_require_sync", prev)

    # --- the gradient hooks -------------------------------------------------------------------
    def _grad_ready(self, p):
        if not self._require_sync:
            return
        bucket, i = self._slot[id(p)]
        bucket.fill(i, p)
        bucket.ready += 1
        while self._next < len(self._buckets) and (
                self._buckets[self._next].ready == len(self._buckets[self._next].params)):
            b = self._buckets[self._next]
            b.work = dist.all_reduce(b.flat, async_op=True)
            object.__setattr__(self, "_next", self._next + 1)
        started = self._buckets[:self._next]
        for b in started:  # let MPI progress the exchanges already started
            b.work.is_completed()
        if self._next == len(self._buckets):
            self._finish()

    def _finish(self):
        began = time.perf_counter()
        for b in self._buckets:
            b.work.wait()
        waited = time.perf_counter() - began
        world = dist.get_world_size()
        for b in self._buckets:
            b.write_back(world)
            b.ready, b.work = 0, None
        object.__setattr__(self, "_next", 0)
        self.comm_stats.update(
            bytes=int(sum(b.flat.nbytes for b in self._buckets)), buckets=len(self._buckets),
            exposed_wait_s=waited)

    def _check_finished(self):
        if any(b.ready for b in self._buckets):
            missing = [self._names[id(p)] for b in self._buckets for p in b.params
                       if p.grad is None]
            raise RuntimeError(
                "DistributedDataParallel: the previous backward did not produce gradients for "
                f"every parameter, so their reduction did not finish (no gradient: "
                f"{missing or 'a parameter outside the loss'}); every parameter must take part "
                "in the loss")


def _broadcast_coalesced(tensors):
    """Rank 0's values of ``tensors`` on every rank: one broadcast per dtype, not per tensor
    (a ResNet-18 has 60 batch-norm buffers)."""
    by_dtype = {}
    for t in tensors:
        if t is not None:
            by_dtype.setdefault(t.data.dtype, []).append(t)
    for dtype, group in by_dtype.items():
        flat = np.concatenate([backend.to_numpy(t.data).ravel() for t in group])
        dist.broadcast(flat, 0)
        start = 0
        for t in group:
            part = flat[start:start + t.data.size].reshape(t.data.shape)
            t.data[...] = part if backend.xp(t.data) is np else backend.xp(t.data).asarray(part)
            start += t.data.size


def _check_same_parameters(module):
    """Every rank must hold the same parameters (names, shapes, dtypes) in the same order."""
    mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
    everyone = []
    dist.all_gather_object(everyone, mine)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone[1:], start=1):
        if len(theirs) != len(reference):
            raise ValueError(f"DistributedDataParallel: rank {rank} has {len(theirs)} "
                             f"parameters, rank 0 has {len(reference)}")
        for (n0, s0, d0), (n, s, d) in zip(reference, theirs):
            if (n0, s0, d0) != (n, s, d):
                raise ValueError(f"DistributedDataParallel: parameter {n0!r} has shape {s0} "
                                 f"({d0}) on rank 0 but {n!r} has shape {s} ({d}) on rank "
                                 f"{rank}")


def _make_buckets(params, cap_bytes):
    """Consecutive parameters (in reverse order) of one dtype, up to ``cap_bytes`` a bucket."""
    buckets, group, size = [], [], 0
    for p in reversed(params):
        if group and (size + p.data.nbytes > cap_bytes or p.data.dtype != group[0].data.dtype):
            buckets.append(_Bucket(len(buckets), group))
            group, size = [], 0
        group.append(p)
        size += p.data.nbytes
    if group:
        buckets.append(_Bucket(len(buckets), group))
    return buckets
