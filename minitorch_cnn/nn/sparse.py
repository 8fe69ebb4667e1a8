"""``Embedding``: a learnable table of vectors looked up by integer index."""
from .. import creation
from ..ops.sparse import embedding
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """``weight[input]`` for a table ``weight`` of shape (num_embeddings, embedding_dim),
    initialised N(0, 1) as PyTorch's (the ``padding_idx`` row zero, and it gets no gradient).
    Input: integer indices of any shape (...); output (..., embedding_dim)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        for key, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Embedding: {key} must be a positive integer, got {value!r}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx must lie in [-{num_embeddings}, "
                             f"{num_embeddings}), got {padding_idx}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype,
                                               device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
