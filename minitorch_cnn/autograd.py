"""The define-by-run autograd core: ``Function``, its ``Context``, grad mode and ``backward``.

Every differentiable op is a ``Function`` subclass with two static methods on raw arrays::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = backend.xp(x).exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, gy):
            y, = ctx.saved_tensors
            return gy * y

``Exp.apply(t)`` runs ``forward`` on ``t.data`` and, when grad mode is on and an input requires
grad, records the call (the ``ctx``) as a node of the graph. ``backward`` returns one gradient per
positional argument of ``forward`` (``None`` where there is none), each of its input's shape.

``backward()`` walks the graph in topological order with an explicit work list (Kahn's
algorithm, no recursion), so chains of any depth work; gradients meeting at a tensor are summed,
gradients of leaves accumulate in ``.grad``, and the graph is freed afterwards unless
``retain_graph=True``.
"""
import functools

from . import backend

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """``with mt.no_grad():`` (or ``@mt.no_grad()``) builds no graph: for evaluation and updates."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


class Context:
    """What a ``forward`` leaves for its ``backward``; also the node of the graph."""

    def __init__(self, device):
        self.device = device
        self.saved_tensors = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def _release(self):
        """Drop everything forward saved; a later backward through this node is an error."""
        fn = self.fn
        self.__dict__.clear()
        self.fn, self.freed = fn, True


class Function:
    """Base class of differentiable ops: a subclass defines the static methods ``forward`` and
    ``backward`` (see the module docstring) and is called through ``apply``."""

    @classmethod
    def apply(cls, *args, **params):
        from .tensor import Tensor
        device = None
        for a in args:
            if isinstance(a, Tensor):
                if device is None:
                    device = a.device
                elif a.device != device:
                    raise ValueError(f"{cls.__name__}: inputs are on different devices, "
                                     f"{device} and {a.device}; move them with .to(device)")
        ctx = Context(device or backend.CPU)
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *(a.data if isinstance(a, Tensor) else a for a in args), **params)
        out_device = getattr(ctx, "output_device", ctx.device)
        track = _grad_enabled and any(needs)
        outs = out if isinstance(out, tuple) else (out,)
        tensors = tuple(Tensor._wrap(o, out_device) for o in outs)
        if track:
            ctx.fn = cls
            ctx.inputs = tuple(a if n else None for a, n in zip(args, needs))
            ctx.out_meta = tuple((o.shape, o.dtype) for o in tensors)
            for i, t in enumerate(tensors):
                if t.dtype.kind in "fc":
                    t.requires_grad, t._ctx, t._out_index = True, ctx, i
        else:
            ctx.save_for_backward()
        return tensors if isinstance(out, tuple) else tensors[0]


def _freed_error():
    return RuntimeError(
        "Trying to backward through the graph a second time: its saved arrays were freed by "
        "the first backward(). Pass retain_graph=True to the first backward() to keep them.")


def _check_grad(node, i, t, g):
    if g.shape != t.shape:
        raise ValueError(f"{node.fn.__name__}.backward returned a gradient of shape {g.shape} "
                         f"for input {i} of shape {t.shape}")
    return g if g.dtype == t.dtype else g.astype(t.dtype)


def _accumulate_leaf(t, g):
    from .tensor import Tensor
    if t.grad is None:
        t.grad = Tensor._wrap(backend.xp(g).array(g, copy=True), t.device)
    else:
        t.grad.data = t.grad.data + g


def _graph_dependencies(root):
    """For each node reachable from ``root``: how many edges of the graph point into it."""
    deps, stack = {root: 0}, [root]
    while stack:
        node = stack.pop()
        if getattr(node, "freed", False):
            raise _freed_error()
        for t in node.inputs:
            child = None if t is None else t._ctx
            if child is not None:
                if child not in deps:
                    deps[child] = 0
                    stack.append(child)
                deps[child] += 1
    return deps


def run_backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` (an array of ``root``'s shape) from ``root`` to every leaf."""
    if root._ctx is None:
        _accumulate_leaf(root, grad)
        return
    deps = _graph_dependencies(root._ctx)
    buffers = {root._ctx: [None] * len(root._ctx.out_meta)}
    buffers[root._ctx][root._out_index] = grad
    ready = [root._ctx]
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None)
        if grads is not None and any(g is not None for g in grads):
            xp = getattr(node, "output_device", node.device).xp
            grads = [xp.zeros(shape, dtype) if g is None else g
                     for g, (shape, dtype) in zip(grads, node.out_meta)]
            in_grads = node.fn.backward(node, *grads)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if len(in_grads) != len(node.inputs):
                raise ValueError(f"{node.fn.__name__}.backward returned {len(in_grads)} "
                                 f"gradients for {len(node.inputs)} inputs")
            for i, (t, g) in enumerate(zip(node.inputs, in_grads)):
                if t is None or g is None:
                    continue
                g = _check_grad(node, i, t, g)
                if t._ctx is None:
                    _accumulate_leaf(t, g)
                else:
                    slots = buffers.setdefault(t._ctx, [None] * len(t._ctx.out_meta))
                    j = t._out_index
                    slots[j] = g if slots[j] is None else slots[j] + g
        for t in node.inputs:
            if t is not None and t._ctx is not None:
                deps[t._ctx] -= 1
                if deps[t._ctx] == 0:
                    ready.append(t._ctx)
        if not retain_graph:
            node._release()
