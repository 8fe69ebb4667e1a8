"""What ``train --distributed`` adds to the training command (``mpiexec -n N python -m
minitorch_cnn train --distributed``): the process group, the model in DistributedDataParallel,
each rank's share of the training set (DistributedSampler), metrics averaged over the ranks,
and the optional linear learning-rate scaling with gradual warm-up of Goyal et al. (2017,
"Accurate, Large Minibatch SGD"): with k ranks the learning rate is k times ``--lr``, reached
linearly from ``--lr`` over ``--warmup-epochs`` (the paper: 5 epochs, k*256 images a batch).

Each rank's batch is ``--batch-size``, so the global batch is that times the world size. Only
rank 0 prints and writes checkpoints; a checkpoint holds the unwrapped model (no ``module.``
prefix), so ``--resume`` works with any world size.
"""
import os
import sys

import numpy as np

from . import data
from . import distributed as dist
from .nn.parallel import DistributedDataParallel


def start(args):
    """Join the process group when ``--distributed``; returns (rank, world size)."""
    if not getattr(args, "distributed", False):
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if rank != 0:  # only rank 0 talks (errors still reach stderr)
        sys.stdout = open(os.devnull, "w")
    return rank, world


def scale_lr(args, opt, world):
    """``--scale-lr``: every group's learning rate times the world size (before schedulers)."""
    if getattr(args, "scale_lr", False):
        for group in opt.param_groups:
            group["lr"] *= world


class _ShardLoader(data.DataLoader):
    """A DataLoader over a DistributedSampler whose ``set_epoch`` also reshuffles the shards."""

    def set_epoch(self, epoch):
        super().set_epoch(epoch)
        self.sampler.set_epoch(epoch)


class WarmUp:
    """The optimizer with the learning rate ramped linearly from 1/k of the scheduled one to all
    of it over the first ``steps`` steps (Goyal et al.'s gradual warm-up); delegates the rest."""

    def __init__(self, opt, steps, k, done=0):
        self.opt, self.steps, self.k, self.done = opt, steps, k, done

    def step(self):
        if self.done >= self.steps:
            return self.opt.step()
        factor = (1 + (self.k - 1) * self.done / self.steps) / self.k
        scheduled = [g["lr"] for g in self.opt.param_groups]
        for g, lr in zip(self.opt.param_groups, scheduled):
            g["lr"] = lr * factor
        try:
            return self.opt.step()
        finally:
            for g, lr in zip(self.opt.param_groups, scheduled):
                g["lr"] = lr
            self.done += 1

    def __getattr__(self, name):
        return getattr(self.opt, name)


def wrap(args, model, train_set, opt, start_epoch, workers):
    """(DDP model, the rank's training loader, the optimizer with warm-up when asked)."""
    model = DistributedDataParallel(model)
    sampler = data.DistributedSampler(train_set, shuffle=True, seed=args.seed)
    loader = _ShardLoader(train_set, args.batch_size, sampler=sampler, seed=args.seed,
                          num_workers=workers)
    warmup = getattr(args, "warmup_epochs", 0)
    if getattr(args, "scale_lr", False) and warmup > 0:
        steps = int(round(warmup * len(loader)))
        opt = WarmUp(opt, steps, dist.get_world_size(), done=start_epoch * len(loader))
    return model, loader, opt


def unwrap(model):
    return model.module if isinstance(model, DistributedDataParallel) else model


def average(*values):
    """The mean over the ranks of each number (each rank's share is the same size)."""
    if not dist.is_initialized():
        return values
    a = np.array(values, dtype=np.float64)
    dist.all_reduce(a, op="mean")
    return tuple(float(v) for v in a)


def add_arguments(p):
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI: mpiexec -n N python -m minitorch_cnn train "
                        "--distributed (per-rank batch = --batch-size)")
    p.add_argument("--scale-lr", action="store_true",
                   help="with --distributed: learning rate x world size (Goyal et al. 2017)")
    p.add_argument("--warmup-epochs", type=float, default=0.0,
                   help="with --scale-lr: ramp the learning rate up linearly over this many "
                        "epochs (the paper: 5)")
