"""Graph convolution (Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
Networks", ICLR 2017)."""
from .. import creation
from ..ops.graph import gcn_norm, index_add
from . import init
from .module import Module
from .parameter import Parameter


class GraphConv(Module):
    """H' = D^-1/2 (A + I) D^-1/2 H W^T + b, on node features H (N, in_features) and an edge
    list ``edge_index`` (2, E) of source -> target pairs (both directions for an undirected
    graph).

    Computed as messages along the edges: each node's transformed features H W^T, scaled by
    1 / sqrt(deg(source) deg(target)), are scatter-added onto the targets: O(E F) time and
    memory instead of a dense N x N product. W: (out_features, in_features), Glorot uniform
    as in the paper; b zero. The activation is left to the caller (the paper's ReLU).
    """

    def __init__(self, in_features, out_features, bias=True, add_self_loops=True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.add_self_loops = add_self_loops
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype,
                                               device=device))
        if bias:
            self.bias = Parameter(creation.zeros(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        init.xavier_uniform_(self.weight)

    def forward(self, x, edge_index):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"GraphConv: expected node features of shape "
                             f"(N, {self.in_features}), got {x.shape}")
        src, dst, coef = gcn_norm(edge_index, x.shape[0], self.add_self_loops)
        h = x @ self.weight.T
        coef = creation.tensor(coef.reshape(-1, 1), dtype=h.dtype, device=h.device)
        out = index_add(h[src] * coef, dst, x.shape[0])
        return out + self.bias if self.bias is not None else out

    def extra_repr(self):
        return (f"{self.in_features}, {self.out_features}, bias={self.bias is not None}, "
                f"add_self_loops={self.add_self_loops}")
