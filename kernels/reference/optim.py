"""Optimizer updates in plain NumPy (or CuPy): the oracle of the fused kernels.

Each function updates its arrays in place (any shape, any layout) and returns None; the
floating-point operations come in the order the fused kernels keep, each rounded to the
arrays' dtype (Python scalars are cast to it, as NumPy does).
"""
import math

from minitorch_cnn import backend


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
    xp = backend.xp(w)
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
