"""Unstructured magnitude pruning (Han, Pool, Tran & Dally, "Learning both weights and
connections for efficient neural networks", NIPS 2015; step one of Deep Compression): the
smallest weights of each layer are removed, the network is retrained with them held at zero.

Han et al. prune LeNet-5 to 8% of its weights (12x fewer) and AlexNet to 11% (9x) with no loss
of accuracy, choosing each layer's threshold from a sensitivity scan (``sensitivity``).
"""
import numbers

import numpy as np

from .. import backend
from ..autograd import no_grad
from . import reparam


def _check_amount(where, amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"{where}: amount must be a float in [0, 1), got {amount!r}")
    if not 0.0 <= float(amount) < 1.0:
        raise ValueError(f"{where}: amount must be in [0, 1) (the fraction of weights "
                         f"removed), got {amount!r}")
    return float(amount)


def _select(model, layers, where):
    """{parameter name: layer} of the weights to prune (``layers``: module or parameter names,
    default every conv and linear layer)."""
    found = {f"{name}.weight" if name else "weight": m for name, m in reparam.weight_layers(model)}
    if not found:
        raise ValueError(f"{where}: {type(model).__name__} has no Conv2d, ConvTranspose2d or "
                         f"Linear weight to prune")
    if layers is None:
        return found
    chosen = {}
    for name in layers:
        key = name if name in found else f"{name}.weight"
        if key not in found:
            raise ValueError(f"{where}: no prunable layer {name!r}; prunable weights: "
                             f"{', '.join(found)}")
        chosen[key] = found[key]
    return chosen


def prune_magnitude(model, amount, layers=None):
    """Remove the fraction ``amount`` of smallest-magnitude weights of every chosen layer.

    ``amount``: a float in [0, 1), or a dict {parameter name ("features.0.weight") or layer
    name: float} (layers not named are left as they are). ``layers``: names of the layers to
    prune (default: every Conv2d, ConvTranspose2d and Linear). Pruning again removes more: the
    fraction counts from the whole layer and already-pruned weights stay pruned.

    The pruned weights are set to zero and stay so through training (see ``reparam``), until
    ``remove_masks`` makes them permanent. Returns {parameter name: keep-mask (bool array)}.
    """
    where = "prune_magnitude"
    targets = _select(model, layers, where)
    if isinstance(amount, dict):
        known = {k[:-len(".weight")] if k.endswith(".weight") else k: k for k in targets}
        amounts = {}
        for name, value in amount.items():
            key = name if name in targets else known.get(name)
            if key is None:
                raise ValueError(f"{where}: amount names {name!r}, which is not a prunable "
                                 f"weight; prunable weights: {', '.join(targets)}")
            amounts[key] = _check_amount(f"{where}({name})", value)
    else:
        value = _check_amount(where, amount)
        amounts = {key: value for key in targets}
    masks = {}
    for key, fraction in amounts.items():
        layer = targets[key]
        if reparam.info(layer) is not None and reparam.info(layer)["indices"] is not None:
            raise ValueError(f"{where}: {key} is already weight-shared; prune before "
                             "share_weights")
        old = reparam.mask_of(layer)
        w = np.abs(backend.to_numpy(layer.weight.data)).reshape(-1)
        n_remove = int(round(fraction * w.size))
        # already-pruned weights go first, then the smallest magnitudes (stable on ties)
        order = np.lexsort((w, old.reshape(-1)))
        mask = np.ones(w.size, bool)
        mask[order[:n_remove]] = False
        mask = mask.reshape(old.shape) & old
        reparam.attach(layer, mask=mask)
        masks[key] = mask
    return masks


def remove_masks(model):
    """Make pruning (and weight sharing) permanent: each compressed layer's effective weight
    becomes its plain trainable ``weight`` (pruned entries exactly 0) and the masks go."""
    for _, layer in reparam.weight_layers(model):
        reparam.remove(layer)
    return model


def sensitivity(model, loader, amounts):
    """The per-layer sensitivity scan of Han et al. (2015, figure 5): for each prunable layer
    alone and each fraction in ``amounts``, the accuracy on ``loader`` after pruning that layer
    by that fraction (no retraining). The model is left as it was.

    Returns {parameter name: [(amount, accuracy), ...]}.
    """
    amounts = [_check_amount("sensitivity", a) for a in amounts]
    targets = _select(model, None, "sensitivity")
    was_training = model.training
    model.eval()
    result = {}
    try:
        for key, layer in targets.items():
            saved = layer.weight.data.copy()
            keep = reparam.mask_of(layer)
            curve = []
            for a in amounts:
                w = np.abs(backend.to_numpy(saved)).reshape(-1)
                order = np.lexsort((w, keep.reshape(-1)))
                mask = np.ones(w.size, bool)
                mask[order[:int(round(a * w.size))]] = False
                mask = mask.reshape(saved.shape) & keep
                xp = backend.xp(saved)
                layer.weight.data[...] = saved * xp.asarray(mask, saved.dtype)
                curve.append((a, _accuracy(model, loader)))
            layer.weight.data[...] = saved
            result[key] = curve
    finally:
        model.train(was_training)
    return result


def _accuracy(model, loader):
    device = next(iter(model.parameters())).device
    correct = total = 0
    with no_grad():
        for x, y in loader:
            logits = model(x.to(device))
            pred = backend.to_numpy(logits.data).argmax(axis=1)
            labels = backend.to_numpy(y.data if hasattr(y, "data") else y)
            correct += int((pred == labels).sum())
            total += len(labels)
    return correct / max(total, 1)
