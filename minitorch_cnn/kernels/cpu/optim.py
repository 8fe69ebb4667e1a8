"""Fused optimizer updates on the CPU: one pass over memory per parameter, no temporaries.

NumPy's form of a step allocates a temporary the size of the parameter for each expression
(``lr * g``, ``g + wd * w``, ...) and walks memory once per operation. On VGG16's 138 M
parameters (fc6 alone 411 MB) fresh temporaries meant page faults: SGD's step took ~1.1 s
inside a training step (whose system time was 0.9 s). Here every element is read and written once:
the step on VGG16's parameters, timed alone on 2 cores, went from 174 to 41 ms (SGD, momentum)
and from 364 to 56 ms (Adam). Parameters from PARALLEL_MIN elements up run on all threads.

The arithmetic is the reference's, in its order, in the arrays' dtype (the scalars are cast
to it first, as NumPy casts Python scalars), so the results agree with ``reference/optim.py``
to the last bit. Arrays that are not all C-contiguous go to the reference (a flat view of them
would be a copy, and the update would be lost).
"""
import math

from numba import njit, prange

from ..reference import optim as reference

# below this many elements the serial loop runs: LeNet-5 calls Adam on 10 small parameters a
# step, and waking the thread team costs more than the update (see kernels/cpu/pool.py)
PARALLEL_MIN = 1 << 20


@njit(inline="always")
def _sgd_at(i, w, g, buf, lr, momentum, damp, wd, nesterov, maximize, first):
    d = -g[i] if maximize else g[i]
    if wd != 0:
        d = d + wd * w[i]
    if momentum != 0:
        b = d if first else buf[i] * momentum + damp * d
        buf[i] = b
        d = d + momentum * b if nesterov else b
    w[i] = w[i] - lr * d


@njit(cache=True)
def _sgd_serial(w, g, buf, lr, momentum, damp, wd, nesterov, maximize, first):
    for i in range(w.size):
        _sgd_at(i, w, g, buf, lr, momentum, damp, wd, nesterov, maximize, first)


@njit(cache=True, parallel=True)
def _sgd_parallel(w, g, buf, lr, momentum, damp, wd, nesterov, maximize, first):
    for i in prange(w.size):
        _sgd_at(i, w, g, buf, lr, momentum, damp, wd, nesterov, maximize, first)


@njit(inline="always")
def _adam_at(i, w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay, wd,
             decoupled, amsgrad, maximize):
    d = -g[i] if maximize else g[i]
    x = w[i]
    if decoupled:
        x = x * decay
    elif wd != 0:
        d = d + wd * x
    mi = m[i] * beta1 + d * one_b1
    vi = v[i] * beta2 + d * one_b2 * d
    m[i], v[i] = mi, vi
    if amsgrad:
        a = vmax[i]
        vi = vi if vi >= a or vi != vi else a  # np.maximum: a NaN wins
        vmax[i] = vi
    w[i] = x - mi * lr_m / (math.sqrt(vi) / bc2 + eps)


@njit(cache=True, error_model="numpy")
def _adam_serial(w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay, wd,
                 decoupled, amsgrad, maximize):
    # a loop per value of amsgrad: its load and store of vmax inside the loop kept LLVM from
    # vectorising (121 -> 9 us on 48000 elements)
    if amsgrad:
        for i in range(w.size):
            _adam_at(i, w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay,
                     wd, decoupled, True, maximize)
    else:
        for i in range(w.size):
            _adam_at(i, w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay,
                     wd, decoupled, False, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def _adam_parallel(w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay, wd,
                   decoupled, amsgrad, maximize):
    if amsgrad:
        for i in prange(w.size):
            _adam_at(i, w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay,
                     wd, decoupled, True, maximize)
    else:
        for i in prange(w.size):
            _adam_at(i, w, g, m, v, vmax, lr_m, beta1, beta2, one_b1, one_b2, eps, bc2, decay,
                     wd, decoupled, False, maximize)


def sgd_update(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
    """One SGD step in place (see ``reference.optim.sgd_update``)."""
    flat = reference.flat_views(w, g, buf)
    if flat is None:
        return reference.sgd_update(w, g, buf, lr, momentum, dampening, weight_decay,
                                    nesterov, maximize, first)
    kernel = _sgd_parallel if w.size >= PARALLEL_MIN else _sgd_serial
    kernel(*flat, *reference.sgd_scalars(w.dtype, lr, momentum, dampening, weight_decay),
           bool(nesterov), bool(maximize), bool(first))


def adam_update(w, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
                step):
    """One Adam / AdamW step in place (see ``reference.optim.adam_update``)."""
    flat = reference.flat_views(w, g, m, v, vmax)
    if flat is None:
        return reference.adam_update(w, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay,
                                     decoupled, maximize, step)
    kernel = _adam_parallel if w.size >= PARALLEL_MIN else _adam_serial
    kernel(*flat, *reference.adam_scalars(w.dtype, lr, beta1, beta2, eps, weight_decay, step),
           bool(decoupled), vmax is not None, bool(maximize))
