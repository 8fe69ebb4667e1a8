"""RMSprop (Hinton's lecture 6e), as PyTorch computes it."""
from .. import backend
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""Divide the gradient by a running root-mean-square of its recent values.

    PyTorch's rule, with alpha the smoothing constant (the "decay"), v the mean square, and
    optionally a mean gradient m (``centered``) and a momentum buffer b::

        g <- g + lambda w
        v <- alpha v + (1 - alpha) g^2                      (v_0 = 0)
        m <- alpha m + (1 - alpha) g,   den = sqrt(v - m^2) + eps    if centered
                                        den = sqrt(v) + eps          otherwise
        b <- mu b + g / den,   w <- w - lr b                 if momentum > 0
        w <- w - lr g / den                                  otherwise

    Inception v3 (Szegedy et al. 2016, section 8) trained with "RMSProp with decay of 0.9 and
    eps = 1.0", learning rate 0.045 decayed every two epochs by 0.94 (``StepLR(step_size=2,
    gamma=0.94)``), batch 32 on each of 50 replicas: ``RMSprop(params, lr=0.045, alpha=0.9,
    eps=1.0)``. Their TensorFlow optimizer added eps *under* the square root,
    sqrt(v + eps), where PyTorch adds it outside; with eps = 1.0 the two differ noticeably, but
    both make eps a floor that keeps early steps small.

    Args: lr (0.01), alpha (0.99), eps (1e-8), weight_decay (0), momentum (0),
    centered (False), maximize (False), as PyTorch's.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False):
        for name, value in (("lr", lr), ("alpha", alpha), ("eps", eps),
                            ("weight_decay", weight_decay), ("momentum", momentum)):
            if value < 0:
                raise ValueError(f"RMSprop: invalid {name} {value}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, mu = group["weight_decay"], group["momentum"]
            for p, w, g, state in self._params_with_grad(group):
                xp = backend.xp(w)
                g = -g if group["maximize"] else g
                if wd != 0:
                    g = g + wd * w
                if not state:
                    state["step"] = 0
                    state["square_avg"] = xp.zeros_like(w)
                    if mu > 0:
                        state["momentum_buffer"] = xp.zeros_like(w)
                    if group["centered"]:
                        state["grad_avg"] = xp.zeros_like(w)
                state["step"] += 1
                v = state["square_avg"]
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    m = state["grad_avg"]
                    m *= alpha
                    m += (1 - alpha) * g
                    den = xp.sqrt(v - m * m) + eps
                else:
                    den = xp.sqrt(v) + eps
                if mu > 0:
                    b = state["momentum_buffer"]
                    b *= mu
                    b += g / den
                    w -= lr * b
                else:
                    w -= lr * g / den
        return loss
