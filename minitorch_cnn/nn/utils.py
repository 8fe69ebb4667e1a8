"""``mt.nn.utils``: gradient clipping and flat parameter vectors (``torch.nn.utils``'s), and fuse.

``clip_grad_norm_`` rescales all gradients together so that their joint norm is at most
``max_norm`` (Pascanu, Mikolov and Bengio, "On the difficulty of training recurrent neural
networks", 2013: clipping the norm, not each value, keeps the direction of the step);
``clip_grad_value_`` clamps each gradient value; ``parameters_to_vector`` and
``vector_to_parameters`` flatten parameters into one vector and back (for second-order methods,
weight averaging, or comparing two models' weights); ``fuse`` folds batch norm into the
convolution before it for inference (``fusion.py``).
"""
import math

import numpy as np

from .. import backend
from ..ops.functions import cat
from ..tensor import Tensor


def _as_list(parameters, where):
    if isinstance(parameters, Tensor):
        return [parameters]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(f"{where}: expected a tensor or an iterable of tensors, got "
                        f"{type(parameters).__name__}") from None
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: expected tensors, got a {type(p).__name__}")
    return params


def _norm(xp, a, norm_type):
    """The ``norm_type``-norm of the array ``a`` flattened (as ``torch.linalg.vector_norm``)."""
    a = xp.abs(a.reshape(-1))
    if a.size == 0:
        return xp.zeros((), a.dtype) if norm_type != -math.inf else xp.array(math.inf, a.dtype)
    if norm_type == math.inf:
        return a.max()
    if norm_type == -math.inf:
        return a.min()
    if norm_type == 0:
        return (a != 0).sum().astype(a.dtype)
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        return xp.sqrt((a * a).sum())
    return (a ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients of ``parameters`` in place so that their total norm (the norm of the
    norms of each gradient, i.e. of all gradients concatenated) is at most ``max_norm``; return
    that total norm, measured before clipping, as a 0-d tensor.

    Each gradient is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``. ``norm_type`` is
    a real ``p`` or ``inf``. ``error_if_nonfinite=True`` raises a ``RuntimeError`` instead of
    scaling by a NaN or infinite norm. Parameters without ``.grad`` are skipped (no gradients
    at all: the norm is 0). ``foreach`` is accepted for PyTorch compatibility and ignored.
    """
    del foreach  # (PyTorch's choice of a multi-tensor kernel; one code path here)
    params = _as_list(parameters, "clip_grad_norm_")
    norm_type, max_norm = float(norm_type), float(max_norm)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    device = grads[0].device
    xp = device.xp
    norms = [backend.to_device_array(_norm(g.device.xp, g.data, norm_type), device)
             for g in grads]
    dtype = np.result_type(*[n.dtype for n in norms])
    total = _norm(xp, xp.stack([n.astype(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           "gradients is non-finite, so it cannot be clipped. To scale the "
                           "gradients by the non-finite norm anyway, set "
                           "error_if_nonfinite=False")
    coef = xp.minimum(xp.asarray(max_norm, dtype) / (total + dtype.type(1e-6)), dtype.type(1))
    with np.errstate(invalid="ignore"):  # an infinite value times 0 is NaN, as in PyTorch
        for g in grads:
            g.data *= backend.to_device_array(coef, g.device).astype(g.data.dtype)
    return Tensor._wrap(total, device)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient value of ``parameters`` in place to
    ``[-clip_value, clip_value]``. ``foreach`` is accepted and ignored."""
    del foreach
    clip_value = float(clip_value)
    for p in _as_list(parameters, "clip_grad_value_"):
        if p.grad is not None:
            xp = p.grad.device.xp
            xp.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters):
    """All of ``parameters`` flattened and concatenated into one 1-d tensor (differentiable,
    like PyTorch's: gradients flow back to each parameter)."""
    params = _as_list(parameters, "parameters_to_vector")
    _same_device(params, "parameters_to_vector")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Set ``parameters`` to consecutive slices of the 1-d tensor ``vec`` (as in PyTorch, each
    parameter's ``.data`` becomes a view of ``vec``'s memory)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got: "
                        f"{type(vec).__name__}")
    params = _as_list(parameters, "vector_to_parameters")
    _same_device(params, "vector_to_parameters")
    if params and vec.device != params[0].device:
        raise ValueError(f"vector_to_parameters: vec is on {vec.device}, the parameters on "
                         f"{params[0].device}")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector of {total} values "
                         f"(the parameters' total), got shape {tuple(vec.shape)}")
    flat, start = vec.data, 0
    for p in params:
        n = p.numel()
        p.data = flat[start:start + n].reshape(p.shape)
        start += n


def _same_device(params, where):
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise ValueError(f"{where}: the parameters are on different devices: "
                         + ", ".join(sorted(str(d) for d in devices)))


from .fusion import fuse  # noqa: E402  (inference: batch norm folded into its convolution)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "fuse", "parameters_to_vector",
           "vector_to_parameters"]
