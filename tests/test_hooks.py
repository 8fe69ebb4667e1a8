"""Module hooks: forward pre-hooks, forward hooks and full backward hooks, as PyTorch's."""
import numpy as np
import pytest

import minitorch_cnn as mt
from helpers import assert_close

nn = mt.nn


def test_forward_hook_sees_and_may_replace_the_output():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten())
    seen = []
    handle = model[0].register_forward_hook(lambda m, args, out: seen.append((m, args, out)))
    x = mt.randn(2, 1, 5, 5)
    y = model(x)
    (module, args, out), = seen
    assert module is model[0] and args[0] is x and out.shape == (2, 3, 3, 3)
    assert_close(y, np.maximum(out.numpy(), 0).reshape(2, -1))
    handle.remove()
    model(x)
    assert len(seen) == 1
    with model[1].register_forward_hook(lambda m, args, out: out * 0):
        assert model(x).numpy().max() == 0
    assert model(x).numpy().max() > 0  # removed on leaving the with block


def test_forward_pre_hook_may_replace_the_arguments():
    lin = nn.Linear(2, 1)
    lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    assert_close(lin(mt.ones(1, 2)), lin.bias.numpy()[None])
    with pytest.raises(TypeError, match="callable"):
        lin.register_forward_hook(3)


def test_no_hook_no_change_in_the_graph():
    lin = nn.Linear(2, 1)
    y = lin(mt.ones(1, 2))
    assert "Linear" in repr(y)  # the op's own node, no identity op in between


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_matches_torch(torch):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 2, 3, 3))
    xs = rng.standard_normal((2, 2, 5, 5))

    def run(conv, x, relu):
        got = []
        conv.register_full_backward_hook(
            lambda m, gi, go: got.append(([None if g is None else g.detach().numpy() for g in gi],
                                          [g.detach().numpy() for g in go])))
        relu.register_full_backward_hook(
            lambda m, gi, go: tuple(g * 2 for g in gi))  # doubles what flows below it
        y = relu(conv(x))
        (y * y).sum().backward()
        return got, x.grad.numpy() if x.grad is not None else None

    tconv, trelu = torch.nn.Conv2d(2, 4, 3).double(), torch.nn.ReLU()
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(w))
    conv, relu = nn.Conv2d(2, 4, 3).double(), nn.ReLU()
    conv.load_state_dict({"weight": w, "bias": tconv.bias.detach().numpy()})
    for needs_grad in (True, False):
        tx = torch.tensor(xs, requires_grad=needs_grad)
        x = mt.tensor(xs, requires_grad=needs_grad)
        theirs, tgrad = run(tconv, tx, trelu)
        ours, grad = run(conv, x, relu)
        (t_in, t_out), = theirs[-1:]
        (o_in, o_out), = ours[-1:]
        assert_close(o_out[0], t_out[0], rtol=1e-10)
        if needs_grad:
            assert_close(o_in[0], t_in[0], rtol=1e-10)
            assert_close(grad, tgrad, rtol=1e-10)
        else:
            assert o_in == [None] and t_in == [None]
        tconv._backward_hooks.clear()
        trelu._backward_hooks.clear()
        conv._hooks["backward"].clear()
        relu._hooks["backward"].clear()
