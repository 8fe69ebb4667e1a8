"""Differential testing against PyTorch in float64: run the same call on both engines, compare
the outputs and the gradients of a random projection of them, for the Hypothesis suites
(``tests/test_fuzz_*.py``) and the regression tests they produced."""
import numpy as np
import pytest

import minitorch_cnn as mt

RTOL, ATOL = 1e-8, 1e-10


def _to_mt(a, grad):
    if isinstance(a, np.ndarray):
        return mt.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return a


def _to_torch(torch, a, grad):
    if isinstance(a, np.ndarray):
        t = torch.tensor(a)
        return t.requires_grad_(True) if grad and a.dtype.kind == "f" else t
    return a


def _first(y):
    return y[0] if isinstance(y, (tuple, list)) else y


def compare(torch, ours, theirs, inputs, wrt=None, seed=0, rtol=RTOL, atol=ATOL,
            extra=None, may_reject=None):
    """``ours(*tensors)`` against ``theirs(*torch_tensors)`` for ``inputs`` (NumPy arrays are
    made tensors, other values passed as they are). Compares the output (the first of a tuple)
    and the gradients of sum(y * g), g random, for the float inputs listed in ``wrt`` (all by
    default). Where ours raises ValueError/TypeError, PyTorch must raise too. ``extra(ours,
    theirs)`` compares anything else (running statistics, indices); ``may_reject(theirs)``:
    whether PyTorch's output is one that ours deliberately refuses to give.
    Returns False where both raised (the case was not a legal call), else True."""
    wrt = set(range(len(inputs))) if wrt is None else set(wrt)
    mine = [_to_mt(a, i in wrt) for i, a in enumerate(inputs)]
    yours = [_to_torch(torch, a, i in wrt) for i, a in enumerate(inputs)]
    try:
        y = ours(*mine)
    except (ValueError, TypeError) as e:
        try:
            ty = theirs(*yours)
        except Exception:
            return False
        if may_reject is not None and may_reject(ty):
            return False
        pytest.fail(f"ours raised {type(e).__name__}: {e}; PyTorch accepts the call")
    try:
        ty = theirs(*yours)
    except (RuntimeError, ValueError, IndexError):
        return False  # not a legal PyTorch call: ours may accept more (GroupNorm of one value)
    if extra is not None:
        extra(y, ty)
    y, ty = _first(y), _first(ty)
    assert tuple(y.shape) == tuple(ty.shape), f"shape {y.shape}, PyTorch {tuple(ty.shape)}"
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="forward")
    floats = [i for i in sorted(wrt) if isinstance(inputs[i], np.ndarray)
              and inputs[i].dtype.kind == "f"]
    if not floats or not ty.requires_grad:
        return True
    g = np.random.default_rng(seed).standard_normal(tuple(ty.shape))
    (y * mt.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    for i in floats:
        mine_g = mine[i].grad
        mine_g = np.zeros(inputs[i].shape) if mine_g is None else mine_g.numpy()
        their_g = yours[i].grad
        their_g = np.zeros(inputs[i].shape) if their_g is None else their_g.numpy()
        np.testing.assert_allclose(mine_g, their_g, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")
    return True


def values(seed, *shape, low=-1.0, high=1.0):
    """Float64 values of ``shape`` from ``seed`` (Hypothesis draws the seed and shrinks the
    shapes and parameters; the values stay a function of them)."""
    return np.random.default_rng(seed).uniform(low, high, shape)
