"""GCN (Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks",
ICLR 2017): two graph convolutions,

    Z = softmax(A' ReLU(A' X W0) W1),    A' = D^-1/2 (A + I) D^-1/2,

trained with cross-entropy on the few labelled nodes only (semi-supervised). The paper's
settings for Cora, Citeseer and Pubmed: 16 hidden units, dropout 0.5 on the inputs of both
layers, Adam with learning rate 0.01, L2 weight decay 5e-4 on the first layer, Glorot init.
"""
from .. import nn
from ..nn.graph import GraphConv

__all__ = ["GCN"]


class GCN(nn.Module):
    """The two-layer GCN. Args: in_features, num_classes, hidden (16), dropout (0.5).
    ``model(x, edge_index)``: node features (N, in_features) and edges (2, E) -> node logits
    (N, num_classes)."""

    def __init__(self, in_features, num_classes, hidden=16, dropout=0.5):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.conv1 = GraphConv(in_features, hidden)
        self.relu = nn.ReLU()
        self.conv2 = GraphConv(hidden, num_classes)

    def forward(self, x, edge_index):
        x = self.relu(self.conv1(self.dropout(x), edge_index))
        return self.conv2(self.dropout(x), edge_index)
