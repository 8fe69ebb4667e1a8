"""Probability distributions for policy gradients: ``Categorical`` (PyTorch's
``torch.distributions.Categorical``: the same arguments, methods and shapes).

``log_prob`` and ``entropy`` are differentiable in the logits, which is what REINFORCE needs
(Williams 1992): the gradient of E[R] is E[(R - b) grad log p(a)]. ``sample`` draws from the
device's seeded generator (``mt.manual_seed``), so a seeded run samples the same actions.
"""
import numpy as np

from .random import generator
from .ops.functions import clip, log
from .tensor import Tensor
from .nn import functional as F


class Categorical:
    """A distribution over {0, ..., K-1} for each entry of a batch of shape ``batch_shape``.

    Give exactly one of ``logits`` (unnormalised log-probabilities, any real numbers) or
    ``probs`` (non-negative, normalised here), each of shape batch_shape + (K,). ``logits`` and
    ``probs`` read back normalised (``logits`` as log-probabilities).
    """

    def __init__(self, probs=None, logits=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs or logits")
        given = logits if probs is None else probs
        if not isinstance(given, Tensor) or given.ndim < 1 or given.shape[-1] < 1:
            raise ValueError(f"Categorical: expected a Tensor of shape (..., K), K >= 1, got "
                             f"{getattr(given, 'shape', type(given).__name__)}")
        if probs is None:
            self.logits = F.log_softmax(logits, dim=-1)
            self.probs = self.logits.exp()
        else:
            if bool((probs.data < 0).any()):
                raise ValueError("Categorical: probs must be non-negative")
            self.probs = probs / probs.sum(axis=-1, keepdims=True)
            tiny = float(np.finfo(self.probs.dtype).tiny)  # log 0 = -inf would give 0 * inf
            self.logits = log(clip(self.probs, min=tiny))
        self.batch_shape = given.shape[:-1]
        self.num_categories = given.shape[-1]

    @property
    def param_shape(self):
        return self.batch_shape + (self.num_categories,)

    def sample(self, sample_shape=()):
        """Indices of shape sample_shape + batch_shape (int64, no gradient), drawn by inverting
        the cumulative distribution with one uniform number each."""
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        p = self.probs.data
        xp = self.probs.device.xp
        u = generator(self.probs.device).random(sample_shape + self.batch_shape + (1,))
        cdf = xp.cumsum(p, axis=-1)
        index = (u.astype(cdf.dtype) * cdf[..., -1:] >= cdf).sum(axis=-1)
        index = xp.minimum(index, self.num_categories - 1).astype(np.int64)
        return Tensor._wrap(index, self.probs.device)

    def log_prob(self, value):
        """log p(value) for integer ``value`` broadcastable to batch_shape: differentiable in
        the logits (the selected entry of each row, through a one-hot mask)."""
        xp = self.logits.device.xp
        index = xp.asarray(value.data if isinstance(value, Tensor) else value)
        if index.dtype.kind not in "iu":
            raise TypeError(f"Categorical.log_prob: expected integer values, got {index.dtype}")
        if index.size and (int(index.min()) < 0 or int(index.max()) >= self.num_categories):
            raise ValueError(f"Categorical.log_prob: values must lie in [0, "
                             f"{self.num_categories}), got [{int(index.min())}, "
                             f"{int(index.max())}]")
        one_hot = index[..., None] == xp.arange(self.num_categories)
        mask = Tensor._wrap(one_hot.astype(self.logits.dtype), self.logits.device)
        return (self.logits * mask).sum(axis=-1)

    def entropy(self):
        """H = -sum_k p_k log p_k per batch entry (0 log 0 = 0)."""
        finite = clip(self.logits, min=float(np.finfo(self.logits.dtype).min))
        return -(self.probs * finite).sum(axis=-1)

    def __repr__(self):
        return f"Categorical(batch_shape={self.batch_shape}, num_categories=" \
               f"{self.num_categories})"


__all__ = ["Categorical"]
