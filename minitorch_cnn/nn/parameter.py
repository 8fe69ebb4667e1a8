"""``Parameter``: a tensor that a Module registers as learnable."""
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default; assigning one to a Module attribute
    registers it in ``parameters()`` and ``state_dict()``."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            self.data, self._device = data.data, data.device
            self.grad, self._ctx, self._out_index, self._requires_grad = None, None, 0, False
            self.requires_grad = requires_grad
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
