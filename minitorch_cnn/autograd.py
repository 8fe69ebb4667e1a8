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
``retain_graph=True``. A leaf's post-accumulate-grad hooks (``Tensor.
register_post_accumulate_grad_hook``) run once per backward, after its last use in the graph;
until the first is registered, backward does not look for any.

``with mt.autograd.detect_anomaly():`` (or ``set_detect_anomaly(True)``) checks every op's
outputs and every gradient for NaN and Inf and raises ``AnomalyError`` at the first one, naming
the op, the line that created it and its input shapes (see ``anomaly.py``).
"""
import functools
import itertools

from . import anomaly as _anomaly, backend
from .anomaly import AnomalyError  # noqa: F401  (public: mt.autograd.AnomalyError)

_grad_enabled = True
_hooks_registered = False  # until a post-accumulate-grad hook exists, backward looks for none
_hook_ids = itertools.count()
_anomaly_enabled = False


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


def is_anomaly_enabled():
    return _anomaly_enabled


class set_detect_anomaly:
    """Turn anomaly mode on or off, as a call (``set_detect_anomaly(True)``) or, restoring the
    previous mode at the end, a context manager, like PyTorch's. In anomaly mode every op
    records where it was created and checks its outputs, and every backward its gradients, for
    NaN and Inf; the first one raises ``AnomalyError``. It slows ops down: use it to find a
    NaN, not to train. (``check_nan=False`` turns the mode off.)"""

    def __init__(self, mode, check_nan=True):
        global _anomaly_enabled
        self.prev, _anomaly_enabled = _anomaly_enabled, bool(mode) and bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _anomaly_enabled
        _anomaly_enabled = self.prev


class detect_anomaly:
    """``with mt.autograd.detect_anomaly():`` (or ``@detect_anomaly()``): anomaly mode on for
    the block (see ``set_detect_anomaly``); ``check_nan=False`` leaves it off."""

    def __init__(self, check_nan=True):
        self.mode = bool(check_nan)

    def __enter__(self):
        global _anomaly_enabled
        self.prev, _anomaly_enabled = _anomaly_enabled, self.mode
        return self

    def __exit__(self, *exc):
        global _anomaly_enabled
        _anomaly_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.mode):
                return fn(*args, **kwargs)
        return wrapper


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
        # the hot path of every op: plain loops and slot reads, no properties (measured: half
        # the Python time of a LeNet-5 training step was here and in run_backward)
        tensor_type = _tensor_class
        device, arrays, needs = None, [], []
        for a in args:
            if isinstance(a, tensor_type):
                if device is None:
                    device = a._device
                elif a._device is not device and a._device != device:
                    raise ValueError(f"{cls.__name__}: inputs are on different devices, "
                                     f"{device} and {a._device}; move them with .to(device)")
                arrays.append(a.data)
                needs.append(a._requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        ctx = Context(device or backend.CPU)
        ctx.needs_input_grad = needs = tuple(needs)
        out = cls.forward(ctx, *arrays, **params)
        out_device = getattr(ctx, "output_device", ctx.device)
        outs = out if isinstance(out, tuple) else (out,)
        tensors = tuple(tensor_type._wrap(o, out_device) for o in outs)
        if _anomaly_enabled:
            _anomaly.check_forward(cls, ctx, arrays, tensors)
        if _grad_enabled and True in needs:
            ctx.fn = cls
            ctx.inputs = tuple(a if n else None for a, n in zip(args, needs))
            ctx.out_meta = tuple((t.data.shape, t.data.dtype) for t in tensors)
            for i, t in enumerate(tensors):
                if t.data.dtype.kind in "fc":
                    t._requires_grad, t._ctx, t._out_index = True, ctx, i
        else:
            ctx.save_for_backward()
        return tensors if isinstance(out, tuple) else tensors[0]


_tensor_class = None


def register_tensor_type(cls):
    """Tell the core which class wraps op outputs (``tensor.py`` registers ``Tensor``, which
    sits above this module: it is handed down, not imported)."""
    global _tensor_class
    _tensor_class = cls


def _freed_error():
    return RuntimeError(
        "Trying to backward through the graph a second time: its saved arrays were freed by "
        "the first backward(). Pass retain_graph=True to the first backward() to keep them.")


def _check_grad(node, i, t, g):
    if g.shape != t.shape:
        raise ValueError(f"{node.fn.__name__}.backward returned a gradient of shape {g.shape} "
                         f"for input {i} of shape {t.shape}")
    return g if g.dtype == t.dtype else g.astype(t.dtype)


def _accumulate_leaf(t, g, fresh=False):
    """Add ``g`` to ``t.grad``. A ``fresh`` array (made by the backward that returned it, seen
    by nothing else) becomes ``.grad`` as it is; any other is copied, as it may be a view of or
    shared with another array (an upstream gradient, a broadcast, a reshape). An existing
    ``.grad`` accumulates in place, as PyTorch's does (no new array per backward)."""
    if t.grad is None:
        t.grad = _tensor_class._wrap(g if fresh else backend.xp(g).array(g, copy=True),
                                      t._device)
    elif _writeable(t.grad.data) and t.grad.data.shape == g.shape:
        t.grad.data += g
    else:
        t.grad.data = t.grad.data + g


