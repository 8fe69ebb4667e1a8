"""Loss modules with PyTorch's constructor arguments, ``loss_fn(input, target)``.

The deprecated ``size_average`` and ``reduce`` are left out, so the arguments after ``weight``
are keyword-only: a positional call written for PyTorch's order fails loudly instead of binding
wrongly. Class weights are buffers, so they move with ``.to(device)`` and appear in the state
dict, as in PyTorch."""
from .. import creation
from ..ops.arguments import check_reduction
from ..tensor import Tensor
from . import functional as F
from .module import Module


def _buffer(value):
    return value if value is None or isinstance(value, Tensor) else creation.tensor(value)


class _Loss(Module):
    def __init__(self, *, reduction="mean"):
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(reduction=reduction)
        self.register_buffer("weight", _buffer(weight))


class CrossEntropyLoss(_WeightedLoss):
    """``F.cross_entropy``: logits (N, C) or (N, C, d1, ...) and class indices."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, reduction=reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """``F.nll_loss``: log-probabilities and class indices."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction=reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class BCELoss(_WeightedLoss):
    """``F.binary_cross_entropy`` on probabilities."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """``F.binary_cross_entropy_with_logits`` on logits, with ``pos_weight``."""

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction=reduction)
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)
