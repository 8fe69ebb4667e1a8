"""Message passing on graphs given as edge lists: scatter-add of per-edge rows onto nodes and
the symmetric normalisation of Kipf & Welling's graph convolution. No N x N matrix is formed:
memory and time are O(E F)."""
import numpy as np

from .. import kernels
from ..autograd import Function
from ..backend import xp as array_module
from ..tensor import Tensor


class IndexAddFn(Function):
    """out = zeros(num_rows, ...); out[index[e]] += src[e] for every row e; the gradient of src
    is gout gathered back, gout[index]."""

    @staticmethod
    def forward(ctx, src, index, num_rows):
        xp = array_module(src)
        width = int(np.prod(src.shape[1:], dtype=np.int64))
        out = xp.zeros((num_rows,) + src.shape[1:], src.dtype)
        flat = (index[:, None] * width + xp.arange(width)).reshape(-1)
        kernels.get("scatter_add", ctx.device)(out.reshape(-1), flat,
                                               xp.ascontiguousarray(src).reshape(-1))
        ctx.index = index
        return out

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.index], None, None


def index_add(src, index, num_rows):
    """Sum the rows of ``src`` (E, ...) into ``num_rows`` rows: row ``index[e]`` of the result
    receives ``src[e]`` (repeated indices sum), as ``torch.zeros(...).index_add_(0, index, src)``.
    """
    if not isinstance(src, Tensor) or src.ndim < 1:
        raise ValueError(f"index_add: expected a Tensor of shape (E, ...), got "
                         f"{getattr(src, 'shape', type(src).__name__)}")
    xp = array_module(src.data)
    index = xp.asarray(index.data if isinstance(index, Tensor) else index).astype(np.int64)
    if index.shape != (src.shape[0],):
        raise ValueError(f"index_add: expected {src.shape[0]} indices (one per row of src), got "
                         f"shape {index.shape}")
    if index.size and (int(index.min()) < 0 or int(index.max()) >= num_rows):
        raise ValueError(f"index_add: indices must lie in [0, {num_rows}), got "
                         f"[{int(index.min())}, {int(index.max())}]")
    return IndexAddFn.apply(src, index, num_rows)


def gcn_norm(edge_index, num_nodes, add_self_loops=True):
    """The edges of D^-1/2 (A + I) D^-1/2 as (source, target, coefficient) NumPy arrays.

    ``edge_index`` (2, E) lists each edge source -> target (an undirected graph lists both
    directions); degrees count incoming edges, self loops included.
    """
    edges = np.asarray(edge_index.numpy() if isinstance(edge_index, Tensor) else edge_index)
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise ValueError(f"gcn_norm: edge_index must have shape (2, E), got {edges.shape}")
    src, dst = edges.astype(np.int64)
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= num_nodes):
        raise ValueError(f"gcn_norm: node indices must lie in [0, {num_nodes})")
    if add_self_loops:
        loops = np.arange(num_nodes)
        src, dst = np.concatenate([src, loops]), np.concatenate([dst, loops])
    deg = np.bincount(dst, minlength=num_nodes).astype(np.float64)
    inv_sqrt = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1)), 0.0)
    return src, dst, inv_sqrt[src] * inv_sqrt[dst]
