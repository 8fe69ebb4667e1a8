"""squash, dynamic_routing and margin_loss: gradcheck in float64, the same formulas in PyTorch
(forward and backward, both detach_coupling settings), s = 0, and bad input."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from helpers import assert_close, make


def _torch_squash(torch, s, dim=-1):
    n2 = (s * s).sum(dim, keepdim=True)
    return n2 / (1 + n2) * s / n2.sqrt()


def _torch_routing(torch, u_hat, iterations, detach):
    """Procedure 1 of the paper, written plainly in torch."""
    b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype)
    for r in range(iterations):
        c = torch.softmax(b, dim=2)
        if detach:
            c = c.detach()
        s = (c[..., None] * u_hat).sum(1)
        v = _torch_squash(torch, s)
        if r + 1 < iterations:
            b = b + (u_hat * v[:, None]).sum(-1)
    return v


def test_squash_gradcheck(rng):
    s = make(rng, 3, 4, 5)
    mt.gradcheck(lambda t: F.squash(t, dim=1), [s])
    mt.gradcheck(lambda t: F.squash(t), [s])


def test_squash_length_below_one_and_safe_at_zero(rng):
    s = mt.tensor(np.concatenate([np.zeros((1, 4)), rng.normal(0, 10, (3, 4))]),
                  requires_grad=True)
    v = F.squash(s)
    lengths = np.linalg.norm(v.numpy(), axis=-1)
    assert lengths[0] == 0 and (lengths[1:] < 1).all() and (lengths[1:] > 0.9).all()
    (v * mt.tensor(rng.normal(size=(4, 4)))).sum().backward()
    g = s.grad.numpy()
    assert np.isfinite(g).all() and (g[0] == 0).all()


@pytest.mark.parametrize("iterations", [1, 2, 3])
def test_routing_gradcheck(rng, iterations):
    u_hat = make(rng, 2, 5, 3, 4)
    mt.gradcheck(lambda u: F.dynamic_routing(u, iterations), [u_hat])


def _couplings(u, iterations):
    """The last iteration's c (N, I, J) of Procedure 1, in NumPy."""
    b = np.zeros(u.shape[:3])
    for r in range(iterations):
        c = np.exp(b - b.max(2, keepdims=True))
        c /= c.sum(2, keepdims=True)
        s = (c[..., None] * u).sum(1)
        n2 = (s * s).sum(-1, keepdims=True)
        v = n2 / (1 + n2) * s / np.sqrt(n2)
        b = b + (u * v[:, None]).sum(-1)
    return c


@pytest.mark.parametrize("iterations", [1, 3])
def test_routing_detached_gradcheck(rng, iterations):
    """With detach_coupling the couplings are constants: the gradient is that of
    squash(sum_i c_ij u_hat_ij) with c frozen at its forward value, which gradcheck can check."""
    u_hat = make(rng, 2, 5, 3, 4)
    c = mt.tensor(_couplings(u_hat.numpy(), iterations)[..., None])
    gv = rng.normal(size=(2, 3, 4))
    (F.dynamic_routing(u_hat, iterations, detach_coupling=True) * mt.tensor(gv)).sum().backward()
    frozen = make(rng, 2, 5, 3, 4)
    frozen.data[...] = u_hat.data
    (F.squash((c * frozen).sum(1)) * mt.tensor(gv)).sum().backward()
    assert_close(u_hat.grad, frozen.grad.numpy(), rtol=1e-10, atol=1e-14)
    mt.gradcheck(lambda u: F.squash((c * u).sum(1)), [frozen])


def test_margin_loss_gradcheck(rng):
    lengths = make(rng, 6, 4, low=0.0, high=1.0)
    target = np.array([0, 1, 2, 3, 0, 2])
    for reduction in ("mean", "sum", "none"):
        mt.gradcheck(lambda x: F.margin_loss(x, target, reduction=reduction), [lengths])


def test_margin_loss_by_hand():
    lengths = mt.tensor([[0.95, 0.5, 0.05], [0.3, 0.2, 0.6]])
    loss = F.margin_loss(lengths, mt.tensor([0, 2]), reduction="none")
    # row 0: target 0.95 >= 0.9 (0); 0.5 -> 0.5 * 0.4^2; 0.05 < 0.1 (0)
    # row 1: 0.3 -> 0.5 * 0.2^2, 0.2 -> 0.5 * 0.1^2, target 0.6 -> 0.3^2
    assert_close(loss, [0.08, 0.02 + 0.005 + 0.09], rtol=1e-5)
    assert_close(F.margin_loss(lengths, [0, 2]), 0.195 / 2, rtol=1e-5)


@pytest.mark.oracle
@pytest.mark.parametrize("detach", [False, True])
def test_routing_and_squash_match_torch(rng, torch, detach):
    u = rng.normal(0, 0.5, (3, 7, 4, 5))
    gv = rng.normal(size=(3, 4, 5))
    ours = mt.tensor(u, requires_grad=True)
    v = F.dynamic_routing(ours, 3, detach_coupling=detach)
    (v * mt.tensor(gv)).sum().backward()
    theirs = torch.tensor(u, requires_grad=True)
    tv = _torch_routing(torch, theirs, 3, detach)
    (tv * torch.tensor(gv)).sum().backward()
    assert_close(v, tv.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert_close(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    s = mt.tensor(u, requires_grad=True)
    (F.squash(s, dim=2) ** 2).sum().backward()
    ts = torch.tensor(u, requires_grad=True)
    (_torch_squash(torch, ts, dim=2) ** 2).sum().backward()
    assert_close(s.grad, ts.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.oracle
def test_margin_loss_matches_torch(rng, torch):
    x = rng.uniform(0, 1, (8, 10))
    t = rng.integers(0, 10, 8)
    ours = mt.tensor(x, requires_grad=True)
    loss = F.margin_loss(ours, t)
    loss.backward()
    tx = torch.tensor(x, requires_grad=True)
    onehot = torch.nn.functional.one_hot(torch.tensor(t), 10).double()
    tl = (onehot * torch.relu(0.9 - tx) ** 2
          + 0.5 * (1 - onehot) * torch.relu(tx - 0.1) ** 2).sum(1).mean()
    tl.backward()
    assert_close(loss, tl.item(), rtol=1e-12)
    assert_close(ours.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_routing_float32_output_and_agreement(rng):
    """All predictions agreeing on one direction: v points that way, length near 1."""
    direction = rng.normal(size=4)
    u = np.tile(direction, (1, 6, 2, 1)).astype(np.float32)
    v = F.dynamic_routing(mt.tensor(u), 3)
    assert v.shape == (1, 2, 4) and v.dtype == np.float32
    expected = F.squash(mt.tensor(6 * direction / 2))  # c = 1/2 for every pair
    assert_close(v[0, 0], expected.numpy(), rtol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match=r"dynamic_routing: expected u_hat .* got \(2, 3, 4\)"):
        F.dynamic_routing(mt.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="dynamic_routing: iterations must be .* >= 1"):
        F.dynamic_routing(mt.zeros(2, 3, 4, 5), iterations=0)
    with pytest.raises(ValueError, match=r"margin_loss: target classes must be in \[0, 3\)"):
        F.margin_loss(mt.zeros(2, 3), [0, 3])
    with pytest.raises(ValueError, match=r"margin_loss: expected target of shape \(2,\)"):
        F.margin_loss(mt.zeros(2, 3), [0, 1, 2])
    with pytest.raises(ValueError, match="squash: dim 3 is out of range"):
        F.squash(mt.zeros(2, 3), dim=3)
