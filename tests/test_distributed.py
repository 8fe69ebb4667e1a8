"""minitorch_cnn.distributed, DistributedSampler, DistributedDataParallel and the gradient hooks
they start from. The multi-process cases run once under ``mpiexec -n 2`` (tests/mpi_cases.py)
and are skipped where mpi4py or mpiexec is missing (``pip install -e ".[distributed]"``)."""
import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.data import DataLoader, DistributedSampler, TensorDataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the mpiexec of the mpich wheel (next to this Python) before any other on the PATH
_BESIDE = os.path.join(os.path.dirname(sys.executable), "mpiexec")
MPIEXEC = _BESIDE if os.path.exists(_BESIDE) else shutil.which("mpiexec")
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and MPIEXEC is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason='needs pip install -e ".[distributed]"')


def mpiexec(*args, timeout=240):
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    return subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "tests.mpi_cases",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


# --- gradient hooks (single process) -----------------------------------------------------------
def test_post_accumulate_grad_hook_runs_once_after_all_uses():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * w + 3 * w).sum().backward()  # three uses of w: one call, with the whole gradient
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5.0, 7.0])
    handle.remove()
    w.sum().backward()
    assert len(seen) == 1


def test_post_accumulate_grad_hook_only_on_leaves():
    y = mt.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.register_post_accumulate_grad_hook(lambda t: None)


# --- SyncBatchNorm (single process: plain batch norm) ---------------------------------------------
def test_sync_batch_norm_fn_gradcheck_as_one_rank():
    from minitorch_cnn.ops.sync_batch_norm import SyncBatchNormFn, sync_batch_stats
    mt.manual_seed(0)
    args = (mt.randn(4, 3, 2, 2).double().requires_grad_(),
            mt.randn(3).double().requires_grad_(), mt.randn(3).double().requires_grad_())

    def one_rank(x, w, b):
        mean, var, count = sync_batch_stats(x.data, lambda a: a[None])
        return SyncBatchNormFn.apply(x, w, b, mean, var, count=count, all_reduce=lambda a: a)
    assert mt.gradcheck(one_rank, args)
    np.testing.assert_allclose(one_rank(*args).numpy(),
                               mt.nn.functional.batch_norm(*args[:1], None, None, *args[1:],
                                                           True).numpy(), atol=1e-12)


def test_convert_sync_batchnorm_keeps_order_weights_and_outputs():
    mt.manual_seed(0)
    model = mt.nn.Sequential(mt.nn.Conv2d(1, 2, 3), mt.nn.BatchNorm2d(2), mt.nn.ReLU(),
                             mt.nn.Sequential(mt.nn.Flatten(), mt.nn.BatchNorm1d(8)))
    x = mt.randn(3, 1, 4, 4)
    before = model(x).numpy()
    keys = list(model.state_dict())
    bn = model[1]
    converted = mt.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(converted[1]) is mt.nn.SyncBatchNorm and type(converted[3][1]).__name__ == (
        "SyncBatchNorm")
    assert converted[1].weight is bn.weight and list(converted.state_dict()) == keys
    np.testing.assert_allclose(converted(x).numpy(), before, rtol=1e-6)


# --- AlexNetTwoTower (both towers in this process) ----------------------------------------------
@pytest.mark.slow
def test_two_tower_alexnet_equals_alexnet_on_two_devices_of_one_process():
    from mpi_cases import two_tower_vs_alexnet
    towers = two_tower_vs_alexnet()
    assert towers.tower_ids == (0, 1) and not towers.distributed


def test_two_tower_exchanges_less_than_a_naive_split():
    from minitorch_cnn.models import AlexNetTwoTower
    counts = AlexNetTwoTower(num_classes=10, hidden=64).exchange_bytes(128)
    assert counts["two_tower_total"] == sum(counts["two_tower"].values())
    assert counts["two_tower_total"] < counts["naive_total"] / 2


# --- DistributedSampler ------------------------------------------------------------------------
@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 4, False),
                                                   (12, 4, False), (7, 2, True)])
