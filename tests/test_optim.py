"""Optimizers: hand-computed steps, PyTorch's trajectories (oracle), groups, state dicts."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim

X = np.random.default_rng(1).standard_normal((8, 4))
Y = np.random.default_rng(2).standard_normal((8, 3))
W0 = np.random.default_rng(3).standard_normal((3, 4)) * 0.5
B0 = np.random.default_rng(4).standard_normal(3) * 0.5

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=5e-4)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.045, alpha=0.9, eps=1.0)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=1e-2)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True, maximize=True)),
]


def loss_fn(lib, w, b):
    """A small non-quadratic problem in ``lib`` (mt or torch): least squares + 0.01 sum w^4."""
    x, y = lib.tensor(X), lib.tensor(Y)
    r = x @ w.T + b - y
    return (r * r).mean() + (w * w * w * w).sum() * 0.01


def run_ours(name, kwargs, steps=6, groups=False):
    w = mt.tensor(W0, requires_grad=True)
    b = mt.tensor(B0, requires_grad=True)
    params = [{"params": [w]}, {"params": [b], "lr": 0.003}] if groups else [w, b]
    opt = getattr(optim, name)(params, **kwargs)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(mt, w, b).backward()
        opt.step()
        path.append((w.numpy(), b.numpy()))
    return path


def run_torch(torch, name, kwargs, steps=6, groups=False):
    w = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    params = [{"params": [w]}, {"params": [b], "lr": 0.003}] if groups else [w, b]
    opt = getattr(torch.optim, name)(params, **kwargs)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(torch, w, b).backward()
        opt.step()
        path.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    return path


@pytest.mark.oracle
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(torch, name, kwargs):
    for groups in (False, True):
        ours = run_ours(name, kwargs, groups=groups)
        theirs = run_torch(torch, name, kwargs, groups=groups)
        for (w, b), (tw, tb) in zip(ours, theirs):
            np.testing.assert_allclose(w, tw, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(b, tb, rtol=1e-10, atol=1e-12)


def _param(values):
    return mt.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _step(opt, p, grad):
    p.grad = mt.tensor(np.array(grad, dtype=np.float64))
    opt.step()
    return p.numpy()


def test_sgd_momentum_by_hand():
    p = _param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    # b1 = g + 0.5 w = [1.5, -1]; w1 = w - 0.1 b1
    np.testing.assert_allclose(_step(opt, p, [1.0, 0.0]), [0.85, -1.9])
    # g2 = [0, 2] + 0.5 w1 = [0.425, 1.05]; b2 = 0.9 b1 + g2 = [1.775, 0.15]
    np.testing.assert_allclose(_step(opt, p, [0.0, 2.0]), [0.85 - 0.1775, -1.9 - 0.015])


def test_sgd_equals_alexnet_rule_at_constant_lr():
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal(5), rng.standard_normal((10, 5))
    p = _param(w0)
    opt = optim.SGD([p], lr=0.01, momentum=0.9, weight_decay=0.0005)
    w, v = w0.copy(), np.zeros(5)
    for g in grads:
        ours = _step(opt, p, g)
        v = 0.9 * v - 0.0005 * 0.01 * w - 0.01 * g
        w = w + v
        np.testing.assert_allclose(ours, w, rtol=1e-12)


def test_rmsprop_first_step_by_hand():
    p = _param([1.0, 1.0])
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9, eps=1.0)
    g = np.array([2.0, -0.5])
    expected = 1.0 - 0.01 * g / (np.sqrt(0.1 * g * g) + 1.0)
    np.testing.assert_allclose(_step(opt, p, g), expected)


def test_adam_first_steps_by_hand():
    p = _param([0.0, 0.0])
    opt = optim.Adam([p], lr=0.1)
    # after bias correction the first step is lr * sign(g) (up to eps)
    np.testing.assert_allclose(_step(opt, p, [3.0, -1e-3]), [-0.1, 0.1], rtol=1e-4)
    m = 0.9 * 0.1 * np.array([3.0, -1e-3]) + 0.1 * np.array([1.0, 1.0])
    v = 0.999 * 0.001 * np.array([9.0, 1e-6]) + 0.001 * np.array([1.0, 1.0])
    step = 0.1 / (1 - 0.9 ** 2) * m / (np.sqrt(v) / np.sqrt(1 - 0.999 ** 2) + 1e-8)
    np.testing.assert_allclose(_step(opt, p, [1.0, 1.0]), [-0.1, 0.1] - step, rtol=1e-4)


def test_adamw_decays_weights_without_gradient_signal():
    p = _param([2.0])
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(_step(opt, p, [0.0]), [2.0 * (1 - 0.05)])


def test_float32_stays_float32():
    lin = nn.Linear(4, 2)
    opt = optim.Adam(lin.parameters(), lr=0.1)
    lin(mt.randn(3, 4)).sum().backward()
    opt.step()
    assert all(p.dtype == np.float32 for p in lin.parameters())
    assert opt.state[lin.weight]["exp_avg"].dtype == np.float32


def test_param_groups_and_zero_grad():
    lin = nn.Linear(3, 2)
    opt = optim.SGD([{"params": [lin.weight]}, {"params": [lin.bias], "lr": 0.0}], lr=0.5,
                    momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    bias = lin.bias.numpy()
    lin(mt.randn(4, 3)).sum().backward()
    opt.step()
    np.testing.assert_array_equal(lin.bias.numpy(), bias)  # lr 0 in its group
    opt.zero_grad()
    assert lin.weight.grad is None
    lin(mt.randn(4, 3)).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(lin.weight.grad.numpy(), 0)


def test_parameters_without_grad_are_skipped():
    a, b = _param([1.0]), _param([1.0])
    opt = optim.Adam([a, b])
    a.grad = mt.tensor(np.array([1.0]))
    opt.step()
    assert b.numpy()[0] == 1.0 and b not in opt.state


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[6], CASES[8]])
def test_state_dict_resumes_exactly(name, kwargs):
    full = run_ours(name, kwargs, steps=6)
    w = mt.tensor(W0, requires_grad=True)
    b = mt.tensor(B0, requires_grad=True)
    opt = getattr(optim, name)([w, b], **kwargs)
    for _ in range(3):
        opt.zero_grad()
        loss_fn(mt, w, b).backward()
        opt.step()
    state = opt.state_dict()
    assert state["param_groups"][0]["params"] == [0, 1]
    w2, b2 = mt.tensor(w.numpy(), requires_grad=True), mt.tensor(b.numpy(), requires_grad=True)
    opt2 = getattr(optim, name)([w2, b2], lr=123.0)
    opt2.load_state_dict(state)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for _ in range(3):
        opt2.zero_grad()
        loss_fn(mt, w2, b2).backward()
        opt2.step()
    np.testing.assert_array_equal(w2.numpy(), full[-1][0])
    np.testing.assert_array_equal(b2.numpy(), full[-1][1])


def test_state_dict_is_a_copy():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    _step(opt, p, [1.0])
    saved = opt.state_dict()
    _step(opt, p, [1.0])
    assert saved["state"][0]["momentum_buffer"][0] == 1.0


def test_bad_arguments():
    p = _param([1.0])
    with pytest.raises(ValueError, match="SGD.*learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="required"):
        optim.SGD([p])
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.Adam(p)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
