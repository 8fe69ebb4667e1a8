"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as PyTorch computes them."""
from .. import backend, kernels
from .optimizer import Optimizer


class Adam(Optimizer):
    r"""Adaptive moment estimation.

    PyTorch's rule at step t, with m and v the first and second moment estimates::

        g <- g + lambda w                       (L2 weight decay; AdamW decays w instead)
        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        vmax <- max(vmax, v), v <- vmax         (amsgrad only)
        w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args: lr (1e-3), betas ((0.9, 0.999)), eps (1e-8), weight_decay (0), amsgrad (False),
    maximize (False), as PyTorch's.

    The update is one fused kernel per parameter (``kernels/*/optim.py``: one pass over memory,
    no temporaries, the bias corrections computed once per step in float64).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False):
        name = type(self).__name__
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"{name}: invalid lr {lr}, eps {eps} or weight_decay "
                             f"{weight_decay}")
        if not all(0.0 <= b < 1.0 for b in betas) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            for p, w, g, state in self._params_with_grad(group):
                if not state:
                    xp = backend.xp(w)
                    state["step"] = 0
                    state["exp_avg"] = xp.zeros_like(w)
                    state["exp_avg_sq"] = xp.zeros_like(w)
                    if amsgrad:
                        state["max_exp_avg_sq"] = xp.zeros_like(w)
                state["step"] += 1
                kernels.get("adam_update", p.device)(
                    w, g, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"),
                    lr, beta1, beta2, eps, wd, self._decoupled, maximize, state["step"])
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay: before Adam's step (which then sees no weight decay
    in its gradient) the weights shrink, w <- w (1 - lr lambda).

    Args: as ``Adam``, with weight_decay defaulting to 0.01 as in PyTorch.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
