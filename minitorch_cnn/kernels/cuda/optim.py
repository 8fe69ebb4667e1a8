"""Fused optimizer updates on the GPU: one thread per element, one pass over memory per
parameter, no temporaries (CuPy's form of a step launches a kernel and allocates an array per
expression). The arithmetic and its order are those of ``kernels/cpu/optim.py``; arrays that
are not all C-contiguous go to the reference.
"""
import math

from numba import cuda


from ..reference import optim as reference

THREADS = 256


@cuda.jit
def _sgd(w, g, buf, lr, momentum, damp, wd, nesterov, maximize, first):
    i = cuda.grid(1)
    if i < w.size:
        d = -g[i] if maximize else g[i]
        if wd != 0:
            d = d + wd * w[i]
        if momentum != 0:
            b = d if first else buf[i] * momentum + damp * d
            buf[i] = b
            d = d + momentum * b if nesterov else b
        w[i] = w[i] - lr * d


@cuda.jit
def _adam(w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay, wd,
          decoupled, amsgrad, maximize):
    i = cuda.grid(1)
    if i < w.size:
        d = -g[i] if maximize else g[i]
        x = w[i]
        if decoupled:
            x = x * decay
        elif wd != 0:
            d = d + wd * x
        mi = m[i] * beta1 + d * one_b1
        vi = v[i] * beta2 + d * one_b2 * d
        m[i] = mi
        v[i] = vi
        if amsgrad:
            a = vmax[i]
            vi = vi if vi >= a or vi != vi else a  # np.maximum: a NaN wins
            vmax[i] = vi
        w[i] = x - mi * lr_m / (math.sqrt(vi) / bc2 + eps)


def _launch(kernel, flat, *args):
    size = flat[0].size
    if size:
        threads = min(THREADS, size)  # few for tiny inputs on the simulator
        kernel[(size + threads - 1) // threads, threads](*flat, *args)


def sgd_update(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
    """One SGD step in place (see ``reference.optim.sgd_update``)."""
    flat = reference.flat_views(w, g, buf)
    if flat is None:
        return reference.sgd_update(w, g, buf, lr, momentum, dampening, weight_decay,
                                    nesterov, maximize, first)
    _launch(_sgd, flat, *reference.sgd_scalars(w.dtype, lr, momentum, dampening, weight_decay),
            bool(nesterov), bool(maximize), bool(first))


def adam_update(w, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
                step):
    """One Adam / AdamW step in place (see ``reference.optim.adam_update``)."""
    flat = reference.flat_views(w, g, m, v, vmax)
    if flat is None:
        return reference.adam_update(w, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay,
                                     decoupled, maximize, step)
    _launch(_adam, flat, *reference.adam_scalars(w.dtype, lr, beta1, beta2, eps, weight_decay,
                                                 step),
            bool(decoupled), vmax is not None, bool(maximize))
