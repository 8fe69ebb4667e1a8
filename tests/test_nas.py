"""Neural architecture search: the REINFORCE gradient against the hand-derived one, the
controller's log-probabilities, children built from random architectures, the files of a search,
a small search end to end (and resumed), bad input, and the MPI run against one process."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nas
from minitorch_cnn.models import registry
from minitorch_cnn.nas import command, trials
from minitorch_cnn.nas.build import _join
from minitorch_cnn.nas.strategies import Reinforce, reinforce_loss
from minitorch_cnn.nn import functional as F
from helpers import assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_reinforce_gradient_equals_hand_derived():
    """d/d(head bias) of -(1/m) sum_k (R_k - b) log P(a_k) is, for a softmax head,
    -(1/m) sum_k (R_k - b) sum_{t of that head} (one_hot(a_t) - p_t)."""
    controller = nas.Controller(nas.SearchSpace(3)).double()
    archs = [controller.sample() for _ in range(2)]
    rewards, baseline = [0.7, 0.2], 0.4
    log_probs = [controller.log_prob(a)[0] for a in archs]
    controller.zero_grad()
    reinforce_loss(log_probs, rewards, baseline).backward()
    expected = {key: np.zeros(len(choices)) for key, choices in controller.space.decisions}
    for arch, reward in zip(archs, rewards):
        for key, dist, value in controller.steps(arch):
            if key != "inputs":
                p = dist.probs.numpy()
                expected[key] -= (reward - baseline) / 2 * (np.eye(len(p))[int(value.item())] - p)
    for key, grad in expected.items():
        assert_close(controller.heads[key].bias.grad, grad, rtol=1e-10, atol=1e-14)


def test_reinforce_gradient_is_the_weighted_sum_of_log_prob_gradients():
    controller = nas.Controller(nas.SearchSpace(3)).double()
    archs = [controller.sample() for _ in range(2)]
    rewards, baseline = [0.9, 0.5], 0.6
    per_arch = []
    for arch in archs:
        controller.zero_grad()
        controller.log_prob(arch)[0].backward()
        per_arch.append({k: p.grad.numpy().copy() for k, p in controller.named_parameters()})
    controller.zero_grad()
    reinforce_loss([controller.log_prob(a)[0] for a in archs], rewards, baseline).backward()
    for k, p in controller.named_parameters():
        expected = -sum((r - baseline) / 2 * g[k] for r, g in zip(rewards, per_arch))
        assert_close(p.grad, expected, rtol=1e-10, atol=1e-14)


def test_controller_log_prob_gradcheck_and_sampling():
    mt.manual_seed(3)
    controller = nas.Controller(nas.SearchSpace(3), hidden_size=3).double()
    arch = controller.sample()
    assert nas.SearchSpace(3).validate(arch) is arch
    # the log-probability is the sum of the decisions' log-probabilities
    total = sum(float(d.log_prob(v).sum().item()) for _, d, v in controller.steps(arch))
    assert_close(controller.log_prob(arch)[0], total, rtol=1e-12)
    params = [controller.heads["num_filters"].weight, controller.v.weight,
              controller.lstm.weight_hh_l0]
    assert mt.gradcheck(lambda *p: controller.log_prob(arch)[0], params)
    mt.manual_seed(3)
    again = nas.Controller(nas.SearchSpace(3), hidden_size=3).double()
    assert again.sample() == arch


def test_update_uses_and_moves_the_baseline():
    strategy = Reinforce(nas.SearchSpace(2), baseline_decay=0.5)
    archs = strategy.propose(2)
    assert strategy.update(archs, [0.2, 0.4]) == pytest.approx(0.3)  # first: the batch mean
    before = [p.numpy().copy() for p in strategy.controller.parameters()]
    assert strategy.update(strategy.propose(1), [0.9]) == pytest.approx(0.3)
    assert strategy.baseline == pytest.approx(0.6)
    assert any(not np.allclose(a, p.numpy()) for a, p in
               zip(before, strategy.controller.parameters()))


@pytest.mark.parametrize("seed", range(4))
def test_build_random_archs(seed):
    space = nas.SearchSpace(4)
    arch = space.random_arch(np.random.default_rng(seed))
    json.loads(json.dumps(arch))  # JSON-able
    for channels, size in ((1, (28, 28)), (3, (13, 10))):
        model = nas.build(arch, channels, 7)
        out = model(mt.randn(2, channels, *size))
        assert out.shape == (2, 7)
        out.sum().backward()
        assert all(p.grad is not None for p in model.parameters())


def test_skip_connections_of_different_sizes_are_pooled_to_the_smallest(rng):
    layer = {"filter_height": 3, "filter_width": 3, "stride": 1, "inputs": []}
    arch = {"layers": [dict(layer, num_filters=24), dict(layer, num_filters=36, stride=2),
                       dict(layer, num_filters=48, inputs=[0, 1])]}
    model = nas.build(arch, 1, 10)
    assert model.layers[2].conv.in_channels == 24 + 36 and model.outputs == [2]
    assert model.fc.in_features == 48
    big, small = mt.tensor(rng.normal(size=(2, 3, 8, 8))), mt.tensor(rng.normal(size=(2, 2, 4, 4)))
    joined = _join([big, small])
    assert joined.shape == (2, 5, 4, 4)
    pooled = big.numpy().reshape(2, 3, 4, 2, 4, 2).mean(axis=(3, 5))
    assert_close(joined[:, :3], pooled)
    assert_close(joined[:, 3:], small.numpy())
    assert model(mt.randn(1, 1, 9, 9)).shape == (1, 10)  # 9 -> 5 with stride 2


def test_bad_arch_names_the_key():
    arch = nas.SearchSpace(2).random_arch(np.random.default_rng(0))
    cases = [({**arch, "extra": 1}, "unknown key 'extra'"),
             ({"layers": [dict(arch["layers"][0], kernel=3)]}, "layer 0: unknown key 'kernel'"),
             ({"layers": [dict(arch["layers"][0], num_filters=50)]},
              r"layer 0: num_filters = 50 is outside the search space \(24, 36, 48, 64\)"),
             ({"layers": [dict(arch["layers"][0], filter_height=2)]}, "filter_height = 2"),
             ({"layers": [arch["layers"][0], dict(arch["layers"][1], inputs=[1])]},
              r"layer 1: inputs = \[1\]"),
             ({"layers": [{k: v for k, v in arch["layers"][0].items() if k != "stride"}]},
              "missing key 'stride'"),
             ({"layers": []}, "non-empty list")]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            nas.build(bad, 1, 10)
    with pytest.raises(ValueError, match="expected 3 layers, got 2"):
        nas.SearchSpace(3).validate(arch)
    with pytest.raises(ValueError, match=r"stride = 2 is outside the search space \(1,\)"):
        nas.SearchSpace(1, strides=(1,)).validate(
            {"layers": [dict(arch["layers"][0], stride=2)]})


def test_bad_trials_file_names_the_line(tmp_path):
    path = tmp_path / "trials.jsonl"
    good = {"trial": 0, "arch": {}, "reward": 0.5, "params": 1, "seconds": 0.1}
    path.write_text(json.dumps(good) + "\nnot json\n")
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        trials.read_trials(path)
    path.write_text(json.dumps(good) + "\n" + json.dumps({"trial": 1, "arch": {}}) + "\n")
    with pytest.raises(ValueError, match="line 2 has no key 'reward'"):
        trials.read_trials(path)
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="line 1 is not a JSON object"):
        trials.read_trials(path)
    (tmp_path / "best.json").write_text('{"arch": {"layers": [{"filter_height": 3}]}}')
    with pytest.raises(ValueError, match="best.json: arch: layer 0: unknown key|missing key"):
        registry.create(f"nas:{tmp_path / 'best.json'}")


def _search(out, *extra):
    argv = ["--trials", "3", "--layers", "2", "--limit", "60", "--out", str(out), *extra]
    assert command.main(argv) == 0
    return trials.read_trials(os.path.join(out, "trials.jsonl"))


def test_three_trial_search_end_to_end_and_resume(tmp_path, capsys):
    records = _search(tmp_path / "a")
    shutil.copy(tmp_path / "a" / "state.npz", tmp_path / "state-3.npz")
    assert [r["trial"] for r in records] == [0, 1, 2]
    for r in records:
        assert {"trial", "arch", "reward", "params", "seconds"} <= set(r)
        assert 0 <= r["reward"] <= 1 and r["params"] > 0
        nas.SearchSpace(2).validate(r["arch"])
    best = json.loads((tmp_path / "a" / "best.json").read_text())
    assert best["reward"] == max(r["reward"] for r in records)
    model = registry.create(f"nas:{tmp_path / 'a' / 'best.json'}")
    assert model.model_spec["name"].startswith("nas:")
    assert model(mt.randn(2, 1, 28, 28)).shape == (2, 10)
    # a fresh search refuses to write over it; --resume continues it as if never stopped
    assert command.main(["--trials", "3", "--out", str(tmp_path / "a")]) == 2
    assert "pass --resume" in capsys.readouterr().err
    resumed = _search(tmp_path / "a", "--resume", "--trials", "4")
    whole = _search(tmp_path / "b", "--trials", "4")
    assert [(r["arch"], r["reward"]) for r in resumed] == [(r["arch"], r["reward"])
                                                            for r in whole]
    # a crash after the log but before the state: the extra line is dropped and run again
    shutil.copy(tmp_path / "state-3.npz", tmp_path / "b" / "state.npz")
    again = _search(tmp_path / "b", "--resume", "--trials", "4")
    assert [r["reward"] for r in again] == [r["reward"] for r in whole]


@pytest.mark.slow
def test_random_search_and_train_command(tmp_path):
    records = _search(tmp_path, "--strategy", "random", "--strides", "1")
    assert all(layer["stride"] == 1 for r in records for layer in r["arch"]["layers"])
    from minitorch_cnn import train
    best = os.path.join(tmp_path, "best.json")
    assert train.main(["--model", f"nas:{best}", "--epochs", "1", "--limit", "40",
                       "--test-limit", "20", "--workers", "0",
                       "--out", str(tmp_path / "train")]) == 0


def test_categorical_anchor_is_a_sigmoid():
    """The two-way Categorical of the anchor points with logits (0, a) is Bernoulli(sigmoid a)."""
    a = mt.tensor([[-1.5], [0.3]], dtype=np.float64)
    dist = mt.distributions.Categorical(logits=mt.cat([mt.zeros(2, 1, dtype=np.float64), a], 1))
    assert_close(dist.probs[:, 1], F.sigmoid(a).numpy()[:, 0], rtol=1e-12)


@pytest.mark.slow
def test_mpi_run_equals_one_process(tmp_path):
    pytest.importorskip("mpi4py")
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        pytest.skip("no mpiexec")
    argv = ["-m", "minitorch_cnn", "nas", "--trials", "4", "--layers", "2", "--limit", "60",
            "--batch", "2"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = subprocess.run([mpiexec, "-n", "3", sys.executable, *argv, "--out",
                          str(tmp_path / "mpi")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "2 child trainer(s)" in run.stdout
    parallel = trials.read_trials(tmp_path / "mpi" / "trials.jsonl")
    single = _search(tmp_path / "one", "--trials", "4", "--batch", "2")
    assert [(r["arch"], r["reward"]) for r in parallel] == [(r["arch"], r["reward"])
                                                             for r in single]


def test_plot_nas_compares_searches(tmp_path):
    pytest.importorskip("matplotlib")
    from minitorch_cnn import viz
    folders = []
    for name, rewards in (("reinforce", [0.2, 0.5, 0.4]), ("random", [0.3, 0.1, 0.6])):
        folder = tmp_path / name
        folder.mkdir()
        trials.append_trials(folder / "trials.jsonl", [
            {"trial": i, "strategy": name, "arch": {}, "reward": r, "params": 1, "seconds": 0.1}
            for i, r in enumerate(rewards)])
        folders.append(str(folder))
    out = tmp_path / "nas.png"
    assert viz.main(["nas", *folders, "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "trials.jsonl").write_text("{oops\n")
    assert viz.main(["nas", str(tmp_path / "bad")]) == 2


def test_reinforce_learns_a_synthetic_reward():
    """Reward 1 for 64 filters, else 0: the policy's probability of 64 rises from about 1/4."""
    strategy = Reinforce(nas.SearchSpace(1), lr=0.05)

    def p64():
        steps = strategy.controller.steps(strategy.controller.sample())
        return float([d for k, d, _ in steps if k == "num_filters"][0].probs.numpy()[-1])
    assert p64() < 0.4
    for _ in range(12):
        archs = strategy.propose(4)
        strategy.update(archs, [float(a["layers"][0]["num_filters"] == 64) for a in archs])
    assert p64() > 0.8


def test_registry_does_not_import_nas_until_asked():
    code = ("import sys; from minitorch_cnn.models import registry; registry.names(); "
            "assert 'minitorch_cnn.nas' not in sys.modules; print('nas:...' in registry.names())")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "True"


def test_bad_command_arguments(tmp_path, capsys):
    assert command.main(["--trials", "0", "--out", str(tmp_path)]) == 2
    assert "--trials must be at least 1, got 0" in capsys.readouterr().err
    assert command.main(["--resume", "--out", str(tmp_path / "none")]) == 2
    assert "nothing to resume" in capsys.readouterr().err
