"""Data-parallel training throughput and overlap, and the scale-out model of docs/distributed.md.

    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m benchmarks.distributed --model resnet18
    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 mpiexec -n 2 python -m benchmarks.distributed \\
        --model resnet18
    python -m benchmarks.distributed --scale-out

A run of P processes trains ``--model`` with SGD for ``--steps`` timed steps (after
``--warmup``) on random data of the model's input size, each process with a batch of
``--batch``, and rank 0 prints the global images/s (P x batch / median step time). Under
mpiexec it also times, in the same run, the backward pass (both ranks start it at a barrier,
so that waiting for a slower rank is not counted as communication), the wait for the gradient
allreduce that backward did not hide (DistributedDataParallel's ``comm_stats``) and a blocking
allreduce of the same buckets after backward; overlap = 1 - exposed wait / blocking time.
"""
import argparse
import statistics
import time

import numpy as np

import minitorch_cnn as mt
import minitorch_cnn.distributed as dist
from minitorch_cnn import optim
from minitorch_cnn.models import AlexNetTwoTower, registry
from minitorch_cnn.nn import functional as F
from minitorch_cnn.nn.parallel import DistributedDataParallel

SIZES = {"resnet18": (3, 32, 32), "lenet5-relu": (1, 28, 28)}


def throughput(args):
    distributed = dist.is_available() and _under_mpiexec()
    if distributed:
        dist.init_process_group("mpi")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    mt.manual_seed(0)
    shape = SIZES.get(args.model, registry.input_size(args.model))
    model = registry.create_for_data(args.model, 10, shape[0])
    ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_mb) if distributed else model
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    x = mt.tensor(rng.standard_normal((args.batch,) + shape).astype(np.float32))
    y = mt.tensor(rng.integers(0, 10, args.batch))
    steps, backward, exposed, blocking = [], [], [], []
    for i in range(args.warmup + args.steps):
        began = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(ddp(x), y)
        if distributed:  # both ranks start backward together: the wait below is not skew
            dist.barrier()
        back = time.perf_counter()
        loss.backward()
        done = time.perf_counter()
        opt.step()
        if distributed:
            dist.barrier()
        end = time.perf_counter()
        if i < args.warmup:
            continue
        steps.append(end - began)
        backward.append(done - back)
        if distributed:
            exposed.append(ddp.comm_stats["exposed_wait_s"])
            dist.barrier()
            t = time.perf_counter()
            for bucket in ddp._buckets:  # the same exchange, blocking, after backward
                dist.all_reduce(bucket.flat.copy())
            blocking.append(time.perf_counter() - t)
    if rank != 0:
        return
    step = statistics.median(steps)
    line = (f"{args.model} batch {args.batch} x {world} process(es): "
            f"{world * args.batch / step:.1f} images/s (median step {step * 1e3:.0f} ms, "
            f"backward {statistics.median(backward) * 1e3:.0f} ms)")
    if distributed:
        wait, full = statistics.median(exposed), statistics.median(blocking)
        stats = ddp.comm_stats
        line += (f"; {stats['bytes'] / 2**20:.1f} MiB of gradients in {stats['buckets']} "
                 f"buckets; blocking allreduce {full * 1e3:.0f} ms, exposed wait "
                 f"{wait * 1e3:.0f} ms, overlap {max(0.0, 1 - wait / full):.0%}")
    print(line, flush=True)


def _under_mpiexec():
    import os
    return any(k in os.environ for k in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE",
                                         "HYDRA_CONTROL_FD"))


# --- the scale-out model ------------------------------------------------------------------------
# Compute per step: 32 images a node, at the 125 images/s per GPU that Goyal et al. (2017)
# sustained for ResNet-50 (256 P100s, 1.28M images x 90 epochs in about an hour); AlexNet at the
# same FLOP rate (0.72 vs 4.1 GFLOP forward per image).
PER_NODE_BATCH, RESNET50_IMAGES_S = 32, 125.0
MODELS = {"ResNet-50": (25_557_032, 4.1), "AlexNet": (60_965_224, 0.72)}


def ring_allreduce_s(nbytes, nodes, gbit_s):
    """2 (N - 1) / N x bytes / bandwidth: each node sends and receives that much in a ring."""
    return 2 * (nodes - 1) / nodes * nbytes / (gbit_s * 1e9 / 8)


def scale_out():
    rows = ["| model | nodes | link | compute / step | allreduce / step | efficiency, no "
            "overlap | efficiency, full overlap |", "|---|---|---|---|---|---|---|"]
    for name, (params, gflop) in MODELS.items():
        compute = PER_NODE_BATCH / RESNET50_IMAGES_S * gflop / MODELS["ResNet-50"][1]
        for gbit in (10, 100):
            for nodes in (8, 64, 256):
                comm = ring_allreduce_s(4 * params, nodes, gbit)
                rows.append(f"| {name} | {nodes} | {gbit} Gbit/s | {compute * 1e3:.0f} ms | "
                            f"{comm * 1e3:.0f} ms | {compute / (compute + comm):.0%} | "
                            f"{min(1.0, compute / comm):.0%} |")
    # a tower pair trains on 2 x 32 images a step: each tower then computes as much as a
    # data-parallel node does for its 32, and the pair covers as many images as two such nodes
    two = AlexNetTwoTower(num_classes=1000, hidden=4096, devices=("cpu", "cpu"))
    batch = 2 * PER_NODE_BATCH
    exchange = two.exchange_bytes(batch)
    halo = exchange["two_tower"]["lrn halos"]
    tower_params = sum(p.numel() for p in two.towers["0"].parameters())
    rows.append("")
    rows.append(f"AlexNet as tower pairs, per tower and step of {batch} images (the pair's "
                f"batch): {tower_params:,} parameters ({4 * tower_params / 2**20:.0f} MiB of "
                f"gradients to allreduce among the N/2 towers of its side, instead of "
                f"{4 * MODELS['AlexNet'][0] / 2**20:.0f} MiB among N nodes), "
                f"{exchange['two_tower_total'] / 2**20:.1f} MiB of activations sent to the "
                f"other tower ({(exchange['two_tower_total'] - halo) / 2**20:.1f} MiB without "
                f"the LRN halos, which the paper's towers do not exchange; a naive split whose "
                f"every layer reads both towers: {exchange['naive_total'] / 2**20:.1f} MiB):")
    for name, b in exchange["two_tower"].items():
        rows.append(f"- {name}: {b / 2**20:.2f} MiB")
    rows.append("")
    rows.append("| nodes | link | two towers: allreduce + activations | plain data parallel |")
    rows.append("|---|---|---|---|")
    for gbit in (10, 100):
        for nodes in (8, 64, 256):
            reduce = ring_allreduce_s(4 * tower_params, nodes // 2, gbit)
            acts = exchange["two_tower_total"] / (gbit * 1e9 / 8)
            plain = ring_allreduce_s(4 * MODELS["AlexNet"][0], nodes, gbit)
            rows.append(f"| {nodes} | {gbit} Gbit/s | {reduce * 1e3:.0f} + {acts * 1e3:.0f} ms "
                        f"| {plain * 1e3:.0f} ms |")
    print("\n".join(rows))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__)
    p.add_argument("--model", default="resnet18")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--bucket-mb", type=float, default=25, help="DDP's bucket_cap_mb")
    p.add_argument("--scale-out", action="store_true", help="print the scale-out model")
    args = p.parse_args(argv)
    if args.scale_out:
        scale_out()
    else:
        throughput(args)


if __name__ == "__main__":
    main()
