"""Dropout layers: active in training mode, the identity after ``.eval()``."""
from ..ops.arguments import check_probability
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_probability(type(self).__name__, p)
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each element with probability ``p`` in training, scaling the rest by 1/(1-p)
    (see ``F.dropout``, and there AlexNet's equivalent test-time scaling)."""

    def forward(self, x):
        return F.dropout(x, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) with probability ``p`` in training (see
    ``F.dropout2d``)."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)
