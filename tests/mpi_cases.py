"""Cases run under ``mpiexec -n 2 python -m tests.mpi_cases [CASE ...]`` by
tests/test_distributed.py. Each case runs on every rank; rank 0 prints one line per case,
``CASE <name> ok`` or ``CASE <name> FAIL <reason>`` (a case fails if it fails on any rank).
The single-process references are computed inside each rank (one process, the global batch)."""
import os
import sys
import traceback

import numpy as np

import minitorch_cnn as mt
import minitorch_cnn.distributed as dist
from minitorch_cnn import nn, optim
from minitorch_cnn.data import DataLoader, DistributedSampler, TensorDataset
from minitorch_cnn.nn import functional as F
from minitorch_cnn.nn.parallel import DistributedDataParallel as DDP

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def close(a, b, rtol, atol, what):
    a, b = np.asarray(a), np.asarray(b)
    if not np.allclose(a, b, rtol=rtol, atol=atol):
        raise AssertionError(f"{what}: max abs difference {np.abs(a - b).max():.3g}")


@case
def primitives():
    rank, world = dist.get_rank(), dist.get_world_size()
    assert world == 2, world
    t = mt.tensor([1.0, 2.0]) * (rank + 1)
    dist.all_reduce(t)
    close(t.numpy(), [3.0, 6.0], 0, 0, "sum")
    t = mt.tensor([1.0, 2.0]) * (rank + 1)
    dist.all_reduce(t, op="mean")
    close(t.numpy(), [1.5, 3.0], 0, 0, "mean")
    t = mt.tensor([float(rank), -float(rank)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    close(t.numpy(), [1.0, 0.0], 0, 0, "max")
    a = np.full(3, rank, np.int64)
    work = dist.all_reduce(a, async_op=True)
    work.wait()
    close(a, [1, 1, 1], 0, 0, "async sum")
    b = mt.tensor(np.arange(4.0).reshape(2, 2) + 10 * rank)
    dist.broadcast(b, src=1)
    close(b.numpy(), np.arange(4.0).reshape(2, 2) + 10, 0, 0, "broadcast")
    parts = [mt.zeros(2), mt.zeros(2)]
    dist.all_gather(parts, mt.tensor([rank, rank + 0.5]))
    close(np.stack([p.numpy() for p in parts]), [[0, 0.5], [1, 1.5]], 0, 0, "all_gather")
    view = np.zeros((2, 4))[:, ::2]  # a non-contiguous array is reduced and written back
    view[...] = rank + 1
    dist.all_reduce(view)
    close(view, np.full((2, 2), 3.0), 0, 0, "strided")
    dist.barrier()


@case
def sampler_default_group():
    s = DistributedSampler(range(7), shuffle=False)
    assert (s.num_replicas, s.rank, len(s)) == (2, dist.get_rank(), 4)
    got = []
    dist.all_gather_object(got, list(s))
    assert got == [[0, 2, 4, 6], [1, 3, 5, 0]], got


def small_net(dtype):
    mt.manual_seed(dist.get_rank())  # different initial weights: DDP must broadcast rank 0's
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 3))
    return net.to(np.dtype(dtype))


def toy_data(dtype, n=16):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, 2, 6, 6)).astype(dtype)
    y = rng.integers(0, 3, n)
    return x, y


def ddp_vs_global_batch(make_opt, steps=3, dtype="float32", rtol=2e-5, atol=1e-6):
    """K steps of 2-rank DDP over DistributedSampler == K steps of one process on the union."""
    x, y = toy_data(dtype)
    dataset = TensorDataset(mt.tensor(x), mt.tensor(y))
    model = DDP(small_net(dtype), bucket_cap_mb=100 / 2**20)  # 100-byte buckets: several
    assert len(model._buckets) > 1
    reference = small_net(dtype)
    reference.load_state_dict(model.module.state_dict())
    opt, ref_opt = make_opt(model.parameters()), make_opt(reference.parameters())
    sampler = DistributedSampler(dataset, shuffle=True, seed=3)
    shares = [DistributedSampler(dataset, 2, r, shuffle=True, seed=3) for r in range(2)]
    loader = DataLoader(dataset, batch_size=4, sampler=sampler)
    done = 0
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for s in shares:
            s.set_epoch(epoch)
        orders = [list(s) for s in shares]
        for step, (xb, yb) in enumerate(loader):
            if done == steps:
                break
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
            idx = [i for o in orders for i in o[4 * step:4 * step + 4]]
            ref_opt.zero_grad()
            F.cross_entropy(reference(mt.tensor(x[idx])), mt.tensor(y[idx])).backward()
            ref_opt.step()
            done += 1
    assert done == steps
    for (name, p), q in zip(model.module.named_parameters(), reference.parameters()):
        close(p.numpy(), q.numpy(), rtol, atol, f"{name} vs one process")
        both = []
        dist.all_gather_object(both, p.numpy())
        close(both[0], both[1], 0, 0, f"{name} rank 0 vs rank 1")
    stats = model.comm_stats
    assert stats["bytes"] == sum(p.numel() for p in model.parameters()) * np.dtype(dtype).itemsize


