"""Layers: ``Module`` and ``Parameter``, containers, and the layers built on ``functional``."""
from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
from .linear import Flatten, Identity, Linear
from .module import Module
from .parameter import Parameter
# --- convolution ---
# --- pooling and locally-connected ---
# --- normalization ---
# --- activations, dropout, losses ---

