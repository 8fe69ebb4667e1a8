"""Normalization, forward+backward: AlexNet's LRN (conv1's output), ResNet's batch norm in
training, layer norm and group norm on the same activation."""
import numpy as np

from ..harness import Case

LRN = (8, 96, 55, 55)
ACT = (32, 64, 56, 56)


def _array(shape):
    return np.random.default_rng(0).standard_normal(shape, dtype=np.float32)


def _affine(c):
    return np.ones(c, np.float32), np.zeros(c, np.float32)


def _ours(shape, make_op, c):
    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        x = mt.tensor(_array(shape), device=device, requires_grad=True)
        w, b = (mt.tensor(a, device=device, requires_grad=True) for a in _affine(c))
        op = make_op(F, mt, device)

        def step():
            op(x, w, b).sum().backward()
        return step
    return ours


def _theirs(shape, make_op, c):
    def theirs(torch):
        import torch.nn.functional as F
        x = torch.tensor(_array(shape), requires_grad=True)
        w, b = (torch.tensor(a, requires_grad=True) for a in _affine(c))
        op = make_op(F, torch, "cpu")

        def step():
            op(x, w, b).sum().backward()
        return step
    return theirs


def _lrn(F, lib, device):
    return lambda x, w, b: F.local_response_norm(x, 5, 1e-4, 0.75, 2.0)


def _bn(F, lib, device):
    rm, rv = lib.zeros(ACT[1], device=device), lib.ones(ACT[1], device=device)
    return lambda x, w, b: F.batch_norm(x, rm, rv, w, b, True, 0.1, 1e-5)


def _ln(F, lib, device):
    return lambda x, w, b: F.layer_norm(x, ACT[-1:], w, b)


def _gn(F, lib, device):
    return lambda x, w, b: F.group_norm(x, 32, w, b)


def _case(name, shape, make_op, c):
    return Case(name, "norm", 0, _ours(shape, make_op, c), _theirs(shape, make_op, c))


CASES = [
    _case(f"local_response_norm size 5 {LRN}", LRN, _lrn, LRN[1]),
    _case(f"batch_norm2d training {ACT}", ACT, _bn, ACT[1]),
    _case(f"layer_norm last dim {ACT}", ACT, _ln, ACT[-1]),
    _case(f"group_norm 32 groups {ACT}", ACT, _gn, ACT[1]),
]
