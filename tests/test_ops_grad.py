"""Every differentiable tensor op: forward against NumPy, backward by gradcheck in float64."""
import numpy as np
import pytest

import minitorch_cnn as mt
from helpers import assert_close, make


def positive(rng, *shape, device="cpu"):
    return make(rng, *shape, device=device, low=0.5, high=2.0)


# name, op on tensors, the same op in NumPy, input shapes, positive inputs only
ELEMENTWISE = [
    ("add", lambda a, b: a + b, np.add, [(3, 4), (3, 4)], False),
    ("add broadcast", lambda a, b: a + b, np.add, [(2, 3, 4), (4,)], False),
    ("add both broadcast", lambda a, b: a + b, np.add, [(3, 1), (1, 4)], False),
    ("sub", lambda a, b: a - b, np.subtract, [(2, 1, 4), (3, 1)], False),
    ("mul", lambda a, b: a * b, np.multiply, [(3, 4), (1, 4)], False),
    ("div", lambda a, b: a / b, np.divide, [(3, 4), (3, 1)], True),
    ("pow tensor", lambda a, b: a ** b, np.power, [(3, 4), (4,)], True),
    ("pow scalar", lambda a: a ** 3, lambda a: a ** 3, [(3, 4)], False),
    ("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(3, 4)], False),
    ("rsub", lambda a: 1.0 - a, lambda a: 1.0 - a, [(3,)], False),
    ("rdiv", lambda a: 1.0 / a, lambda a: 1.0 / a, [(3,)], True),
    ("neg", lambda a: -a, np.negative, [(3, 4)], False),
    ("exp", mt.exp, np.exp, [(3, 4)], False),
    ("log", mt.log, np.log, [(3, 4)], True),
    ("sqrt", mt.sqrt, np.sqrt, [(3, 4)], True),
    ("abs", mt.abs, np.abs, [(3, 4)], False),
    ("clip", lambda a: mt.clip(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), [(4, 5)], False),
    ("clip min only", lambda a: a.clip(min=0.0), lambda a: np.clip(a, 0.0, None), [(4, 5)], False),
    ("maximum", mt.maximum, np.maximum, [(3, 4), (4,)], False),
    ("minimum", mt.minimum, np.minimum, [(3, 1), (3, 4)], False),
    ("maximum scalar", lambda a: mt.maximum(a, 0.0), lambda a: np.maximum(a, 0.0), [(5,)], False),
    ("matmul", mt.matmul, np.matmul, [(3, 4), (4, 5)], False),
    ("matmul vector", lambda a, b: a @ b, np.matmul, [(4,), (4, 2)], False),
    ("matmul vector right", lambda a, b: a @ b, np.matmul, [(3, 4), (4,)], False),
    ("matmul batch broadcast", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (4, 2)], False),
    ("matmul batch both", lambda a, b: a @ b, np.matmul, [(2, 1, 3, 4), (3, 4, 2)], False),
]


