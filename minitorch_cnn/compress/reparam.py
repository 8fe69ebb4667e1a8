"""Compressed weights of a layer: a pruning mask and a shared-weight codebook, applied in the
graph on every forward pass.

A layer (``Conv2d``, ``ConvTranspose2d``, ``Linear``: anything with a ``weight``) that pruning
or weight sharing touches gets an instance ``forward`` that computes its *effective* weight

    pruned only:    w_eff = weight * mask
    shared:         w_eff = weight_centroids[indices] * mask

as a recorded expression and runs the layer's own ``forward`` on it. So

- the gradient of a pruned weight is exactly ``grad * 0 = 0``. A pruned weight starts at 0, and
  every optimizer of ``mt.optim`` started after pruning then leaves it at 0 (momentum buffers and
  Adam / RMSprop moments stay 0 where the gradient is 0; weight decay adds ``lambda * 0``); and
  whatever the stored weight holds, the layer computes with ``weight * mask``.
- the gradient of a centroid is the sum of the gradients of the weights that share it (the
  backward of the gather ``centroids[indices]`` scatter-adds), as Deep Compression trains them.
  The dense ``weight`` of a shared layer stops requiring grad; it is kept equal to ``w_eff``
  after every forward, so ``layer.weight`` still reads the weights in use.

Masks and indices live in the layer (``layer._compress``), not in its ``state_dict``;
``remove`` writes ``w_eff`` into ``weight`` and makes the layer plain again.
"""
import numpy as np

from .. import backend
from ..autograd import no_grad
from ..nn import Conv2d, ConvTranspose2d, Linear
from ..nn.parameter import Parameter
from ..tensor import Tensor

WEIGHT_LAYERS = (Conv2d, ConvTranspose2d, Linear)


def weight_layers(model):
    """(name, layer) of every layer with a compressible weight, in ``named_modules`` order."""
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, WEIGHT_LAYERS) and m.weight is not None]


def is_conv(layer):
    return isinstance(layer, (Conv2d, ConvTranspose2d))


def info(layer):
    """The layer's compression state ({"mask", "indices"}, host arrays) or None."""
    return layer.__dict__.get("_compress")


def mask_of(layer):
    """The layer's keep-mask (bool, weight's shape): all True if it was never pruned."""
    state = info(layer)
    if state is None:
        return np.ones(layer.weight.shape, bool)
    return state["mask"]


def attach(layer, mask=None, centroids=None, indices=None):
    """Give ``layer`` a mask and/or a codebook (``centroids`` float array, ``indices`` int
    array of the weight's shape) and the forward that applies them."""
    state = info(layer)
    if state is None:
        state = {"mask": np.ones(layer.weight.shape, bool), "indices": None, "cache": {}}
        object.__setattr__(layer, "_compress", state)
        object.__setattr__(layer, "forward", _masked_forward.__get__(layer))
    if mask is not None:
        state["mask"] = np.asarray(mask, bool)
    if centroids is not None:
        state["indices"] = np.asarray(indices, np.int64)
        data = backend.to_device_array(np.asarray(centroids, layer.weight.dtype),
                                       layer.weight.device)
        layer.weight_centroids = Parameter(Tensor._wrap(data, layer.weight.device))
        layer.weight.requires_grad = False
        layer.weight.grad = None
    state["cache"] = {}
    with no_grad():
        layer.weight.data[...] = effective(layer).data


def remove(layer):
    """Make the effective weight the layer's plain, trainable ``weight`` again."""
    if info(layer) is None:
        return
    with no_grad():
        w = effective(layer).data.copy()
    shared = "weight_centroids" in layer._parameters
    object.__delattr__(layer, "_compress")
    object.__delattr__(layer, "forward")
    if shared:
        del layer.weight_centroids
    layer.weight.data[...] = w
    layer.weight.requires_grad = True


def _device_array(layer, key, array, dtype):
    """``array`` on the weight's device (cached until the layer moves or changes)."""
    cache = info(layer)["cache"]
    device = layer.weight.device
    found = cache.get(key)
    if found is None or found[0] != device:
        found = (device, backend.to_device_array(np.ascontiguousarray(array, dtype), device))
        cache[key] = found
    return found[1]


def effective(layer):
    """w_eff as a recorded Tensor expression."""
    state, weight = info(layer), layer.weight
    mask = Tensor._wrap(_device_array(layer, "mask", state["mask"], weight.dtype), weight.device)
    if state["indices"] is None:
        return weight * mask
    indices = _device_array(layer, "indices", state["indices"], np.int64)
    return layer.weight_centroids[indices] * mask


def _masked_forward(self, *args, **kwargs):
    """The layer's own forward with ``weight`` read as w_eff."""
    w = effective(self)
    weight = self._parameters["weight"]
    if info(self)["indices"] is not None:
        weight.data[...] = w.data
    self._parameters["weight"] = w
    try:
        return type(self).forward(self, *args, **kwargs)
    finally:
        self._parameters["weight"] = weight
