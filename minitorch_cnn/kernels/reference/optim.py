"""Optimizer updates in plain NumPy (or CuPy): the oracle of the fused kernels.

Each function updates its arrays in place (any shape, any layout) and returns None; the
floating-point operations come in the order the fused kernels keep, each rounded to the
arrays' dtype (Python scalars are cast to it, as NumPy does).
"""
import math

from ..array_module import array_module


def sgd_update(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
    """One SGD step (PyTorch's rule): g <- -g if maximize; g <- g + weight_decay w;
    buf <- g on the first step, else momentum buf + (1 - dampening) g (if momentum != 0);
    g <- g + momentum buf if nesterov else buf; w <- w - lr g. ``buf`` may be None when
    momentum is 0."""
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * w
    if momentum != 0:
        if first:
            buf[...] = g
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    w -= lr * g


def adam_update(w, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
                step):
    """One Adam (``decoupled``: AdamW) step at the 1-based ``step``: g <- -g if maximize;
    w <- w (1 - lr weight_decay) if decoupled, else g <- g + weight_decay w;
    m <- beta1 m + (1 - beta1) g; v <- beta2 v + (1 - beta2) g^2;
    vmax <- max(vmax, v), v <- vmax (amsgrad: ``vmax`` not None);
    w <- w - lr / (1 - beta1^step) m / (sqrt(v) / sqrt(1 - beta2^step) + eps)."""
    xp = array_module(w)
    g = -g if maximize else g
    if decoupled:
        w *= 1 - lr * weight_decay
    elif weight_decay != 0:
        g = g + weight_decay * w
    m *= beta1
    m += g * (1 - beta1)
    v *= beta2
    v += g * (1 - beta2) * g
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    den = xp.sqrt(v) / math.sqrt(1 - beta2 ** step) + eps
    w -= m * (lr / (1 - beta1 ** step)) / den


# --- shared by the fused kernels (cpu/optim.py, cuda/optim.py) ---------------------------------

def flat_views(*arrays):
    """Flat views of the arrays (None: an empty array) for a fused kernel, or None if one is not
    C-contiguous (its flat view would be a copy, and the update would be lost)."""
    if any(a is not None and not a.flags.c_contiguous for a in arrays):
        return None
    empty = array_module(arrays[0]).empty(0, arrays[0].dtype)
    return [empty if a is None else a.reshape(-1) for a in arrays]


def sgd_scalars(dtype, lr, momentum, dampening, weight_decay):
    """A fused SGD kernel's scalars in the arrays' dtype, as NumPy casts Python scalars:
    lr, momentum, 1 - dampening, weight_decay."""
    s = dtype.type
    return s(lr), s(momentum), s(1 - dampening), s(weight_decay)


def adam_scalars(dtype, lr, beta1, beta2, eps, weight_decay, step):
    """A fused Adam kernel's scalars in the arrays' dtype, the bias corrections computed in
    float64 first: lr / (1 - beta1^step), beta1, beta2, 1 - beta1, 1 - beta2, eps,
    sqrt(1 - beta2^step), 1 - lr weight_decay, weight_decay."""
    s = dtype.type
    return (s(lr / (1 - beta1 ** step)), s(beta1), s(beta2), s(1 - beta1), s(1 - beta2), s(eps),
            s(math.sqrt(1 - beta2 ** step)), s(1 - lr * weight_decay), s(weight_decay))