def test_distributed_sampler_partition(n, replicas, drop_last):
    shares = [list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    size = n // replicas if drop_last else -(-n // replicas)
    assert all(len(s) == size for s in shares)
    flat = sorted(i for s in shares for i in s)
    if drop_last:
        assert len(set(flat)) == len(flat)
    else:
        assert set(flat) == set(range(n))


@pytest.mark.oracle
@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 5, False),
                                                   (9, 2, True)])
def test_distributed_sampler_matches_torch(n, replicas, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for r in range(replicas):
        ours = DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), replicas, r, shuffle=False,
                                               drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffles_per_epoch_and_rejects_bad_rank():
    a, b = (DistributedSampler(range(20), 2, r, seed=1) for r in range(2))
    first = list(a) + list(b)
    assert sorted(first) == list(range(20))
    a.set_epoch(1)
    assert list(a) != first[:10]
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(4), 2, 2)


def test_dataloader_takes_a_sampler():
    data = TensorDataset(mt.arange(10.0))
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, 2, 1, shuffle=False))
    assert len(loader) == 3
    assert [b[0].tolist() for b in loader] == [[1.0, 3.0], [5.0, 7.0], [9.0]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(data, sampler=[0], shuffle=True)


def test_distributed_needs_a_group():
    import minitorch_cnn.distributed as dist
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


def test_warm_up_ramps_from_one_kth_of_the_scaled_rate():
    from minitorch_cnn.train_distributed import WarmUp
    p = mt.nn.Parameter(mt.zeros(1))
    opt = WarmUp(mt.optim.SGD([p], lr=0.4), steps=2, k=4)
    used = []
    for _ in range(3):
        before = p.item()
        p.grad = mt.ones(1)
        opt.step()
        used.append(before - p.item())
    np.testing.assert_allclose(used, [0.1, 0.25, 0.4], rtol=1e-6)
    assert opt.param_groups[0]["lr"] == 0.4


# --- two processes -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cases():
    run = mpiexec()
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith("CASE "):
            _, name, verdict = line.split(" ", 2)
            results[name] = verdict
    assert run.returncode == 0 and results, run.stdout + run.stderr
    return results


@needs_mpi
@pytest.mark.slow
@pytest.mark.parametrize("name", ["primitives", "sampler_default_group", "ddp_sgd_momentum",
                                  "ddp_adam", "ddp_float64_exact", "ddp_no_sync",
                                  "ddp_broadcasts_buffers_each_training_forward",
                                  "ddp_shape_mismatch", "sync_batchnorm_equals_global_batch",
                                  "two_tower_one_per_rank"])
def test_two_processes(cases, name):
    assert cases.get(name) == "ok", cases.get(name)


@needs_mpi
def test_a_rank_that_raises_aborts_the_others():
    run = mpiexec("fault_raise", timeout=60)  # rank 0 would wait forever in an allreduce
    assert run.returncode != 0
    assert "rank 1 failed on purpose" in run.stderr and "MPI_Abort" in run.stderr
    assert "not aborted" not in run.stdout


@needs_mpi
@pytest.mark.slow
def test_train_distributed_then_resume_on_one_process(tmp_path):
    common = ["--epochs", "1", "--limit", "256", "--test-limit", "64", "--val-fraction", "0",
              "--batch-size", "32", "--workers", "0", "--scheduler", "none",
              "--out", str(tmp_path)]
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    run = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "minitorch_cnn", "train",
                          "--distributed", *common], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("distributed: 2 ranks, global batch 64") == 1  # rank 0 only
    ckpt = mt.load(str(tmp_path / "last.npz"))
    assert not any(k.startswith("module.") for k in ckpt["model"])
    from minitorch_cnn.train import main
    common[1] = "2"
    assert main(["--resume", str(tmp_path / "last.npz"), *common]) == 0
    assert mt.load(str(tmp_path / "last.npz"))["epoch"] == 2


@needs_mpi
def test_a_killed_rank_ends_the_others():
    run = mpiexec("fault_kill", timeout=60)
    assert run.returncode != 0 and "not aborted" not in run.stdout