@pytest.mark.parametrize("name,op,ref,shapes,pos", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_elementwise_and_matmul(name, op, ref, shapes, pos, rng, device):
    inputs = [(positive if pos else make)(rng, *s, device=device) for s in shapes]
    assert_close(op(*inputs), ref(*(t.numpy() for t in inputs)), rtol=1e-12)
    assert mt.gradcheck(op, inputs)


def test_where(rng, device):
    a, b = make(rng, 3, 4, device=device), make(rng, 4, device=device)
    cond = mt.tensor(rng.uniform(size=(3, 4)) > 0.5, device=device)
    assert_close(mt.where(cond, a, b), np.where(cond.numpy(), a.numpy(), b.numpy()))
    assert mt.gradcheck(lambda a, b: mt.where(cond, a, b), (a, b))


def test_ties_split_the_gradient():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([1.0, 3.0], requires_grad=True)
    mt.maximum(a, b).sum().backward()
    assert_close(a.grad, [0.5, 0.0])
    assert_close(b.grad, [0.5, 1.0])


REDUCTIONS = [
    ("sum all", lambda x: x.sum(), lambda x: x.sum()),
    ("sum axis", lambda x: x.sum(axis=1), lambda x: x.sum(1)),
    ("sum dim keepdim", lambda x: x.sum(dim=(0, 2), keepdim=True),
     lambda x: x.sum((0, 2), keepdims=True)),
    ("mean", lambda x: x.mean(axis=-1), lambda x: x.mean(-1)),
    ("mean all keepdims", lambda x: x.mean(keepdims=True), lambda x: x.mean(keepdims=True)),
    ("max axis", lambda x: x.max(axis=1).values, lambda x: x.max(1)),
    ("amax dims", lambda x: x.amax((0, 2)), lambda x: x.max((0, 2))),
    ("max all", lambda x: x.max(), lambda x: x.max()),
    ("min keepdims", lambda x: x.min(axis=0, keepdims=True).values,
     lambda x: x.min(0, keepdims=True)),
    ("var", lambda x: x.var(axis=2), lambda x: x.var(2)),
    ("var ddof", lambda x: x.var(dim=1, ddof=1), lambda x: x.var(1, ddof=1)),
    ("var all", lambda x: x.var(), lambda x: x.var()),
]


@pytest.mark.parametrize("name,op,ref", REDUCTIONS, ids=[c[0] for c in REDUCTIONS])
def test_reductions(name, op, ref, rng, device):
    x = make(rng, 2, 3, 4, device=device)
    assert_close(op(x), ref(x.numpy()), rtol=1e-12)
    assert mt.gradcheck(op, x)


def test_amax_ties_share_the_gradient():
    x = mt.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.amax(dim=1).sum().backward()
    assert_close(x.grad, [[0.0, 0.5, 0.5]])


SHAPE_OPS = [
    ("reshape", lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
    ("reshape -1", lambda x: x.reshape((-1, 3)), lambda x: x.reshape(-1, 3)),
    ("view", lambda x: x.view(24), lambda x: x.reshape(24)),
    ("flatten", lambda x: x.flatten(1), lambda x: x.reshape(2, 12)),
    ("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
    ("transpose", lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2)),
    ("unsqueeze squeeze", lambda x: x.unsqueeze(1).squeeze(1), lambda x: x),
    ("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x[..., None]),
    ("expand", lambda x: x[:, :1].expand(2, 5, 4), lambda x: np.broadcast_to(x[:, :1], (2, 5, 4))),
    ("pad", lambda x: x.pad(((0, 0), (1, 2), (0, 1)), value=0.5),
     lambda x: np.pad(x, ((0, 0), (1, 2), (0, 1)), constant_values=0.5)),
    ("slice", lambda x: x[1, ::2, 1:3], lambda x: x[1, ::2, 1:3]),
    ("negative step", lambda x: x[:, ::-1], lambda x: x[:, ::-1]),
    ("ellipsis None", lambda x: x[..., None, 0], lambda x: x[..., None, 0]),
    ("integer array", lambda x: x[:, [0, 2, 2, 1]], lambda x: x[:, [0, 2, 2, 1]]),
    ("two integer arrays", lambda x: x[[0, 1, 1], [2, 0, 2]], lambda x: x[[0, 1, 1], [2, 0, 2]]),
    ("boolean mask", lambda x: x[x.numpy() > 0], lambda x: x[x > 0]),
]


@pytest.mark.parametrize("name,op,ref", SHAPE_OPS, ids=[c[0] for c in SHAPE_OPS])
def test_shape_ops(name, op, ref, rng, device):
    x = make(rng, 2, 3, 4, device=device)
    assert_close(op(x), ref(x.numpy()), rtol=0)
    assert mt.gradcheck(op, x)


def test_repeated_integer_indices_sum_their_gradients(device):
    x = mt.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert_close(x.grad, [3.0, 0.0, 1.0])


def test_cat_stack_split(rng, device):
    a, b = make(rng, 2, 3, device=device), make(rng, 2, 1, device=device)
    assert_close(mt.cat([a, b], dim=1), np.concatenate([a.numpy(), b.numpy()], 1))
    assert mt.gradcheck(lambda a, b: mt.concat([a, b], axis=1), (a, b))
    c = make(rng, 2, 3, device=device)
    assert_close(mt.stack([a, c], dim=1), np.stack([a.numpy(), c.numpy()], 1))
    assert mt.gradcheck(lambda a, c: mt.stack([a, c], axis=-1), (a, c))
    x = make(rng, 5, 2, device=device)
    parts = x.split(2)
    assert [p.shape for p in parts] == [(2, 2), (2, 2), (1, 2)]
    assert [p.shape for p in mt.split(x, [1, 4])] == [(1, 2), (4, 2)]
    assert mt.gradcheck(lambda x: mt.split(x, 2)[2] * 3 + mt.split(x, 2)[0].sum(), x)


def test_functional_pad_counts_from_the_last_dimension(rng):
    x = make(rng, 1, 2, 3, 3)
    y = mt.nn.functional.pad(x, (1, 2, 0, 1))
    assert y.shape == (1, 2, 4, 6)
    assert mt.gradcheck(lambda x: mt.nn.functional.pad(x, (1, 2, 0, 1), value=1.0), x)


def test_linear_fused_op(rng, device):
    x, w, b = make(rng, 2, 3, 4, device=device), make(rng, 5, 4, device=device), \
        make(rng, 5, device=device)
    assert_close(mt.nn.functional.linear(x, w, b), x.numpy() @ w.numpy().T + b.numpy())
    assert mt.gradcheck(mt.nn.functional.linear, (x, w, b))
    assert mt.gradcheck(lambda x, w: mt.nn.functional.linear(x, w), (x, w))


def test_non_contiguous_inputs(rng):
    base = make(rng, 4, 6)
    x = base.detach()[:, ::2].T.requires_grad_()  # a strided, transposed view
    assert not x.data.flags.c_contiguous
    assert mt.gradcheck(lambda x: x @ (x.exp() * x).sum(0), x)


def test_float32_inputs_keep_float32(device):
    x = mt.randn(3, 4, device=device, requires_grad=True)
    y = (x * 2.0 + 1.0).exp().sum()
    assert x.dtype == mt.float32 and y.dtype == mt.float32
    y.backward()
    assert x.grad.dtype == mt.float32


def test_comparisons_carry_no_gradient(rng):
    x = make(rng, 3)
    for mask in (x > 0, x >= 0, x < 0, x <= 0, x == 0, x != 0):
        assert not mask.requires_grad and mask.dtype == mt.bool_
