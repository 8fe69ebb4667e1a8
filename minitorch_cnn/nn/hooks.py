"""Module hooks, as PyTorch has them: ``register_forward_pre_hook``, ``register_forward_hook``
and ``register_full_backward_hook``, each returning a handle whose ``remove()`` takes it off.

- a forward pre-hook ``hook(module, args)`` runs before ``forward``; a value it returns (a
  tuple, or one value) replaces the positional arguments;
- a forward hook ``hook(module, args, output)`` runs after; a value it returns replaces the
  output (feature maps, activation statistics);
- a full backward hook ``hook(module, grad_input, grad_output)`` runs once the gradients with
  respect to the module's tensor inputs are known; ``grad_input`` has None for inputs that need
  no gradient (all None when none does), and a tuple it returns replaces ``grad_input``.

The backward hooks work as PyTorch's do: the module's tensor inputs and outputs pass through
identity ops whose backward sees the gradients (``BackwardHookInputFn``, ``...OutputFn``). A
module without hooks is called as before (one dictionary look-up more).
"""
from collections import OrderedDict

from ..autograd import Function, RemovableHandle, is_grad_enabled
from ..tensor import Tensor


def register(module, kind, hook):
    if not callable(hook):
        raise TypeError(f"{type(module).__name__}.register_{kind}_hook: the hook must be "
                        f"callable, got {type(hook).__name__}")
    tables = module.__dict__.get("_hooks")
    if tables is None:
        tables = {"forward_pre": OrderedDict(), "forward": OrderedDict(),
                  "backward": OrderedDict()}
        object.__setattr__(module, "_hooks", tables)
    handle = RemovableHandle(tables[kind])
    tables[kind][handle.id] = hook
    return handle


class _State:
    """What the two identity ops of one call share: the module, the gradients of its outputs,
    and whether its inputs pass through an op of their own."""

    def __init__(self, module, n_inputs):
        self.module, self.n_inputs = module, n_inputs
        self.grad_output, self.input_hooked = None, False


def _call_backward_hooks(state, grad_input, device):
    wrap = [None if g is None else Tensor._wrap(g, device) for g in grad_input]
    grad_output = tuple(None if g is None else Tensor._wrap(g, device)
                        for g in state.grad_output)
    for hook in list(state.module._hooks["backward"].values()):
        replaced = hook(state.module, tuple(wrap), grad_output)
        if replaced is not None:
            replaced = tuple(replaced) if isinstance(replaced, (tuple, list)) else (replaced,)
            if len(replaced) != len(wrap):
                raise ValueError(f"{type(state.module).__name__} backward hook returned "
                                 f"{len(replaced)} gradients for {len(wrap)} inputs")
            wrap = list(replaced)
    return tuple(None if g is None else (g.data if isinstance(g, Tensor) else g) for g in wrap)


class BackwardHookInputFn(Function):
    """Identity on a module's tensor inputs; its backward runs the full backward hooks."""

    @staticmethod
    def forward(ctx, *arrays, state):
        ctx.state = state
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *gys):
        gys = tuple(g if need else None for g, need in zip(gys, ctx.needs_input_grad))
        return _call_backward_hooks(ctx.state, gys, ctx.device)


class BackwardHookOutputFn(Function):
    """Identity on a module's tensor outputs; its backward records their gradients (and runs
    the hooks itself when no input needs a gradient, so no input op will)."""

    @staticmethod
    def forward(ctx, *arrays, state):
        ctx.state = state
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *gys):
        ctx.state.grad_output = gys
        if not ctx.state.input_hooked:
            _call_backward_hooks(ctx.state, (None,) * ctx.state.n_inputs, ctx.device)
        return gys


def call(module, args, kwargs):
    """``module(*args, **kwargs)`` with its hooks."""
    tables = module._hooks
    for hook in list(tables["forward_pre"].values()):
        replaced = hook(module, args)
        if replaced is not None:
            args = replaced if isinstance(replaced, tuple) else (replaced,)
    state = None
    if tables["backward"] and is_grad_enabled():
        places = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        state = _State(module, len(places))
        if any(args[i].requires_grad for i in places):
            passed = BackwardHookInputFn.apply(*(args[i] for i in places), state=state)
            args = list(args)
            for i, t in zip(places, passed):
                args[i] = t
            args = tuple(args)
            state.input_hooked = True
    output = module.forward(*args, **kwargs)
    for hook in list(tables["forward"].values()):
        replaced = hook(module, args, output)
        if replaced is not None:
            output = replaced
    if state is not None:
        output = _hook_outputs(output, state)
    return output


def _hook_outputs(output, state):
    single = isinstance(output, Tensor)
    outs = (output,) if single else output
    if not isinstance(outs, (tuple, list)) or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{type(state.module).__name__}: full backward hooks need a module "
                        f"that returns a Tensor or a tuple of Tensors, got "
                        f"{type(output).__name__}")
    if not any(o.requires_grad for o in outs):
        return output
    passed = BackwardHookOutputFn.apply(*outs, state=state)
    return passed[0] if single else type(outs)(passed)