@case
def ddp_sgd_momentum():
    ddp_vs_global_batch(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))


@case
def ddp_adam():
    ddp_vs_global_batch(lambda ps: optim.Adam(ps, lr=0.01))


@case
def ddp_float64_exact():
    ddp_vs_global_batch(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), dtype="float64",
                        rtol=1e-12, atol=1e-13)


@case
def ddp_no_sync():
    """Two micro-batches under no_sync + one synced backward == their global sum."""
    x, y = toy_data("float64", 12)
    rank = dist.get_rank()
    model = DDP(small_net("float64"))
    reference = small_net("float64")
    reference.load_state_dict(model.module.state_dict())
    mine = [slice(6 * rank + 2 * k, 6 * rank + 2 * k + 2) for k in range(3)]
    with model.no_sync():
        for sl in mine[:2]:
            F.cross_entropy(model(mt.tensor(x[sl])), mt.tensor(y[sl])).backward()
    local = [p.grad.numpy().copy() for p in model.parameters()]
    F.cross_entropy(model(mt.tensor(x[mine[2]])), mt.tensor(y[mine[2]])).backward()
    for r in range(2):
        for k in range(3):
            sl = slice(6 * r + 2 * k, 6 * r + 2 * k + 2)
            F.cross_entropy(reference(mt.tensor(x[sl])), mt.tensor(y[sl])).backward()
    for p, q, g in zip(model.parameters(), reference.parameters(), local):
        close(p.grad.numpy(), q.grad.numpy() / 2, 1e-12, 1e-13, "accumulated average")
        assert not np.allclose(g, p.grad.numpy())  # no_sync really did not reduce


@case
def ddp_broadcasts_buffers_each_training_forward():
    model = DDP(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    bn = model.module[1]
    bn.running_mean.data[...] = dist.get_rank() + 1.0  # ranks drift apart ...
    bn.num_batches_tracked.data[...] = 10 * dist.get_rank()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    model(mt.tensor(x))  # ... and the same forward on each starts from rank 0's buffers
    both = []
    dist.all_gather_object(both, (bn.running_mean.numpy(), bn.num_batches_tracked.item()))
    close(both[0][0], both[1][0], 0, 0, "running_mean")
    assert both[0][1] == both[1][1] == 1, both


@case
def ddp_shape_mismatch():
    width = 2 + dist.get_rank()
    try:
        DDP(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, width)))
    except ValueError as e:
        assert "'1.weight'" in str(e) and "(2, 4)" in str(e) and "(3, 4)" in str(e), str(e)
    else:
        raise AssertionError("no ValueError for different shapes")


@case
def sync_batchnorm_equals_global_batch():
    """DDP + SyncBatchNorm on 2 ranks of 4 == BatchNorm2d on one process of 8 (float64)."""
    x, y = toy_data("float64", 8)
    rank = dist.get_rank()

    def net():
        mt.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                             nn.Linear(3 * 4 * 4, 3)).to(np.dtype("float64"))
    model = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(net()))
    assert type(model.module[1]).__name__ == "SyncBatchNorm"
    reference = net()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    mine = slice(4 * rank, 4 * rank + 4)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(mt.tensor(x[mine])), mt.tensor(y[mine])).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(reference(mt.tensor(x)), mt.tensor(y)).backward()
        ref_opt.step()
    ours, theirs = model.module.state_dict(), reference.state_dict()
    for key in theirs:
        close(ours[key].numpy(), theirs[key].numpy(), 1e-10, 1e-12, key)
    model.eval()
    reference.eval()
    close(model(mt.tensor(x)).numpy(), reference(mt.tensor(x)).numpy(), 1e-10, 1e-12, "eval")