def _writeable(a):
    return getattr(a.flags, "writeable", True)  # (CuPy's flags have no writeable: always)


def _owner(a):
    """The array that owns ``a``'s memory (NumPy and CuPy keep it as ``base``)."""
    base = getattr(a, "base", None)
    return a if base is None else base


def _is_fresh(g, node, upstream, in_grads):
    """Whether ``g`` may become a ``.grad`` without a copy: writable, C-contiguous, covering all
    of the memory of an owner that no upstream gradient, no other returned gradient and nothing
    the node holds (saved arrays, a user Function's attributes) uses."""
    owner = _owner(g)
    flags, owner_flags = getattr(g, "flags", None), getattr(owner, "flags", None)
    if flags is None or owner_flags is None or not owner_flags.owndata:
        return False
    if not (_writeable(g) and flags.c_contiguous) or g.nbytes != owner.nbytes:
        return False
    held = [*upstream, *node.saved_tensors,
            *(v for v in vars(node).values() if hasattr(v, "__array_interface__")
              or hasattr(v, "__cuda_array_interface__"))]
    return (all(h is None or _owner(h) is not owner for h in held)
            and sum(h is not None and _owner(h) is owner for h in in_grads) == 1)


class RemovableHandle:
    """What registering a hook returns (a tensor's here, a module's in ``nn/hooks.py``):
    ``handle.remove()`` (or leaving ``with handle:``) takes the hook out of its ``table``, where
    it is stored under ``handle.id``."""

    def __init__(self, table):
        self.table, self.id = table, next(_hook_ids)

    def remove(self):
        self.table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_post_accumulate_grad_hook(t, hook):
    """Register ``hook(t)`` on the leaf ``t`` (``Tensor.register_post_accumulate_grad_hook``)."""
    global _hooks_registered
    hooks = getattr(t, "_post_accumulate_grad_hooks", None)
    if hooks is None:
        hooks = t._post_accumulate_grad_hooks = {}
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    _hooks_registered = True
    return handle


def _run_hooks(t):
    hooks = getattr(t, "_post_accumulate_grad_hooks", None)
    if hooks and t.grad is not None:
        for hook in list(hooks.values()):
            hook(t)


def _hooked_leaf_uses(deps):
    """For each leaf with post-accumulate-grad hooks: [the leaf, its uses in the graph]."""
    uses = {}
    for node in deps:
        for t in node.inputs:
            if t is not None and t._ctx is None and getattr(t, "_post_accumulate_grad_hooks",
                                                            None):
                uses.setdefault(id(t), [t, 0])[1] += 1
    return uses


def _leaf_used(uses, t):
    """One use of the leaf ``t`` is done; after its last one, its hooks run."""
    entry = uses.get(id(t))
    if entry is not None:
        entry[1] -= 1
        if entry[1] == 0:
            del uses[id(t)]
            _run_hooks(t)


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
        if _hooks_registered:
            _run_hooks(root)
        return
    if _anomaly_enabled:
        _anomaly.check_root(grad)
    deps = _graph_dependencies(root._ctx)
    hooked = _hooked_leaf_uses(deps) if _hooks_registered else None
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
            if _anomaly_enabled:
                _anomaly.check_backward(node, in_grads)
            for i, (t, g) in enumerate(zip(node.inputs, in_grads)):
                if t is None or g is None:
                    continue
                checked = _check_grad(node, i, t, g)
                if t._ctx is None:
                    fresh = checked is not g or _is_fresh(g, node, grads, in_grads)
                    _accumulate_leaf(t, checked, fresh)
                else:
                    slots = buffers.setdefault(t._ctx, [None] * len(t._ctx.out_meta))
                    j = t._out_index
                    slots[j] = checked if slots[j] is None else slots[j] + checked
        for t in node.inputs:
            if t is not None and t._ctx is not None:
                deps[t._ctx] -= 1
                if deps[t._ctx] == 0:
                    ready.append(t._ctx)
            elif hooked:
                _leaf_used(hooked, t)
        if not retain_graph:
            node._release()
