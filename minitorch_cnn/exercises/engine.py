"""What the checker compares with: the engine's own ops, run in float64 through autograd."""
import numpy as np

from ..nn import functional as F
from ..tensor import Tensor


class EngineUnavailable(Exception):
    """This install of the engine lacks the op an exercise is compared with."""


def run(fn, args, wrt=(), gy=None):
    """``fn(*tensors)`` on float64 tensors made from ``args``; returns the output and the
    gradients of the arguments at the indices ``wrt`` (of sum(output * gy), or of the scalar
    output when ``gy`` is None)."""
    tensors = [Tensor(a, requires_grad=i in wrt)
               if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
               for i, a in enumerate(args)]
    y = fn(*tensors)
    grads = ()
    if wrt:
        y.backward(None if gy is None else np.asarray(gy))
        grads = tuple(np.zeros(np.shape(args[i])) if tensors[i].grad is None
                      else tensors[i].grad.numpy() for i in wrt)
    return y.numpy(), grads


def functional(name):
    """``F.<name>``; EngineUnavailable (reported as SKIP) where this install lacks it."""
    fn = getattr(F, name, None)
    if fn is None:
        raise EngineUnavailable(f"minitorch_cnn.nn.functional has no {name}")
    return fn


def identity_kernel(c, kh, kw):
    """The weight (c*kh*kw, c, kh, kw) whose convolution copies each receptive field into the
    channels: conv2d(x, identity_kernel) is im2col(x) as an image."""
    return np.eye(c * kh * kw).reshape(c * kh * kw, c, kh, kw)