def two_tower_vs_alexnet():
    """AlexNetTwoTower.from_alexnet(AlexNet) gives AlexNet's logits and gradients (float64):
    one tower per rank under mpiexec -n 2, both towers in this process otherwise."""
    from minitorch_cnn.models import AlexNet, AlexNetTwoTower
    from minitorch_cnn.models._common import fc_head
    mt.manual_seed(0)
    alexnet = AlexNet(num_classes=10)
    alexnet.classifier = fc_head(256 * 6 * 6, 10, hidden=32)  # narrow fc6/fc7: a quick test
    for m in alexnet.modules():  # weights that make every layer matter at 1e-10
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.05)
            nn.init.normal_(m.bias, 0.0, 0.1)
    alexnet = alexnet.to(np.dtype("float64")).eval()
    towers = AlexNetTwoTower.from_alexnet(alexnet).to(np.dtype("float64")).eval()
    x = mt.tensor(np.random.default_rng(1).standard_normal((1, 3, 227, 227)))  # same on all ranks
    y = mt.tensor([3])
    logits, reference = towers(x), alexnet(x)
    close(logits.numpy(), reference.numpy(), 1e-10, 0, "logits")
    F.cross_entropy(logits, y).backward()
    F.cross_entropy(reference, y).backward()
    layers = {"conv1": alexnet.features[0], "conv2": alexnet.features[4],
              "conv3": alexnet.features[8], "conv4": alexnet.features[10],
              "conv5": alexnet.features[12], "fc6": alexnet.classifier[0],
              "fc7": alexnet.classifier[3], "fc8": alexnet.classifier[6]}
    for t in towers.tower_ids:
        for name, full in layers.items():
            part = getattr(towers.towers[str(t)], name)
            for kind in ("weight", "bias"):
                got, ref = getattr(part, kind), getattr(full, kind).grad.numpy()
                if got is None:  # fc8's bias is tower 0's
                    continue
                n = got.shape[1] if name == "fc8" and kind == "weight" else got.shape[0]
                ref = ref[:, n * t:n * (t + 1)] if name == "fc8" and kind == "weight" else (
                    ref if name == "fc8" else ref[n * t:n * (t + 1)])
                scale = np.abs(ref).max()
                close(got.grad.numpy() / scale, ref / scale, 0, 1e-10, f"tower {t} {name} {kind}")
    return towers


@case
def two_tower_one_per_rank():
    towers = two_tower_vs_alexnet()
    assert towers.tower_ids == (dist.get_rank(),)


def fault_raise():
    """Rank 1 raises; rank 0 waits in an allreduce and must be aborted, not hang."""
    if dist.get_rank() == 1:
        raise RuntimeError("rank 1 failed on purpose")
    dist.all_reduce(np.ones(3))
    print("rank 0 was not aborted", flush=True)


def fault_kill():
    """Rank 1 is killed (SIGKILL: no exception hook runs); mpiexec must end rank 0."""
    if dist.get_rank() == 1:
        os.kill(os.getpid(), 9)
    dist.all_reduce(np.ones(3))
    print("rank 0 was not aborted", flush=True)


def main(names):
    dist.init_process_group("mpi")
    if names in (["fault_raise"], ["fault_kill"]):
        {"fault_raise": fault_raise, "fault_kill": fault_kill}[names[0]]()
        return
    for name in names or list(CASES):
        try:
            CASES[name]()
            result = None
        except Exception as e:  # reported, so that the other cases still run
            result = f"{type(e).__name__}: {e}"
            if os.environ.get("MPI_CASES_TRACEBACK"):
                traceback.print_exc()
        results = []
        dist.all_gather_object(results, result)
        bad = [f"rank {r}: {m}" for r, m in enumerate(results) if m]
        if dist.get_rank() == 0:
            print(f"CASE {name} " + ("FAIL " + "; ".join(bad) if bad else "ok"), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
