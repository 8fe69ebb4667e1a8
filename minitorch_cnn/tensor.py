"""``Tensor``: an array (NumPy or CuPy) on a device, with the graph node that made it.

Operators and methods call the tensor ops of ``ops/`` (the first tier: ``ops/__init__.py``);
the free functions (``mt.cat``, ``mt.where`` ...) live in ``ops/functions.py``.
"""
import math
import operator

import numpy as np

from . import autograd, backend
from .tensor_methods import TorchMethods
from .ops import elementwise as ew
from .ops import functions, linalg, reduce, sorting
from .ops import shape as shape_ops

float32, float64 = np.dtype("float32"), np.dtype("float64")
float16, int32, int64 = np.dtype("float16"), np.dtype("int32"), np.dtype("int64")
uint8, bool_ = np.dtype("uint8"), np.dtype("bool")


def _shape_args(shape):
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(n) for n in shape)


def _axis(axis, dim):
    return dim if dim is not None else axis


def _operator_pair(fn, name):
    """``(self op other, other op self)`` as Tensor methods running the op ``fn``."""
    def forward(self, other):
        return fn.apply(self, other)

    def reflected(self, other):
        return fn.apply(other, self)
    forward.__name__, reflected.__name__ = f"__{name}__", f"__r{name}__"
    return forward, reflected


def _is_dtype(x):
    try:
        return not isinstance(x, (str, backend.Device)) and np.dtype(x) is not None
    except TypeError:
        return False


