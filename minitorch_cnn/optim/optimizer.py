"""``Optimizer``: the base of every optimizer, with PyTorch's ``param_groups`` and ``state``.

A subclass gives its defaults to ``__init__`` and writes ``step``; the base keeps the groups
(each a dict with ``params`` and its own hyper-parameters, so that one model can train its
biases at another learning rate), the per-parameter ``state`` (momentum buffers, moment
estimates), ``zero_grad``, and ``state_dict`` / ``load_state_dict`` in PyTorch's layout::

    {"state": {0: {"momentum_buffer": array}, ...},
     "param_groups": [{"lr": 0.01, ..., "params": [0, 1, 2]}, ...]}

where parameters are numbered in the order of the groups, so a checkpoint restores onto a
freshly built model and training resumes exactly.
"""
import abc
import copy

import numpy as np

from .. import backend
from ..tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer(abc.ABC):
    """Base class of the optimizers.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) each with a
    ``params`` entry and any hyper-parameters that differ from ``defaults``.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors or "
                            f"of dicts, got a single Tensor; pass model.parameters()")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group of parameters with its own hyper-parameters (the defaults fill the rest).
        """
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, got "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"{type(self).__name__}: parameter group didn't specify a "
                                 f"value of required optimization parameter {name!r}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one "
                             "parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients (``None``, as PyTorch does by default, or zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    @abc.abstractmethod
    def step(self):
        """One update of every parameter that has a gradient."""

    def _params_with_grad(self, group):
        """(parameter, its raw data, its raw gradient, its state) for each parameter that has
        a gradient."""
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.data, p.grad.data, self.state.setdefault(p, {})

    # --- checkpoints --------------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state in PyTorch's layout (parameters as indices); arrays are copied
        to the host as NumPy arrays, so the dict can be saved with ``mt.save``."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: copy.deepcopy(v) for k, v in group.items() if k != "params"},
                           "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: _to_host(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` returned onto this optimizer's parameters (same group
        sizes); buffers move to each parameter's device and dtype."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups, this optimizer {len(self.param_groups)}")
        lookup = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict, "
                                 f"{len(group['params'])} here")
            lookup.update(zip(saved["params"], group["params"]))
        self.state = {}
        for key, entries in state_dict["state"].items():
            p = lookup[int(key)]
            self.state[p] = {k: _to_param(v, p) for k, v in entries.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: _plain(v) for k, v in saved.items() if k != "params"})

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _to_host(value):
    if isinstance(value, Tensor):
        value = value.data
    if hasattr(value, "shape") and not isinstance(value, (int, float)):
        return np.array(backend.to_numpy(value))
    return value


def _to_param(value, p):
    """A saved buffer as an array on ``p``'s device; float arrays take ``p``'s dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if value is None or isinstance(value, (bool, int, float)):
        return value
    array = np.asarray(backend.to_numpy(value))
    if array.ndim == 0:  # a step counter saved as a 0-d array (as PyTorch does)
        return array.item()
    if array.dtype.kind == "f":
        array = array.astype(p.dtype)
    return backend.to_device_array(array, p.device)


def _plain(value):
    """Hyper-parameters back as Python values (a loaded tuple may come back as a list)."""
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return tuple(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
