"""Every default of every public function of ``nn.functional`` and every module of ``nn``
against PyTorch's signature, by introspecting both (issue #24: a default that differs gives a
different answer for the same call, and made the module and functional forms disagree).

Rules checked, for each name PyTorch also has:

- each parameter both have is required in both, or has the same default in both;
- the parameters both have come in the same order (a positional call binds the same way);
- where PyTorch's module and functional forms share a parameter with the same default, ours
  agree with each other too.

Parameters only one side has are allowed (PyTorch's deprecated ``size_average``/``reduce``,
features not implemented here, our extra ``mode`` of LRN ...); the names only ours has must be
in ``OURS_ONLY``, so that a new public name is looked at.
"""
import inspect

import pytest

import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn

pytestmark = pytest.mark.oracle

# public names with no PyTorch counterpart (checked so that a new one is looked at)
OURS_ONLY = {"functional": {"index_add", "local_conv2d", "spatial_pyramid_pool2d", "squash",
                            "dynamic_routing", "margin_loss"},
             "nn": {"GraphConv", "LocallyConnected2d", "SpatialPyramidPooling2d",
                    "PrimaryCapsules", "RoutingCapsules"}}
# defaults that are spelled differently but mean the same: (name, parameter) -> (ours, torch's)
EQUIVALENT = {("pad", "value"): (0.0, None),  # PyTorch's None is 0 for constant padding
              ("nn.ModuleList", "modules"): ((), None)}  # both: an empty list
# torch's functions whose signature is only in the docstring, or behind a dispatch wrapper
TORCH_ALIASES = {"max_pool2d": "max_pool2d_with_indices",
                 "adaptive_max_pool2d": "adaptive_max_pool2d_with_indices"}
# our modules and the functional op each one calls
MODULE_TO_FUNCTION = {
    "Conv2d": "conv2d", "ConvTranspose2d": "conv_transpose2d", "MaxPool2d": "max_pool2d",
    "AvgPool2d": "avg_pool2d", "AdaptiveAvgPool2d": "adaptive_avg_pool2d",
    "AdaptiveMaxPool2d": "adaptive_max_pool2d", "MaxUnpool2d": "max_unpool2d",
    "LocalResponseNorm": "local_response_norm", "BatchNorm1d": "batch_norm",
    "BatchNorm2d": "batch_norm", "InstanceNorm1d": "instance_norm",
    "InstanceNorm2d": "instance_norm", "GroupNorm": "group_norm", "LayerNorm": "layer_norm",
    "ReLU": "relu", "ReLU6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh",
    "LeakyReLU": "leaky_relu", "ELU": "elu",
    "Softmax": "softmax", "LogSoftmax": "log_softmax", "ChannelShuffle": "channel_shuffle",
    "Dropout": "dropout", "Dropout2d": "dropout2d", "Linear": "linear",
    "CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss", "MSELoss": "mse_loss",
    "L1Loss": "l1_loss", "BCELoss": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits", "Embedding": "embedding",
}
EMPTY = inspect.Parameter.empty


def _public_functions():
    return sorted(n for n, v in vars(F).items()
                  if not n.startswith("_") and inspect.isfunction(v))


def _public_modules():
    return sorted(n for n, v in vars(nn).items()
                  if inspect.isclass(v) and issubclass(v, nn.Module))


def _parameters(fn):
    """name -> default (EMPTY when required), in order, without self/*args/**kwargs."""
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _torch_function(tf, name):
    """PyTorch's functional ``name`` as a parameter dict, read from its docstring's first line
    when it is a builtin without a Python signature."""
    fn = getattr(tf, TORCH_ALIASES.get(name, name))
    try:
        return _parameters(fn)
    except ValueError:
        head = fn.__doc__.strip().splitlines()[0]
        args = head[head.index("(") + 1:head.rindex(")")]
        return _parameters(eval(f"lambda {args}: None"))


