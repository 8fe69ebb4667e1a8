"""More of ``Tensor``'s methods, the ones PyTorch users reach for (``t.long()``, ``t.relu()``,
``t.softmax(dim)``, ``t.mT``, ``t.sort()``, ``t.topk(k)`` ...), kept apart from tensor.py's core:
each is one call of an op of ``ops/``. ``Tensor`` inherits them."""
import numpy as np

from .ops import activation as act
from .ops import elementwise as ew
from .ops import reduce, sorting


class TorchMethods:
    """The mixin of these methods (no state of its own: ``__slots__`` empty)."""

    __slots__ = ()

    # --- dtypes -------------------------------------------------------------------------------
    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def half(self):
        return self.to(np.float16)

    def bool(self):
        return self.to(np.bool_)

    # --- elementwise --------------------------------------------------------------------------
    def pow(self, exponent):
        return ew.PowFn.apply(self, exponent)

    def relu(self):
        return act.relu(self)

    def sigmoid(self):
        return act.sigmoid(self)

    def tanh(self):
        return act.tanh(self)

    def softmax(self, dim):
        return act.softmax(self, dim)

    def log_softmax(self, dim):
        return act.log_softmax(self, dim)

    # --- reductions and orders ----------------------------------------------------------------
    def amax(self, dim=None, keepdim=False):
        """The largest values over ``dim`` (an int, a tuple or None: all); ties share the
        gradient evenly."""
        return reduce.MaxFn.apply(self, axis=dim, keepdims=keepdim)

    def amin(self, dim=None, keepdim=False):
        return reduce.MinFn.apply(self, axis=dim, keepdims=keepdim)

    def sort(self, dim=-1, descending=False, stable=False):
        return sorting.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return sorting.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return sorting.topk(self, k, dim, largest, sorted)

    # --- shapes -------------------------------------------------------------------------------
    @property
    def mT(self):
        """The last two dimensions swapped (a batch of matrices, each transposed)."""
        if self.ndim < 2:
            raise ValueError(f"mT: expected a tensor of at least 2 dimensions, got shape "
                             f"{self.shape}")
        return self.transpose(-2, -1)
