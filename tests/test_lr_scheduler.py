"""Learning-rate schedules: their formulas, PyTorch's values (oracle), state dicts."""
import math

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import optim
from minitorch_cnn.optim import lr_scheduler as sched


def make_opt(lrs=(0.1, 0.01)):
    ps = [mt.tensor(np.zeros(1), requires_grad=True) for _ in lrs]
    return optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], lr=lrs[0],
                     momentum=0.9)


def lrs_over(scheduler, opt, epochs=12):
    out = []
    for _ in range(epochs):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        scheduler.step()
    return np.array(out)


FORMULAS = [
    ("StepLR", dict(step_size=3, gamma=0.5), lambda b, e: b * 0.5 ** (e // 3)),
    ("MultiStepLR", dict(milestones=[5, 2, 9], gamma=0.1),
     lambda b, e: b * 0.1 ** sum(e >= m for m in (2, 5, 9))),
    ("ExponentialLR", dict(gamma=0.94), lambda b, e: b * 0.94 ** e),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.001),
     lambda b, e: 0.001 + (b - 0.001) * (1 + math.cos(math.pi * e / 5)) / 2),
]


@pytest.mark.parametrize("name,kwargs,formula", FORMULAS, ids=[f[0] for f in FORMULAS])
def test_schedule_formula(name, kwargs, formula):
    opt = make_opt()
    lrs = lrs_over(getattr(sched, name)(opt, **kwargs), opt)
    expected = [[formula(b, e) for b in (0.1, 0.01)] for e in range(12)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_lambda_lr_per_group():
    opt = make_opt()
    s = sched.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e])
    lrs = lrs_over(s, opt, 4)
    np.testing.assert_allclose(lrs[:, 0], [0.1 / (e + 1) for e in range(4)])
    np.testing.assert_allclose(lrs[:, 1], [0.01 * 0.5 ** e for e in range(4)])
    assert s.get_last_lr() == [g["lr"] for g in opt.param_groups]
    assert "lr_lambdas" not in s.state_dict()


def test_reduce_on_plateau_alexnet_style():
    opt = make_opt((0.01,))
    s = sched.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=2)
    errors = [0.5, 0.4, 0.41, 0.40, 0.42, 0.3, 0.31, 0.32, 0.33, 0.34]
    lrs = []
    for err in errors:
        s.step(err)
        lrs.append(opt.param_groups[0]["lr"])
    # three epochs without improvement after 0.4 (epochs 3-5): divided by 10 at the 5th
    np.testing.assert_allclose(lrs, [0.01] * 4 + [0.001] * 4 + [1e-4] * 2)


def test_reduce_on_plateau_cooldown_min_lr_and_max_mode():
    opt = make_opt((1.0,))
    s = sched.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0, cooldown=1,
                                min_lr=0.3)
    for acc in [0.5, 0.4, 0.4, 0.4, 0.4]:
        s.step(acc)
    # bad at epochs 2 (-> 0.5), cooldown at 3, bad at 4 (-> 0.3, the floor)
    assert opt.param_groups[0]["lr"] == 0.3


def test_state_dict_resumes():
    opt = make_opt()
    s = sched.StepLR(opt, 2, 0.5)
    for _ in range(3):
        s.step()
    opt2 = make_opt()
    s2 = sched.StepLR(opt2, 7, 0.9)
    s2.load_state_dict(s.state_dict())
    opt2.load_state_dict(opt.state_dict())
    s.step()
    s2.step()
    assert s2.get_last_lr() == s.get_last_lr() == [0.1 * 0.25, 0.01 * 0.25]


def test_bad_arguments():
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer"):
        sched.StepLR([], 2)
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(make_opt(), 2, last_epoch=3)
    with pytest.raises(ValueError, match="factor"):
        sched.ReduceLROnPlateau(make_opt(), factor=2)
    with pytest.raises(ValueError, match="2 lr_lambdas"):
        sched.LambdaLR(make_opt(), [lambda e: 1.0])


TORCH_CASES = FORMULAS + [("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e + 0.1), None)]


@pytest.mark.oracle
@pytest.mark.parametrize("name,kwargs,_", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch(torch, name, kwargs, _):
    opt = make_opt()
    ours = lrs_over(getattr(sched, name)(opt, **kwargs), opt, 15)
    ps = [torch.zeros(1, requires_grad=True) for _ in range(2)]
    topt = torch.optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.01}],
                           lr=0.1)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    theirs = lrs_over(ts, topt, 15)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)


@pytest.mark.oracle
def test_plateau_matches_torch(torch):
    values = np.random.default_rng(0).uniform(0, 1, 40).cumsum()[::-1] % 1.7
    for kwargs in (dict(patience=2), dict(mode="max", patience=1, cooldown=2, factor=0.5),
                   dict(threshold_mode="abs", threshold=0.1, patience=0, min_lr=1e-4)):
        opt = make_opt()
        topt = torch.optim.SGD([{"params": [torch.zeros(1)], "lr": lr} for lr in (0.1, 0.01)])
        s = sched.ReduceLROnPlateau(opt, **kwargs)
        ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
        for v in values:
            s.step(v)
            ts.step(v)
            assert [g["lr"] for g in opt.param_groups] == pytest.approx(
                [g["lr"] for g in topt.param_groups], rel=1e-12)


def test_a_schedule_must_define_lr_at():
    class NoFormula(sched.LRScheduler):
        pass

    with pytest.raises(TypeError, match="lr_at"):
        NoFormula(make_opt())