def _ours_as_torch(ours, theirs):
    """Our parameters with the first (the input, ``x`` here) named as PyTorch names it."""
    first, first_theirs = next(iter(ours)), next(iter(theirs))
    return {(first_theirs if k == first else k): v for k, v in ours.items()}


def _disagreements(name, ours, theirs):
    problems = []
    for k, default in ours.items():
        if k not in theirs:
            continue
        want = theirs[k]
        if (default, want) == EQUIVALENT.get((name, k)):
            continue
        if (default is EMPTY) != (want is EMPTY) or default != want:
            problems.append(f"{name}({k}=...): ours {_show(default)}, PyTorch {_show(want)}")
    shared_ours = [k for k in ours if k in theirs]
    shared_theirs = [k for k in theirs if k in ours]
    if shared_ours != shared_theirs:
        problems.append(f"{name}: parameter order {shared_ours}, PyTorch {shared_theirs}")
    return problems


def _show(default):
    return "required" if default is EMPTY else repr(default)


def test_functional_defaults_match_pytorch(torch):
    tf = torch.nn.functional
    missing = {n for n in _public_functions() if not hasattr(tf, n)}
    assert missing == OURS_ONLY["functional"], "review the new public names"
    problems = []
    for name in sorted(set(_public_functions()) - missing):
        theirs = _torch_function(tf, name)
        ours = _ours_as_torch(_parameters(getattr(F, name)), theirs)
        problems += _disagreements(name, ours, theirs)
    assert not problems, "\n".join(problems)


def test_module_defaults_match_pytorch(torch):
    missing = {n for n in _public_modules() if not hasattr(torch.nn, n)}
    assert missing == OURS_ONLY["nn"], "review the new public modules"
    problems = []
    for name in sorted(set(_public_modules()) - missing):
        ours = _parameters(getattr(nn, name).__init__)
        theirs = _parameters(getattr(torch.nn, name).__init__)
        problems += _disagreements(f"nn.{name}", ours, theirs)
    assert not problems, "\n".join(problems)


def test_every_module_with_a_functional_form_is_paired():
    """MODULE_TO_FUNCTION covers every module whose name has a functional counterpart."""
    unpaired = [m for m in _public_modules() if m not in MODULE_TO_FUNCTION
                and any(f.replace("_", "") == m.lower() for f in _public_functions())]
    assert not unpaired
    assert all(hasattr(F, f) and hasattr(nn, m) for m, f in MODULE_TO_FUNCTION.items())


def test_module_and_functional_forms_agree_where_pytorch_does(torch):
    problems = []
    for module, function in MODULE_TO_FUNCTION.items():
        tm = _parameters(getattr(torch.nn, module).__init__)
        tfn = _torch_function(torch.nn.functional, function)
        om = _parameters(getattr(nn, module).__init__)
        ofn = _parameters(getattr(F, function))
        for k in set(tm) & set(tfn) & set(om) & set(ofn):
            if tm[k] == tfn[k] and om[k] != ofn[k]:
                problems.append(f"nn.{module}({k}={_show(om[k])}) but "
                                f"F.{function}({k}={_show(ofn[k])}); PyTorch's agree "
                                f"({_show(tm[k])})")
    assert not problems, "\n".join(problems)


def test_lrn_default_is_pytorchs(torch, rng):
    """The member of the class found: F.local_response_norm defaulted to k=2 (AlexNet's),
    nn.LocalResponseNorm and PyTorch to k=1, answers up to ~25 apart on large activations."""
    import minitorch_cnn as mt
    x = rng.uniform(0, 60, (1, 6, 3, 3))
    ours = F.local_response_norm(mt.tensor(x), 5).numpy()
    theirs = torch.nn.functional.local_response_norm(torch.tensor(x), 5).numpy()
    assert abs(ours - theirs).max() < 1e-12
    module = nn.LocalResponseNorm(5)(mt.tensor(x)).numpy()
    assert abs(module - ours).max() < 1e-12
