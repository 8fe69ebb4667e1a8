"""Layers: ``Module`` and ``Parameter``, containers, and the layers built on ``functional``."""
from . import functional, init  # noqa: F401
from .containers import ModuleDict, ModuleList, Sequential
from .linear import Flatten, Identity, Linear
from .module import Module
from .parameter import Parameter
# --- convolution ---
# --- pooling and locally-connected ---
# --- normalization ---
# --- activations, dropout, losses ---

__all__ = ["Flatten", "Identity", "Linear", "Module", "ModuleDict", "ModuleList", "Parameter",
           "Sequential", "functional", "init"]
