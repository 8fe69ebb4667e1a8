"""Layers: ``Module`` and ``Parameter``, containers, and the layers built on ``functional``."""
from . import functional, init  # noqa: F401
from .containers import ModuleDict, ModuleList, Sequential
from .linear import Flatten, Identity, Linear
from .module import Module
from .parameter import Parameter

__all__ = ["Flatten", "Identity", "Linear", "Module", "ModuleDict", "ModuleList", "Parameter",
           "Sequential", "functional", "init"]
