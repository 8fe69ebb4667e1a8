"""``Module``: the base of every layer and model, holding parameters, buffers and submodules.

Attribute assignment registers them (as in PyTorch), so ``state_dict()`` keys read like the
attribute paths: ``features.0.weight``, ``layer1.0.bn1.running_mean``.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from . import hooks
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models: define ``__init__`` (assign parameters and submodules
    as attributes) and ``forward``; call the module to run it."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration -------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 "assigning attributes")
        if isinstance(value, (Parameter, Module)):
            self._forget(name)
            (self._parameters if isinstance(value, Parameter) else self._modules)[name] = value
            return
        for table, kind in ((self._parameters, Parameter), (self._modules, Module),
                            (self._buffers, Tensor)):
            if name in table:
                if value is not None and not isinstance(value, kind):
                    raise TypeError(f"{type(self).__name__}.{name} holds a {kind.__name__}; "
                                    f"cannot assign a {type(value).__name__}")
                table[name] = value
                return
        object.__setattr__(self, name, value)

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not learnable (batch-norm running statistics)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None")
        self._forget(name)
        self._buffers[name] = tensor
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None")
        self._forget(name)
        self._modules[name] = module

    # --- traversal ----------------------------------------------------------------------------
    def named_modules(self, prefix=""):
        """Every module of the tree (this one first), each once, with its dotted name."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m)
                        for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((k, m) for k, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def _named_members(self, table, recurse=True):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, t in getattr(module, table).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{prefix}.{name}" if prefix else name), t

    def named_parameters(self, recurse=True):
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse=True):
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse))

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- state --------------------------------------------------------------------------------
    def state_dict(self):
        """Parameters and persistent buffers by dotted name (tensors sharing the module's data)."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    state[dot + name] = p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    state[dot + name] = b.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy tensors or NumPy arrays from ``state_dict`` into this module's parameters and
        buffers (keeping their device and dtype).

        Wrongly-shaped entries always raise; with ``strict`` missing and unexpected keys raise
        too. Nothing is changed unless the whole load can succeed. Returns the missing and
        unexpected keys.
        """
        own = self._state_targets()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        wrong = [f"{k}: expected {own[k].shape}, got {tuple(np.shape(_raw(v)))}"
                 for k, v in state_dict.items()
                 if k in own and tuple(np.shape(_raw(v))) != own[k].shape]
        if wrong or (strict and (missing or unexpected)):
            lines = [f"{type(self).__name__}.load_state_dict: the state dict does not fit"]
            if missing and strict:
                lines.append(f"  missing keys: {missing}")
            if unexpected and strict:
                lines.append(f"  unexpected keys: {unexpected}")
            if wrong:
                lines.append("  wrongly-shaped keys: " + "; ".join(wrong))
            raise ValueError("\n".join(lines))
        with no_grad():
            for key, value in state_dict.items():
                if key in own:
                    target = own[key]
                    target.data = backend.to_device_array(
                        np.array(backend.to_numpy(_raw(value)), dtype=target.dtype), target.device)
        return IncompatibleKeys(missing, unexpected)

    def _state_targets(self):
        targets = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    targets[dot + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    targets[dot + name] = b
        return targets

    # --- mode, device, gradients ----------------------------------------------------------------
    def train(self, mode=True):
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def to(self, *args, dtype=None, device=None):
        """Move (and/or cast) every parameter and buffer in place; returns self. Buffers of
        integer dtype (counters) keep their dtype."""
        for a in args:
            if isinstance(a, (str, backend.Device)):
                device = a
            else:
                dtype = a
        with no_grad():
            for t in list(self.parameters()) + list(self.buffers()):
                cast = dtype if dtype is not None and t.dtype.kind == "f" else None
                moved = t.detach().to(dtype=cast, device=device)
                t.data, t._device = moved.data, moved.device
                if t.grad is not None:
                    t.grad = t.grad.to(dtype=cast, device=device)
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad = flag
        return self

    # --- calling and printing -----------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if "_hooks" in self.__dict__:  # only once a hook was registered (hooks.py)
            return hooks.call(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` before each forward; see ``nn.hooks``."""
        return hooks.register(self, "forward_pre", hook)

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` after each forward; see ``nn.hooks``."""
        return hooks.register(self, "forward", hook)

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` in backward; see ``nn.hooks``."""
        return hooks.register(self, "backward", hook)

    def extra_repr(self):
        return ""

    def __repr__(self):
        children = [f"({name}): " + repr(m).replace("\n", "\n  ")
                    for name, m in self._modules.items()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _raw(value):
    return value.data if isinstance(value, Tensor) else value
