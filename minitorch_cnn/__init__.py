"""minitorch_cnn: a from-scratch deep-learning engine for convolutional networks.

``import minitorch_cnn as mt``: tensors and autograd here, layers in ``mt.nn``, the functional
ops in ``mt.nn.functional``, hand-written kernels in ``mt.kernels``. Every other subpackage
(``mt.optim``, ``mt.data``, ``mt.models`` ...) is imported on first use as an attribute, as
``torch.optim`` is after ``import torch``.
"""
import importlib
from . import backend, config, cuda, kernels
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Device
from .config import backends, get_num_threads, get_workspace_mib, set_num_threads, set_workspace_mib
from .creation import (arange, empty, empty_like, from_numpy, full, full_like, ones, ones_like,
                       rand, rand_like, randint, randn, randn_like, tensor, zeros, zeros_like)
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .random import get_rng_state, manual_seed, set_rng_state
from .ops.functions import (abs, cat, clip, concat, exp, log, matmul, maximum, minimum, pad,
                            split, sqrt, stack, where)
from .tensor import Tensor, bool_, float16, float32, float64, int32, int64, uint8
# --- PyTorch's names: dtype aliases, mt.device, the Tensor methods as functions ---
from .creation import eye, linspace
from .tensor_functions import (amax, amin, argmax, argmin, argsort, flatten, log_softmax, max,
                               mean, min, pow, relu, reshape, sigmoid, softmax, sort, sum,
                               tanh, topk, transpose)
from . import nn  # noqa: E402  (nn builds on everything above)
# --- checkpoints (mt.save / mt.load) ---
from .serialization import load, save
from .summary import summary

device = Device  # mt.device("cpu"), as torch.device; and PyTorch's other dtype names:
long, int, half, double, float, bool = int64, int32, float16, float64, float32, bool_

__version__ = "0.1.0"


def __getattr__(name):
    """``mt.optim``, ``mt.models`` ...: a subpackage imported when first asked for (PEP 562)."""
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Device", "Function", "backends", "config", "get_num_threads", "get_workspace_mib",
    "set_num_threads",
    "set_workspace_mib", "GradcheckError", "Tensor", "abs", "arange", "backend", "bool_",
    "cat", "clip", "concat", "cuda", "empty", "empty_like", "enable_grad", "exp", "float16",
    "float32", "float64", "from_numpy", "full", "full_like", "get_rng_state", "gradcheck",
    "int32", "int64", "is_grad_enabled", "kernels", "load", "log", "manual_seed", "matmul",
    "maximum", "minimum", "nn", "no_grad", "numerical_grad", "ones", "ones_like", "pad",
    "rand", "rand_like", "randint", "randn", "randn_like", "save", "set_grad_enabled",
    "set_rng_state", "split", "sqrt", "stack", "summary", "tensor", "uint8", "where", "zeros",
    "zeros_like",
    # PyTorch's names (int, float and bool are left out: a star-import would hide the builtins)
    "amax", "amin", "argmax", "argmin", "argsort", "device", "double", "eye", "flatten", "half",
    "linspace", "log_softmax", "long", "max", "mean", "min", "pow", "relu", "reshape",
    "sigmoid", "softmax", "sort", "sum", "tanh", "topk", "transpose",
]