class Tensor(TorchMethods):
    """A multi-dimensional array with automatic differentiation.

    ``data`` is the raw array (numpy.ndarray, or cupy.ndarray on a GPU), ``grad`` the accumulated
    gradient (a Tensor or None), ``requires_grad`` whether ops on it are recorded.
    """

    # _post_accumulate_grad_hooks stays unset until a hook is registered
    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_out_index", "_device",
                 "_post_accumulate_grad_hooks", "__weakref__")
    __array_priority__ = 1000  # numpy scalars and arrays on the left defer to Tensor's operators

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        device = backend.as_device(device if device is not None else
                                   (data.device if isinstance(data, Tensor) else None))
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.xp(data)
        if xp is np:
            array = np.array(data, dtype=dtype)  # copies, as torch.tensor does
            if dtype is None and array.dtype == float64 and not isinstance(data, np.ndarray):
                array = array.astype(float32)  # Python floats default to float32
        else:
            array = xp.array(data, dtype=dtype)
        if array.dtype.kind not in "biufc":  # strings, bytes, objects: not numbers
            raise TypeError(f"tensor: expected numbers, booleans or arrays of them, got "
                            f"{type(data).__name__} of dtype {array.dtype} ({data!r:.60})")
        self.data = backend.to_device_array(array, device)
        self._device = device
        self.grad, self._ctx, self._out_index = None, None, 0
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array, device):
        """A tensor around ``array`` (no copy, no checks): how ops build their outputs."""
        t = object.__new__(Tensor)
        if not hasattr(array, "ndim"):
            array = np.asarray(array)
        elif type(array) is not np.ndarray and isinstance(array, np.generic):
            array = np.asarray(array)
        t.data, t._device = array, device
        t.grad, t._ctx, t._out_index, t._requires_grad = None, None, 0, False
        return t

    # --- attributes ---------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(f"only floating-point tensors can require gradients, "
                            f"got dtype {self.data.dtype}")
        if not flag and self._ctx is not None:
            raise RuntimeError("requires_grad can only be turned off on a leaf tensor; "
                               "use .detach()")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return self._device

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # --- conversion ---------------------------------------------------------------------------
    def numpy(self):
        """A host NumPy copy of the data (never shared with the tensor)."""
        return np.array(backend.to_numpy(self.data))

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only a one-element tensor has an item, got shape "
                             f"{self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        return backend.to_numpy(self.data).tolist()

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data, self._device)

    def clone(self):
        return self * 1 if self.requires_grad else Tensor._wrap(self.data.copy(), self._device)

    def to(self, *args, dtype=None, device=None):
        """``.to(device)``, ``.to(dtype)`` or ``.to(device, dtype)``; differentiable."""
        for a in args:
            if _is_dtype(a):
                dtype = a
            else:
                device = a
        out = self
        if device is not None:
            device = backend.as_device(device)
            if device != self._device:
                out = shape_ops.ToDeviceFn.apply(out, device=device)
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = shape_ops.CastFn.apply(out, dtype=np.dtype(dtype))
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(backend.Device("cuda", index))

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def astype(self, dtype):
        return self.to(dtype)

    # --- autograd -----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``. ``grad`` is needed unless
        ``self`` holds one element (it then defaults to 1)."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no graph")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward(): grad can be omitted only for a one-element "
                                 f"tensor, got shape {self.shape}; pass grad=")
            grad = backend.xp(self.data).ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else backend.to_device_array(
                np.asarray(grad, dtype=self.dtype), self._device)
            if tuple(grad.shape) != self.shape:
                raise ValueError(f"backward(): grad of shape {tuple(grad.shape)} does not "
                                 f"match the tensor's shape {self.shape}")
        autograd.run_backward(self, grad, retain_graph)

    def zero_(self):
        self.data[...] = 0
        return self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` in each backward once this leaf's ``.grad`` holds all of that
        backward's gradient (PyTorch's name). Returns a handle; ``handle.remove()`` drops the
        hook. DistributedDataParallel starts its allreduce from these while backward runs."""
        if self._ctx is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors "
                               "accumulate .grad; this one was made by an op")
        return autograd.add_post_accumulate_grad_hook(self, hook)

    # --- arithmetic: each operator pair is one op of ops/elementwise.py or ops/linalg.py ------
    __add__, __radd__ = _operator_pair(ew.AddFn, "add")
    __sub__, __rsub__ = _operator_pair(ew.SubFn, "sub")
    __mul__, __rmul__ = _operator_pair(ew.MulFn, "mul")
    __truediv__, __rtruediv__ = _operator_pair(ew.DivFn, "truediv")
    __pow__, __rpow__ = _operator_pair(ew.PowFn, "pow")
    __matmul__, __rmatmul__ = _operator_pair(linalg.MatMulFn, "matmul")

    def __neg__(self):
        return ew.NegFn.apply(self)

    # the functions of ops/functions.py whose first argument is a tensor, as methods
    exp, log, sqrt, abs, clip = (functions.exp, functions.log, functions.sqrt, functions.abs,
                                 functions.clip)
    __abs__, clamp, maximum, minimum = functions.abs, functions.clip, functions.maximum, \
        functions.minimum
    split, pad = functions.split, functions.pad

    # --- comparisons (no gradient) ------------------------------------------------------------
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, other), self._device)

    def __eq__(self, other):
        return self._compare(other, operator.eq)

    def __ne__(self, other):
        return self._compare(other, operator.ne)

    def __lt__(self, other):
        return self._compare(other, operator.lt)

    def __le__(self, other):
        return self._compare(other, operator.le)

    def __gt__(self, other):
        return self._compare(other, operator.gt)

    def __ge__(self, other):
        return self._compare(other, operator.ge)

    __hash__ = object.__hash__

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data.reshape(()))

    # --- indices (ops/sorting.py; sort, topk ... in tensor_methods.py) ------------------------
    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return sorting.arg_extremum("argmax", self, _axis(axis, dim), keepdim or keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return sorting.arg_extremum("argmin", self, _axis(axis, dim), keepdim or keepdims)


    # --- reductions ---------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, dim=None, keepdim=None):
        return reduce.SumFn.apply(self, axis=_axis(axis, dim), keepdims=keepdim or keepdims)

    def mean(self, axis=None, keepdims=False, dim=None, keepdim=None):
        return reduce.MeanFn.apply(self, axis=_axis(axis, dim), keepdims=keepdim or keepdims)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """``max()``: the largest element; ``max(dim)``: the named pair ``(values, indices)``
        along ``dim``; ``max(other)``: the elementwise maximum (all as PyTorch)."""
        dim = _axis(axis, dim)
        if dim is None:
            return reduce.MaxFn.apply(self, axis=None, keepdims=keepdim or keepdims)
        if isinstance(dim, Tensor):
            return ew.MaximumFn.apply(self, dim)
        return sorting.max_dim(self, dim, keepdim or keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """``min()``, ``min(dim)`` -> ``(values, indices)``, ``min(other)``: as ``max``."""
        dim = _axis(axis, dim)
        if dim is None:
            return reduce.MinFn.apply(self, axis=None, keepdims=keepdim or keepdims)
        if isinstance(dim, Tensor):
            return ew.MinimumFn.apply(self, dim)
        return sorting.min_dim(self, dim, keepdim or keepdims)

    def var(self, axis=None, keepdims=False, ddof=0, dim=None, keepdim=None):
        return reduce.VarFn.apply(self, axis=_axis(axis, dim), keepdims=keepdim or keepdims,
                                ddof=ddof)

    # --- shapes -------------------------------------------------------------------------------
    def reshape(self, *shape):
        return shape_ops.ReshapeFn.apply(self, shape=_shape_args(shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        # the merged size spelled out, not -1: a zero-size tensor has no -1 to infer
        merged = math.prod(self.shape[start:end + 1])
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = {d % self.ndim for d in ((dim,) if isinstance(dim, int) else dim)}
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if not (i in dims and n == 1)))

    def unsqueeze(self, dim):
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def permute(self, *axes):
        return shape_ops.PermuteFn.apply(self, axes=_shape_args(axes))

    def transpose(self, dim0=None, dim1=None):
        """``transpose(d0, d1)`` swaps two dimensions (PyTorch); ``transpose()`` reverses all."""
        if dim0 is None:
            return self.permute(tuple(reversed(range(self.ndim))))
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self.permute(tuple(axes))

    @property
    def T(self):
        return self.transpose()

    def expand(self, *shape):
        return shape_ops.ExpandFn.apply(self, shape=_shape_args(shape))

    def __getitem__(self, key):
        if isinstance(key, Tensor):
            key = key.data
        elif isinstance(key, tuple):
            key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
        elif isinstance(key, list):
            key = backend.xp(self.data).asarray(key)
        return shape_ops.GetItemFn.apply(self, key=key)

    def __setitem__(self, key, value):
        """In-place assignment to the data; not recorded, so not allowed where grad is tracked."""
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError("in-place assignment to a tensor that requires grad; "
                               "wrap it in mt.no_grad() or assign to .data")
        if isinstance(key, Tensor):
            key = key.data
        self.data[key] = value.data if isinstance(value, Tensor) else value

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.data), separator=", ", prefix="tensor(")
        extras = []
        if self._device.type != "cpu":
            extras.append(f"device='{self._device}'")
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.fn.__name__.removesuffix('Fn')}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"


autograd.register_tensor_type(Tensor)
