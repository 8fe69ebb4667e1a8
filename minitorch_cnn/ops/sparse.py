"""Embedding lookup: rows of a weight table picked by integer indices; the gradient of the table
is the upstream gradient scatter-added back onto the picked rows (repeated indices sum)."""
import numpy as np

from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module
from ..tensor import Tensor


class EmbeddingFn(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.num_rows, ctx.indices, ctx.padding_idx = weight.shape[0], indices, padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        dim = gy.shape[-1]
        gw = xp.zeros((ctx.num_rows, dim), gy.dtype)
        flat = (ctx.indices.reshape(-1, 1) * dim + xp.arange(dim)).reshape(-1)
        kernels.get("scatter_add", ctx.device)(gw.reshape(-1), flat,
                                               xp.ascontiguousarray(gy).reshape(-1))
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None, None


def embedding(input, weight, padding_idx=None):
    """``weight[input]``: for integer indices of any shape (...), the rows of ``weight``
    (num_embeddings, embedding_dim), of shape (..., embedding_dim). The row ``padding_idx`` gets
    no gradient (PyTorch's ``F.embedding``)."""
    xp = array_module(weight.data)
    indices = xp.asarray(input.data if isinstance(input, Tensor) else input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, got dtype {indices.dtype}")
    num = weight.shape[0]
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num):
        raise ValueError(f"embedding: indices must lie in [0, {num}), got values in "
                         f"[{int(indices.min())}, {int(indices.max())}]")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx must lie in [-{num}, {num}), "
                             f"got {padding_idx}")
        padding_idx = int(padding_idx) % num
    return EmbeddingFn.apply(weight, indices.astype(np.int64), padding_idx)
