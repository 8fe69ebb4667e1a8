"""Module, Parameter, containers, Linear/Flatten/Identity, state dicts and init."""
import math

import numpy as np
import pytest

import minitorch_cnn as mt
from helpers import assert_close, make
from minitorch_cnn import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Flatten(), nn.Linear(8, 3))
        self.heads = nn.ModuleList([nn.Linear(3, 2), nn.Identity()])
        self.extra = nn.ModuleDict({"proj": nn.Linear(3, 3, bias=False)})
        self.register_buffer("running", mt.zeros(3))
        self.scale = nn.Parameter(mt.ones(1))

    def forward(self, x):
        h = self.extra["proj"](self.body(x)) * self.scale + self.running
        return self.heads[0](self.heads[1](h))


def test_registration_and_naming():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                     "heads.0.weight", "heads.0.bias", "extra.proj.weight"]  # PyTorch's order
    assert [n for n, _ in net.named_buffers()] == ["running"]
    assert len(list(net.children())) == 3 and len(list(net.modules())) == 10
    assert all(p.requires_grad for p in net.parameters())
    assert set(net.state_dict()) == set(names) | {"running"}


def test_forward_backward_gives_every_parameter_a_gradient(rng):
    net = Net()
    net(mt.randn(5, 4)).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None or not p.grad.numpy().any() for p in net.parameters())


def test_train_eval_to_return_the_module(device):
    net = Net()
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    assert net.to(device) is net
    assert all(p.device == mt.Device(device) for p in net.parameters())
    assert net.running.device == mt.Device(device)
    assert net.double() is net and net.scale.dtype == mt.float64


def test_state_dict_round_trip_with_tensors_and_numpy_arrays():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    x = mt.randn(2, 4)
    assert_close(b(x), a(x).numpy())
    c = Net()
    result = c.load_state_dict({k: v.numpy() for k, v in a.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    assert_close(c(x), a(x).numpy())


def test_load_state_dict_reports_missing_unexpected_and_wrong_shapes():
    net = Net()
    state = net.state_dict()
    state.pop("scale")
    state["ghost"] = np.zeros(2)
    state["body.0.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError) as err:
        net.load_state_dict(state)
    message = str(err.value)
    assert "scale" in message and "ghost" in message and "body.0.weight" in message
    assert "(3, 3)" in message and "(8, 4)" in message
    state.pop("body.0.weight")
    result = net.load_state_dict(state, strict=False)
    assert "scale" in result.missing_keys and result.unexpected_keys == ["ghost"]


def test_linear_matches_formula_and_checks_its_input(rng):
    layer = nn.Linear(4, 3).double()
    x = make(rng, 2, 4)
    assert_close(layer(x), x.numpy() @ layer.weight.numpy().T + layer.bias.numpy())
    assert mt.gradcheck(lambda x, w, b: mt.nn.functional.linear(x, w, b),
                        (x, layer.weight, layer.bias))
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        layer(mt.zeros(2, 5, dtype=mt.float64))


def test_linear_default_init_bounds():
    layer = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert layer.weight.numpy().std() > bound / 3


@pytest.mark.parametrize("fn,expected_std", [
    (lambda t: nn.init.xavier_uniform_(t), math.sqrt(2 / (300 + 200))),
    (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / (300 + 200))),
    (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda t: nn.init.normal_(t, 0.0, 0.01), 0.01),
    (lambda t: nn.init.uniform_(t, -1.0, 1.0), 1 / math.sqrt(3)),
])
def test_init_statistics(fn, expected_std):
    t = mt.empty(200, 300)
    fn(t)
    assert abs(t.numpy().std() / expected_std - 1) < 0.05
    assert abs(t.numpy().mean()) < 0.05 * expected_std + 1e-3


def test_constant_inits():
    t = mt.empty(3, 4)
    assert (nn.init.constant_(t, 2.5).numpy() == 2.5).all()
    assert (nn.init.zeros_(t).numpy() == 0).all() and (nn.init.ones_(t).numpy() == 1).all()


def test_flatten_and_identity():
    x = mt.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60) and nn.Identity()(x) is x
