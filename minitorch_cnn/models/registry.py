"""The one model registry: every zoo model by the name the commands take.

``train --model``, ``evaluate``, ``summary``, ``plot`` (and ``compress``, ``export``, ``nas``)
look models up here and nowhere else. A name is a class or factory of ``minitorch_cnn.models``
whose arguments all have defaults (``VGG16``, ``resnet18``, ``UNet``), or an alias with fixed
arguments (``lenet5-relu``). Names are case-insensitive; where two differ only in case
(``AlexNet``, the paper's, and ``alexnet``, torchvision's), the exact spelling picks, and any
other spelling gets the first in sorted order (the capitalised, paper one). Other packages add
theirs with ``register``; a name with a prefix (``nas:DIR/best.json``) goes to the builder
registered for that prefix with ``register_prefix``. The packages above the models that provide
prefixes are listed by name in ``_PLUGINS`` and imported when their prefix is first asked for
(they register themselves), so that the registry never imports upward.

``create(name, **kwargs)`` builds a model and records on it (``model.model_spec``) its
canonical name and every constructor argument given, so that a checkpoint can rebuild exactly
this model.
"""
import importlib
import inspect
from dataclasses import dataclass, field

DEFAULT_INPUT_SIZE = (3, 224, 224)


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, what builds it, the arguments fixed by the name, and the
    (C, H, W) input the paper feeds it (what ``summary`` uses by default)."""
    name: str
    factory: object
    fixed: dict = field(default_factory=dict)
    input_size: tuple = DEFAULT_INPUT_SIZE

    def accepts(self, argument):
        """Whether the factory names the keyword ``argument`` (torchvision-style factories that
        pass ``**kwargs`` on keep torchvision's RGB inputs)."""
        return argument in inspect.signature(self.factory).parameters


_ENTRIES = {}   # name -> ModelEntry
_FOLDED = {}    # lower-case name -> the name it resolves to
_PREFIXES = {}  # prefix -> (builder(rest, **kwargs) -> Module, help text, input size)
_PLUGINS = {"nas": "minitorch_cnn.nas"}  # prefix -> the package that registers it


def register(name, factory, input_size=DEFAULT_INPUT_SIZE, **fixed):
    """Make ``name`` (case-insensitive) build ``factory(**fixed, **kwargs)``."""
    if name in _ENTRIES and _ENTRIES[name].factory is not factory:
        raise ValueError(f"register: a model named {name!r} is registered already")
    _ENTRIES[name] = ModelEntry(name, factory, dict(fixed), tuple(input_size))
    _FOLDED.setdefault(name.lower(), name)
    return factory


def register_prefix(prefix, builder, help="", input_size=DEFAULT_INPUT_SIZE):
    """Make ``prefix:REST`` build ``builder(REST, **kwargs)`` (for models that live in files)."""
    _PREFIXES[prefix] = (builder, help, tuple(input_size))


def _prefixed(name):
    """The (builder, help, input size) of ``name``'s prefix, or None for a plain name."""
    prefix, sep, _ = name.partition(":") if isinstance(name, str) else ("", "", "")
    if not sep:
        return None
    if prefix not in _PREFIXES and prefix in _PLUGINS:
        importlib.import_module(_PLUGINS[prefix])
    return _PREFIXES.get(prefix)


def names():
    """Every registered name, sorted case-insensitively (prefixes shown as ``prefix:...``)."""
    _populate()
    return sorted([e.name for e in _ENTRIES.values()]
                  + [f"{p}:..." for p in {*_PREFIXES, *_PLUGINS}],
                  key=str.lower)


def entry(name):
    """The ModelEntry of ``name``; a ValueError listing the valid names if there is none."""
    _populate()
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}")
    found = _ENTRIES.get(name) or _ENTRIES.get(_FOLDED.get(name.lower()))
    if found is None:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(names())}")
    return found


def create(name, **kwargs):
    """Build the model registered as ``name`` with ``kwargs`` on top of the name's fixed
    arguments, and record both on it as ``model.model_spec``."""
    prefixed = _prefixed(name)
    if prefixed is not None:
        model = prefixed[0](name.partition(":")[2], **kwargs)
        canonical, arguments = name, dict(kwargs)
    else:
        e = entry(name)
        arguments = dict(e.fixed, **kwargs)
        model = e.factory(**arguments)
        canonical = e.name
    model.model_spec = {"name": canonical, "kwargs": arguments}
    return model


def create_for_data(name, num_classes, in_channels, **kwargs):
    """``create`` for a data set of ``num_classes`` classes and ``in_channels`` channels:
    ``in_channels`` is passed only to models that take it (the others see RGB)."""
    if _prefixed(name) is None and not entry(name).accepts("in_channels"):
        return create(name, num_classes=num_classes, **kwargs)
    return create(name, num_classes=num_classes, in_channels=in_channels, **kwargs)


def accepts_in_channels(name):
    """Whether the model ``name`` can be built for a number of input channels other than 3."""
    return _prefixed(name) is not None or entry(name).accepts("in_channels")


def input_size(name):
    """The (C, H, W) input the model ``name`` is made for."""
    prefixed = _prefixed(name)
    return prefixed[2] if prefixed is not None else entry(name).input_size


# --- the zoo --------------------------------------------------------------------------------
# inputs other than 224x224 RGB (the papers' sizes)
_INPUT_SIZES = {
    "lenet5": (1, 28, 28), "alexnet": (3, 227, 227), "nin": (3, 32, 32),
    "alexnettwotower": (3, 227, 227),
    "inceptionv3": (3, 299, 299), "inception_v3": (3, 299, 299), "inceptionv4": (3, 299, 299),
    "inceptionresnetv2": (3, 299, 299), "deepface": (3, 152, 152), "unet": (1, 572, 572),
    "highwaynet": (1, 28, 28), "highwayconvnet": (3, 32, 32), "dilatedcontextnet": (21, 64, 64),
}
_ALIASES = {"lenet5-relu": ("LeNet5", {"variant": "relu"})}
_INPUT_SIZES["capsnet"] = (1, 28, 28)
_ALIASES["capsnet-small"] = ("CapsNet", {"width": 0.25})  # CapsNet.small()
_NOT_MODELS = {"load_weights", "googlenet_loss"}
_populated = False


def _populate():
    """Register every model of ``minitorch_cnn.models`` (on first use: models import nn)."""
    global _populated
    if _populated:
        return
    _populated = True
    from .. import models
    from ..nn import Module
    for attr in sorted(dir(models)):
        factory = getattr(models, attr)
        if attr.startswith("_") or attr in _NOT_MODELS or not callable(factory):
            continue
        if isinstance(factory, type) and not issubclass(factory, Module):
            continue
        if not isinstance(factory, type) and not _returns_module(factory):
            continue
        params = inspect.signature(factory).parameters.values()
        if any(p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               for p in params):
            continue  # a building block (BasicBlock, Fire, VGG(features)), not a whole model
        register(attr, factory, _INPUT_SIZES.get(attr.lower(), DEFAULT_INPUT_SIZE))
    for alias, (target, fixed) in _ALIASES.items():
        register(alias, _ENTRIES[target].factory, _ENTRIES[target].input_size, **fixed)


def _returns_module(fn):
    """Whether a function of ``models`` is a model factory (``vgg16``, ``VGG16``): by its
    module, which is one of the zoo's files."""
    return getattr(fn, "__module__", "").startswith(__package__ + ".")
