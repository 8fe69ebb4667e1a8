"""Which model a checkpoint holds: its registry name and constructor arguments.

``registry.create`` records them on the model as ``model.model_spec = {"name": ..., "kwargs":
...}``; the trainer stores that spec in every file it writes (``last.npz`` and ``model.npz``,
as ``mt.save(..., metadata={"model_spec": spec})``), so that ``evaluate`` and ``plot`` rebuild
exactly the model that was trained. Weights of ``lenet5-relu`` load without complaint into the
sigmoid ``LeNet5`` (same names, same shapes) and score 0.10, so a ``--model`` that contradicts
the stored spec is refused rather than trusted.
"""
import inspect

from ..serialization import load_metadata
from . import registry


def stored_spec(path):
    """The model spec stored in the checkpoint ``path``, or None (a file without one)."""
    spec = load_metadata(path).get("model_spec")
    if spec is not None and not (isinstance(spec, dict) and isinstance(spec.get("name"), str)
                                 and isinstance(spec.get("kwargs", {}), dict)):
        raise ValueError(f"{path}: its model spec is damaged: {spec!r}")
    return spec


def build(spec):
    """The model ``spec`` describes (untrained)."""
    return registry.create(spec["name"], **spec.get("kwargs", {}))


def _effective(name, kwargs):
    """(factory, every constructor argument with defaults filled in) of ``name(**kwargs)``."""
    entry = registry.entry(name)
    arguments = {k: p.default for k, p in inspect.signature(entry.factory).parameters.items()
                 if p.default is not p.empty}
    arguments.update(entry.fixed)
    arguments.update(kwargs)
    return entry.factory, arguments


def contradicts(name, spec):
    """Whether the model ``name`` (as a user gave it) is not the model ``spec`` describes.
    Aliases and spellings agree with what they stand for: ``lenet5-relu`` is ``LeNet5`` with
    ``variant='relu'``, ``lenet5`` is the sigmoid one."""
    stored = spec["name"]
    if ":" in name or ":" in stored:  # nas:PATH and friends: only the same string is the same
        return name != stored
    kwargs = spec.get("kwargs", {})
    fixed = registry.entry(stored).fixed  # what the stored name itself stands for ...
    extra = {k: v for k, v in kwargs.items() if k not in fixed or fixed[k] != v}
    # ... is not carried over: the given name brings its own, the rest (num_classes) is shared
    return _effective(name, extra) != _effective(stored, kwargs)


def resolve(path, name=None, fallback=None):
    """The spec to rebuild the model of checkpoint ``path``, given the user's ``--model``
    (``name``, optional): the stored spec; for a file without one (written before specs were
    stored), the model named ``fallback`` (a checkpoint's recorded ``--model``) or ``name``,
    with no arguments. A ``name`` that contradicts what the file holds is a ValueError naming
    both; no name at all for a file that says nothing is one too."""
    spec = stored_spec(path)
    if spec is None and fallback is not None:
        spec = {"name": fallback, "kwargs": {}}
    if spec is None:
        if name is None:
            raise ValueError(f"{path} is a bare state dict that does not say which model it "
                             "holds: say which with --model")
        return {"name": registry.entry(name).name if ":" not in name else name, "kwargs": {}}
    if name is not None and contradicts(name, spec):
        raise ValueError(f"--model {name} contradicts {path}, which holds "
                         f"{describe(spec)}; leave --model out to use the stored model")
    return spec


def describe(spec):
    """``lenet5-relu (variant='relu', num_classes=10, in_channels=1)``: for messages."""
    kwargs = ", ".join(f"{k}={v!r}" for k, v in spec.get("kwargs", {}).items())
    return f"{spec['name']} ({kwargs})" if kwargs else spec["name"]
