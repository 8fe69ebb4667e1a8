"""LSTMCell, LSTM and Embedding: a naive NumPy step loop, gradcheck in float64, torch as the oracle
(weights copied by name), shapes, and bad input."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn.ops.rnn import LSTMLayerFn
from helpers import assert_close, make


def naive_lstm(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """The textbook equations, one step and one gate at a time."""
    hidden = h.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    ys = []
    for x_t in x:
        a = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f = sig(a[:, :hidden]), sig(a[:, hidden:2 * hidden])
        g, o = np.tanh(a[:, 2 * hidden:3 * hidden]), sig(a[:, 3 * hidden:])
        c = f * c + i * g
        h = o * np.tanh(c)
        ys.append(h)
    return np.stack(ys), h, c


def test_lstm_layer_against_naive_loop_and_gradcheck(rng, device):
    x, h0, c0 = (make(rng, *s, device=device) for s in ((4, 2, 3), (2, 5), (2, 5)))
    w_ih, w_hh = make(rng, 20, 3, device=device), make(rng, 20, 5, device=device)
    b_ih, b_hh = make(rng, 20, device=device), make(rng, 20, device=device)
    args = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    y, h, c = LSTMLayerFn.apply(*args)
    for ours, expected in zip((y, h, c), naive_lstm(*(a.numpy() for a in args))):
        assert_close(ours, expected, rtol=1e-12)
    assert mt.gradcheck(lambda *a: LSTMLayerFn.apply(*a), args)
    assert mt.gradcheck(lambda *a: LSTMLayerFn.apply(*a, None, None), args[:5])


def test_lstm_module_gradcheck(rng):
    lstm = mt.nn.LSTM(3, 4, num_layers=2, batch_first=True).double()
    x = make(rng, 2, 3, 3)
    h0, c0 = make(rng, 2, 2, 4), make(rng, 2, 2, 4)
    params = list(lstm.parameters())
    assert mt.gradcheck(lambda x, h0, c0, *p: lstm(x, (h0, c0)), [x, h0, c0, *params])


def test_lstm_cell_gradcheck(rng):
    cell = mt.nn.LSTMCell(3, 4, bias=False).double()
    x, h, c = make(rng, 2, 3), make(rng, 2, 4), make(rng, 2, 4)
    assert mt.gradcheck(lambda x, h, c, *p: cell(x, (h, c)), [x, h, c, *cell.parameters()])


def test_shapes_defaults_and_unbatched():
    lstm = mt.nn.LSTM(3, 4, num_layers=3)
    out, (h, c) = lstm(mt.randn(6, 2, 3))
    assert out.shape == (6, 2, 4) and h.shape == c.shape == (3, 2, 4)
    assert_close(out[-1], h[-1].numpy())
    out, (h, c) = lstm(mt.randn(6, 3))
    assert out.shape == (6, 4) and h.shape == (3, 4)
    h, c = mt.nn.LSTMCell(3, 4)(mt.randn(3))
    assert h.shape == c.shape == (4,)
    assert [k for k, _ in mt.nn.LSTM(3, 4, bias=False).named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0"]


def test_lstm_dropout_only_in_training():
    lstm = mt.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = mt.randn(5, 2, 3)
    lstm.eval()
    a, _ = lstm(x)
    b, _ = lstm(x)
    assert_close(a, b.numpy())
    lstm.train()
    c, _ = lstm(x)
    assert not np.allclose(a.numpy(), c.numpy())


def test_embedding_forward_backward_and_padding(rng, device):
    emb = mt.nn.Embedding(5, 3, padding_idx=4).double().to(device)
    assert_close(emb.weight[4], np.zeros(3))
    idx = np.array([[0, 2, 2], [4, 1, 0]])
    y = emb(mt.tensor(idx, device=device))
    assert y.shape == (2, 3, 3) and y.device == emb.weight.device
    assert_close(y, emb.weight.numpy()[idx])
    gy = rng.normal(size=y.shape)
    y.backward(mt.tensor(gy, device=device))
    expected = np.zeros((5, 3))
    np.add.at(expected, idx, gy)
    expected[4] = 0
    assert_close(emb.weight.grad, expected, rtol=1e-12)
    w = make(rng, 5, 3, device=device)
    assert mt.gradcheck(lambda w: F.embedding(idx, w), [w])


def test_bad_input():
    with pytest.raises(ValueError, match=r"LSTM\(3, 4.*\(T, N, 3\).*\(5, 2, 2\)"):
        mt.nn.LSTM(3, 4)(mt.randn(5, 2, 2))
    with pytest.raises(ValueError, match=r"h_0 and c_0 of shape \(1, 2, 4\)"):
        mt.nn.LSTM(3, 4)(mt.randn(5, 2, 3), (mt.zeros(1, 3, 4), mt.zeros(1, 3, 4)))
    with pytest.raises(ValueError, match=r"LSTMCell\(3, 4\).*\(N, 3\).*\(2, 5\)"):
        mt.nn.LSTMCell(3, 4)(mt.randn(2, 5))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        mt.nn.LSTM(3, 0)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 5\).*\[0, 7\]"):
        mt.nn.Embedding(5, 2)(mt.tensor([0, 7]))
    with pytest.raises(TypeError, match="integer indices"):
        mt.nn.Embedding(5, 2)(mt.tensor([0.5]))


# --- torch as the oracle ----------------------------------------------------------------------
def _copy_from_torch(ours, theirs):
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict(state)


def _compare_grads(ours, theirs):
    for (k, p), (k2, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == k2
        assert_close(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize("kwargs,shape", [
    ({}, (5, 2, 3)),
    ({"num_layers": 2, "batch_first": True}, (2, 5, 3)),
    ({"num_layers": 2, "bias": False}, (4, 3)),
])
def test_lstm_equals_torch(torch, rng, kwargs, shape):
    theirs = torch.nn.LSTM(3, 4, **kwargs).double()
    ours = mt.nn.LSTM(3, 4, **kwargs)
    _copy_from_torch(ours, theirs)
    ours = ours.double()
    x = rng.normal(size=shape)
    state_shape = (kwargs.get("num_layers", 1),) + ((2,) if len(shape) == 3 else ()) + (4,)
    h0, c0 = rng.normal(size=state_shape), rng.normal(size=state_shape)
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mo, (mh, mc) = ours(mx, (mt.tensor(h0), mt.tensor(c0)))
    to, (th, tc) = theirs(tx, (torch.tensor(h0), torch.tensor(c0)))
    for a, b in ((mo, to), (mh, th), (mc, tc)):
        assert_close(a, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    (mo.sum() + 2 * mh.sum() + 3 * mc.sum()).backward()
    (to.sum() + 2 * th.sum() + 3 * tc.sum()).backward()
    assert_close(mx.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    _compare_grads(ours, theirs)


@pytest.mark.oracle
def test_lstm_cell_and_embedding_equal_torch(torch, rng):
    theirs, ours = torch.nn.LSTMCell(3, 4).double(), mt.nn.LSTMCell(3, 4).double()
    _copy_from_torch(ours, theirs)
    x = rng.normal(size=(2, 3))
    mh, mc = ours(mt.tensor(x))
    th, tc = theirs(torch.tensor(x))
    assert_close(mh, th.detach().numpy(), rtol=1e-10)
    (mh.sum() + mc.sum()).backward()
    (th.sum() + tc.sum()).backward()
    _compare_grads(ours, theirs)
    t_emb, m_emb = torch.nn.Embedding(6, 3, padding_idx=1).double(), mt.nn.Embedding(6, 3, 1)
    _copy_from_torch(m_emb, t_emb)
    idx = np.array([[1, 2, 5], [2, 2, 0]])
    m_out, t_out = m_emb.double()(mt.tensor(idx)), t_emb(torch.tensor(idx))
    assert_close(m_out, t_out.detach().numpy())
    (m_out ** 2).sum().backward()
    (t_out ** 2).sum().backward()
    assert_close(m_emb.weight.grad, t_emb.weight.grad.numpy(), rtol=1e-12)


def _graph_nodes(t):
    seen, stack = set(), [t._ctx]
    while stack:
        node = stack.pop()
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            stack.extend(i._ctx for i in node.inputs if i is not None)
    return len(seen)


def test_graph_size_does_not_grow_with_sequence_length():
    lstm = mt.nn.LSTM(3, 4, num_layers=2)
    sizes = [_graph_nodes(lstm(mt.randn(steps, 2, 3))[0].sum()) for steps in (2, 100)]
    assert sizes[0] == sizes[1] <= 8
