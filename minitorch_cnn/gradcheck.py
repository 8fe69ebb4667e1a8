"""Gradient checking: analytic gradients from ``backward()`` against central differences.

``gradcheck`` projects the outputs on a fixed random direction r (L = sum_k <r_k, out_k>), takes
dL/dx from one backward pass, and compares it, element by element of every input that requires
grad, with (L(x + eps e_i) - L(x - eps e_i)) / (2 eps). All in float64: the inputs are checked
as float64 copies, so float32 rounding cannot hide or fake an error.
"""
import numpy as np

from . import autograd, backend
from .tensor import Tensor, float64


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def numerical_grad(f, x, df=None, eps=1e-6):
    """Central-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

    ``x`` is a NumPy array (or a Tensor, whose ``.data`` is perturbed) changed in place and
    restored; ``f`` returns a scalar or an array (then ``df``, the upstream gradient, weights it;
    ones by default). For the exercises: the gradient of your forward, to compare with your
    backward.
    """
    data = x.data if isinstance(x, Tensor) else x

    def value():
        out = f(x)
        out = backend.to_numpy(out.data if isinstance(out, Tensor) else np.asarray(out))
        return float(np.sum(out * (1.0 if df is None else backend.to_numpy(df))))

    grad = np.zeros(data.shape, dtype=np.float64)
    if not data.flags.c_contiguous:
        raise ValueError("numerical_grad: x must be C-contiguous (it is perturbed in place)")
    flat = data.reshape(-1)
    for i in range(data.size):
        old = flat[i].item()
        flat[i] = old + eps
        plus = value()
        flat[i] = old - eps
        minus = value()
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


def _as_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Check ``fn``'s analytic gradients against central differences in float64.

    ``inputs`` is a Tensor or a sequence of Tensors and other arguments; those that require grad
    are checked. Passes when |analytic - numerical| <= atol + rtol * |numerical| everywhere;
    otherwise raises ``GradcheckError`` (or returns False when ``raise_exception=False``) naming
    the input, the worst element's index, both values and the relative error.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    inputs = tuple(t.detach().to(float64).requires_grad_() if isinstance(t, Tensor)
                   and t.requires_grad else t for t in inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")

    outputs = _as_outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(o.shape) for o in outputs]
    device_dirs = [backend.to_device_array(d, o.device) for d, o in zip(directions, outputs)]

    def projected():
        with autograd.no_grad():
            outs = _as_outputs(fn(*inputs))
        return sum(float(np.sum(backend.to_numpy(o.data) * d)) for o, d in zip(outs, directions))

    loss = sum((o * d).sum() for o, d in zip(outputs, device_dirs))
    if not loss.requires_grad:
        raise ValueError("gradcheck: the output does not depend on any input that requires grad")
    loss.backward()

    for i in checked:
        t = inputs[i]
        analytic = np.zeros(t.shape) if t.grad is None else backend.to_numpy(t.grad.data)
        host = backend.to_numpy(t.data).copy()
        numerical = np.zeros(t.shape)
        for j in range(host.size):
            old = host.flat[j]
            for sign in (1, -1):
                host.flat[j] = old + sign * eps
                t.data = backend.to_device_array(host.copy(), t.device)
                numerical.flat[j] += sign * projected()
            host.flat[j] = old
        t.data = backend.to_device_array(host, t.device)
        numerical /= 2 * eps
        excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
        if excess.size and excess.max() > 0:
            worst = np.unravel_index(int(excess.argmax()), t.shape)
            a, n = analytic[worst], numerical[worst]
            message = (f"gradcheck: gradient of input {i} (shape {t.shape}) is wrong at index "
                       f"{tuple(int(k) for k in worst)}: analytic {a:.6g}, numerical {n:.6g}, "
                       f"relative error {abs(a - n) / max(abs(n), 1e-12):.3g} "
                       f"({int((excess > 0).sum())} of {excess.size} elements off)")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
