"""Function-level tracing: run a model once and record every ``Function.apply`` call.

Every differentiable op of the package is a ``Function`` subclass called through
``Function.apply`` (``Conv2dFn``, ``AddFn``, ``CatFn`` ...), so recording those calls captures
the whole forward computation, including the free functional calls between modules (residual
sums, ``cat``, ``flatten``) that module hooks alone would miss. While ``trace`` runs,
``Function.apply`` is replaced by a wrapper that calls the original and appends one ``Call``
(the op class, its arguments by name, its output tensors and the module that was running, for
error messages), and ``Module.__call__`` keeps a stack of the running modules' names; both are
restored afterwards, whatever happens.

The tensors in the calls are kept alive by the recording, so their ``id`` names them for the
length of an export.
"""
import inspect
from dataclasses import dataclass

from .. import autograd
from ..autograd import no_grad
from ..nn.module import Module
from ..tensor import Tensor


@dataclass
class Call:
    """One recorded op: ``fn`` (the Function class), ``arguments`` (forward's parameters by
    name, tensors as given), ``outputs`` (the Tensors it returned) and ``module`` (the dotted
    name of the innermost running module, "" for the model itself)."""
    fn: type
    arguments: dict
    outputs: tuple
    module: str

    @property
    def name(self):
        return self.fn.__name__

    def where(self):
        """'layer NAME (TYPE)' for error messages."""
        return f"layer {self.module or '<model>'!r} ({self.name})"


def _arguments(fn, args, params):
    signature = inspect.signature(fn.forward)
    bound = signature.bind(None, *args, **params)
    bound.apply_defaults()
    named = dict(bound.arguments)
    named.pop(next(iter(signature.parameters)))  # ctx
    return named


def trace(model, *inputs):
    """Run ``model(*inputs)`` without a graph; return (its output, the list of ``Call``\\ s)."""
    calls, stack = [], []
    names = {id(m): name for name, m in model.named_modules()}
    original_apply = autograd.Function.__dict__["apply"]
    original_call = Module.__call__

    def traced_apply(cls, *args, **params):
        out = original_apply.__func__(cls, *args, **params)
        outs = out if isinstance(out, tuple) else (out,)
        calls.append(Call(cls, _arguments(cls, args, params),
                          tuple(o for o in outs if isinstance(o, Tensor)),
                          stack[-1] if stack else ""))
        return out

    def traced_call(self, *args, **kwargs):
        stack.append(names.get(id(self), type(self).__name__))
        try:
            return original_call(self, *args, **kwargs)
        finally:
            stack.pop()

    autograd.Function.apply = classmethod(traced_apply)
    Module.__call__ = traced_call
    try:
        with no_grad():
            out = model(*inputs)
    finally:
        autograd.Function.apply = original_apply
        Module.__call__ = original_call
    return out, calls
