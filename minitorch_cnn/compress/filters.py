"""Structured filter pruning (Li, Kadav, Durdanovic, Samet & Graf, "Pruning filters for
efficient ConvNets", ICLR 2017): remove whole filters, those of smallest L1 norm, and with them
the matching channels of the next layers, so the result is a smaller *dense* model: fewer
parameters and multiply-adds with no sparse bookkeeping (Li et al.: VGG-16 on CIFAR-10 -34%
FLOPs, ResNet-110 -38%, with the accuracy regained by retraining).

Where the channels go is read off the model's structure:

- chain models (LeNet-5, AlexNet, VGG, ...: their leaf layers in definition order are their
  order of execution): every conv but the last loses filters; a BatchNorm2d after it loses the
  same channels, and the next conv its input channels, or, after the flatten, the next Linear
  the columns of those channels;
- ResNets: inside each residual block only (``BasicBlock``'s conv1, ``Bottleneck``'s conv1 and
  conv2, with their BNs), so the block's output, added to its shortcut, keeps its width.
"""
import copy

import numpy as np

from .. import backend, nn
from ..models.resnet import BasicBlock, Bottleneck
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .prune import _check_amount

_PASS = (nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.ELU, nn.Sigmoid, nn.Tanh, nn.MaxPool2d,
         nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Dropout, nn.Dropout2d,
         nn.LocalResponseNorm, nn.Flatten, nn.Identity)


def _array(t):
    return backend.to_numpy(t.data)


def _set(module, name, array):
    old = getattr(module, name)
    data = backend.to_device_array(np.ascontiguousarray(array), old.device)
    if isinstance(old, Parameter):
        setattr(module, name, Parameter(Tensor._wrap(data, old.device)))
    else:
        old.data = data


def _keep(conv, amount, blocks):
    """Indices of the filters of ``conv`` kept: the largest L1 norms, the same number in each
    of ``blocks`` equal blocks (the channel groups of grouped convs), in their order."""
    w = _array(conv.weight)
    n = w.shape[0]
    size = n // blocks
    n_keep = max(1, size - int(round(amount * size)))
    norms = np.abs(w.reshape(n, -1)).sum(axis=1).reshape(blocks, size)
    keep = [b * size + np.sort(np.argsort(-norms[b], kind="stable")[:n_keep])
            for b in range(blocks)]
    return np.concatenate(keep)


def _cut_outputs(conv, keep):
    _set(conv, "weight", _array(conv.weight)[keep])
    if conv.bias is not None:
        _set(conv, "bias", _array(conv.bias)[keep])
    conv.out_channels = len(keep)


def _cut_bn(bn, keep):
    for name in ("weight", "bias", "running_mean", "running_var"):
        if getattr(bn, name, None) is not None:
            _set(bn, name, _array(getattr(bn, name))[keep])
    bn.num_features = len(keep)


def _cut_inputs(layer, keep, channels):
    if isinstance(layer, nn.Conv2d):  # a group's filters see only their group's inputs
        g, w = layer.groups, _array(layer.weight)
        rows, width = layer.out_channels // g, channels // g
        parts = [w[i * rows:(i + 1) * rows][:, keep[(keep >= i * width)
                                                    & (keep < (i + 1) * width)] - i * width]
                 for i in range(g)]
        _set(layer, "weight", np.concatenate(parts))
        layer.in_channels = len(keep)
    else:  # Linear after the flatten: each channel is a block of in_features / channels columns
        per = layer.in_features // channels
        columns = (keep[:, None] * per + np.arange(per)).reshape(-1)
        _set(layer, "weight", _array(layer.weight)[:, columns])
        layer.in_features = len(columns)


def _chain(model):
    """The leaf layers of a chain model in order; a ValueError for any other structure."""
    leaves = [m for _, m in model.named_modules() if not m._modules]
    for m in leaves:
        if not isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear) + _PASS):
            raise ValueError(f"prune_filters: {type(model).__name__} is not a chain of layers "
                             f"it can follow ({type(m).__name__} in it); supported: LeNet-5, "
                             "AlexNet, VGG (chains of conv / BN / pool / linear) and ResNet")
    return leaves


def _prune_pair(conv, bn, consumer, amount):
    groups = consumer.groups if isinstance(consumer, nn.Conv2d) else 1
    keep = _keep(conv, amount, int(np.lcm(conv.groups, groups)))
    channels = conv.out_channels
    _cut_outputs(conv, keep)
    if bn is not None:
        _cut_bn(bn, keep)
    _cut_inputs(consumer, keep, channels)


def prune_filters(model, amount):
    """A smaller dense copy of ``model`` with the fraction ``amount`` (in [0, 1)) of the
    filters of each prunable conv removed by L1 norm (at least one kept), and the matching
    channels of the following BN and conv / linear layers. ``model`` is not changed; the copy
    has no ``model_spec`` (the registry cannot rebuild its shapes) but a ``base_spec``, the
    ``model_spec`` of the model it was cut from: ``compress.save`` stores that, and
    ``compress.load`` builds it and cuts its layers to the stored shapes (``fit_shapes``)."""
    amount = _check_amount("prune_filters", amount)
    pruned = copy.deepcopy(model)
    blocks = [m for m in pruned.modules() if isinstance(m, (BasicBlock, Bottleneck))]
    if blocks:
        for b in blocks:
            if isinstance(b, BasicBlock):
                _prune_pair(b.conv1, b.bn1, b.conv2, amount)
            else:
                _prune_pair(b.conv1, b.bn1, b.conv2, amount)
                _prune_pair(b.conv2, b.bn2, b.conv3, amount)
    else:
        leaves = _chain(pruned)
        convs = [i for i, m in enumerate(leaves) if isinstance(m, nn.Conv2d)]
        done = 0
        for i in convs:
            nxt = next((j for j in range(i + 1, len(leaves))
                        if isinstance(leaves[j], (nn.Conv2d, nn.Linear))), None)
            if nxt is None:
                continue
            between = leaves[i + 1:nxt]
            bns = [m for m in between if isinstance(m, nn.BatchNorm2d)]
            _prune_pair(leaves[i], bns[0] if bns else None, leaves[nxt], amount)
            done += 1
        if not done:
            raise ValueError(f"prune_filters: {type(model).__name__} has no conv layer "
                             "followed by another conv or linear layer to prune")
    spec = pruned.__dict__.pop("model_spec", None) or getattr(model, "base_spec", None)
    if spec:
        pruned.base_spec = spec
    return pruned


def fit_shapes(model, shapes):
    """Cut the conv / BN / linear layers of ``model`` (as the registry builds it) to the tensor
    ``shapes`` (state name -> shape) of a filter-pruned copy, so that copy's state loads into
    it; the tensors that change are zeros until then."""
    for prefix, m in model.named_modules():
        for name in list(m._parameters) + list(m._buffers):
            full, t = f"{prefix}.{name}" if prefix else name, getattr(m, name)
            shape = tuple(shapes.get(full, ()))
            if t is None or full not in shapes or tuple(t.shape) == shape:
                continue
            _set(m, name, np.zeros(shape, _array(t).dtype))
            if name != "weight":
                continue
            if isinstance(m, nn.Conv2d):
                m.out_channels, m.in_channels = shape[0], shape[1] * m.groups
            elif isinstance(m, nn.Linear):
                m.out_features, m.in_features = shape
            elif isinstance(m, nn.BatchNorm2d):
                m.num_features = shape[0]
