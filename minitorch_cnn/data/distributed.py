"""``DistributedSampler``: each rank's share of a dataset, PyTorch's partitioning exactly.

The epoch's order (a permutation seeded by ``seed + epoch``, the same on every rank, or
``0..n-1``) is padded by repeating its head up to a multiple of the number of replicas (or cut
to one, with ``drop_last``), and rank r takes every ``num_replicas``-th index from position r.
So the ranks' shares are disjoint (up to the padding), equal in size, and together one epoch.
The permutation comes from NumPy's generator, not torch's: with ``shuffle=False`` the indices
equal ``torch.utils.data.DistributedSampler``'s; with shuffling the layout does.
"""
import math

import numpy as np


class DistributedSampler:
    """Indices of ``dataset`` for one rank of ``num_replicas`` (default: the process group's
    world size and rank). Call ``set_epoch(e)`` before each epoch for a new shuffle."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas and rank, or call "
                                   "dist.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got "
                             f"{num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        n = len(dataset)
        if drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """The epoch of the next iteration: every rank must set the same one."""
        self.epoch = int(epoch)

    def __len__(self):
        return self.num_samples

    def __iter__(self):
        n = len(self.dataset)
        indices = (np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle
                   else np.arange(n))
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                indices = np.concatenate([indices, np.resize(indices, pad)])
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())
