"""Inference fusion: batch normalization folded into the convolution that feeds it, and the
ReLU / ReLU6 that follows fused into the convolution's output pass.

In eval mode a batch norm is an affine map per channel, ``y = (x - mean) * s + beta`` with
``s = gamma / sqrt(var + eps)`` from its running statistics, so after a convolution it can be
folded into the convolution's weights and bias (Jacob et al. 2018, Sec. 3.2; what ONNX Runtime
and torch.ao's ``fuse_modules`` do): ``w' = w * s`` per output channel, ``b' = (b - mean) * s +
beta``. The fused network computes the same function with one pass over the activations fewer
per pair. Which batch norm reads which convolution is found by running the network once and
following the graph, not by guessing from module names: a pair is folded only when the
convolution's output goes to that batch norm and nowhere else. Then an activation module that
reads only such a convolution's output (through the folded batch norm or directly) is folded
into it too: the convolution applies it to each output chunk while in cache (``Conv2d
.activation``, ``ops.conv.conv2d_activation``) and the module becomes ``nn.Identity``. A module
called more than once (ResNet's one ``self.relu`` per block, for three uses) is left as it is.
"""
import copy

import numpy as np

from ..autograd import enable_grad, no_grad
from ..tensor import Tensor
from .activation import ReLU, ReLU6
from .conv import Conv2d
from .linear import Identity
from .normalization import BatchNorm2d
from .parameter import Parameter


def fuse(model, example_input, rtol=1e-4, atol=1e-5):
    """A copy of ``model`` in eval mode with every foldable Conv2d -> BatchNorm2d pair folded
    (the BatchNorm2d becomes ``nn.Identity``) and every Conv2d -> ReLU / ReLU6 pair fused;
    ``model`` itself is not changed.

    ``example_input``: one input the model accepts (a Tensor), used to find the pairs and to
    check that the fused copy gives the model's eval-mode output within ``atol`` + ``rtol``
    times its largest magnitude (a ValueError if it does not: float32 rounding moves every
    output by about the same amount, not in proportion to each). Returns the fused copy;
    ``fused.fused_pairs`` lists the (conv name, batch-norm name) pairs folded,
    ``fused.fused_activations`` the (conv name, activation name) pairs fused.
    """
    if not isinstance(example_input, Tensor):
        raise TypeError(f"fuse: example_input must be a Tensor, got "
                        f"{type(example_input).__name__}")
    fused = copy.deepcopy(model).eval()
    with no_grad():
        expected = fused(example_input).numpy()
    names = {id(m): name for name, m in fused.named_modules()}
    pairs = _pairs(fused, example_input, (BatchNorm2d,))
    pairs = [(conv, bn) for conv, bn in pairs if bn.running_mean is not None]
    for conv, bn in pairs:
        _fold(conv, bn)
        _replace(fused, names[id(bn)], Identity())
    activations = _pairs(fused, example_input, (ReLU, ReLU6))
    for conv, act in activations:
        conv.activation = "relu" if isinstance(act, ReLU) else "relu6"
        _replace(fused, names[id(act)], Identity())
    with no_grad():
        got = fused(example_input).numpy()
    error = float(np.abs(got - expected).max(initial=0.0))
    if not error <= atol + rtol * float(np.abs(expected).max(initial=0.0)):
        raise ValueError(f"fuse: the fused {type(model).__name__} differs from the original "
                         f"by {error:.3g} on the example input (largest output "
                         f"{np.abs(expected).max(initial=0.0):.3g})")
    fused.fused_pairs = [(names[id(c)], names[id(b)]) for c, b in pairs]
    fused.fused_activations = [(names[id(c)], names[id(a)]) for c, a in activations]
    return fused


def _pairs(model, x, consumer_types):
    """(conv, consumer) module pairs where the consumer (of one of ``consumer_types``) reads
    only the conv's output, no other op reads it, and each module is called once: found by one
    forward pass that records the graph."""
    calls, outputs, inputs = {}, {}, {}

    def watch(module, forward, kind):
        def wrapper(*args, **kwargs):
            y = forward(*args, **kwargs)
            calls[id(module)] = calls.get(id(module), 0) + 1
            if kind == "conv":
                outputs[id(y)] = (module, y)  # the tensor kept alive: its id stays unique
            else:
                inputs[id(module)] = (module, args[0] if args else None)
            return y
        return wrapper

    watched = [m for m in model.modules() if type(m) in (Conv2d, *consumer_types)]
    for m in watched:
        kind = "conv" if isinstance(m, Conv2d) else "consumer"
        object.__setattr__(m, "forward", watch(m, m.forward, kind))
    probe = x.detach().requires_grad_(True) if x.dtype.kind == "f" else x
    try:
        with enable_grad():
            y = model(probe)
    finally:
        for m in watched:
            m.__dict__.pop("forward", None)
    uses = _uses(y)
    pairs = []
    for consumer, t in inputs.values():
        found = outputs.get(id(t)) if isinstance(t, Tensor) else None
        if found is None:
            continue
        conv = found[0]
        if (calls[id(conv)] == 1 and calls[id(consumer)] == 1 and uses.get(id(t), 0) == 1
                and getattr(conv, "activation", None) is None):
            pairs.append((conv, consumer))
    return pairs


def _uses(y):
    """How many ops of the graph behind ``y`` read each tensor (by id)."""
    outs = y if isinstance(y, (tuple, list)) else (y,)
    stack = [t._ctx for t in outs if isinstance(t, Tensor) and t._ctx is not None]
    seen, uses = set(), {}
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for t in node.inputs:
            if t is not None:
                uses[id(t)] = uses.get(id(t), 0) + 1
                if t._ctx is not None:
                    stack.append(t._ctx)
    return uses


def _fold(conv, bn):
    """Fold ``bn``'s eval-mode affine map into ``conv``'s weight and bias, in float64."""
    mean, var = bn.running_mean.numpy().astype(np.float64), bn.running_var.numpy()
    scale = 1.0 / np.sqrt(var.astype(np.float64) + bn.eps)
    shift = -mean * scale
    if bn.affine:
        gamma, beta = bn.weight.numpy().astype(np.float64), bn.bias.numpy().astype(np.float64)
        scale, shift = scale * gamma, shift * gamma + beta
    w = conv.weight.numpy().astype(np.float64)
    b = conv.bias.numpy().astype(np.float64) if conv.bias is not None else 0.0
    dtype, device = conv.weight.dtype, conv.weight.device
    conv.weight = Parameter(Tensor((w * scale[:, None, None, None]).astype(dtype),
                                   device=device))
    conv.bias = Parameter(Tensor((b * scale + shift).astype(dtype), device=device))


def _replace(model, name, module):
    parent = model
    *path, attr = name.split(".")
    for part in path:
        parent = parent._modules[part]
    parent._modules[attr] = module
