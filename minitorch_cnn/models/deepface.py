"""DeepFace (Taigman, Yang, Ranzato & Wolf, "DeepFace: Closing the Gap to Human-Level
Performance in Face Verification", CVPR 2014), Fig. 2.

On a 152x152x3 face, frontalised by 3D alignment:

| layer | what                                 | output    |
|-------|--------------------------------------|-----------|
| C1    | 32 conv 11x11, ReLU                  | 142x142x32 |
| M2    | max pool 3x3 / 2                     | 71x71x32   |
| C3    | 16 conv 9x9, ReLU                    | 63x63x16   |
| L4    | 16 locally connected 9x9, ReLU       | 55x55x16   |
| L5    | 16 locally connected 7x7 / 2, ReLU   | 25x25x16   |
| L6    | 16 locally connected 5x5, ReLU       | 21x21x16   |
| F7    | 4096 fully connected, ReLU, dropout  | 4096       |
| F8    | fully connected to the identities    | 4030       |

Why L4-L6 do not share weights: after alignment every location of the image holds the same part
of every face (eyes here, mouth there), and each region has its own local statistics, so the
spatial stationarity that justifies a convolution does not hold; a separate filter bank per
output location costs no extra computation, only parameters (L4 alone has 62.7 M). The paper's
figure gives C3 as "16@9x9x16", a typo: C3's input is M2's 32 channels, so its filters are
9x9x32. M2 (71 from 142) rounds up, as Caffe's pooling does (``ceil_mode=True``).

Parameters here: 118,923,774 at 4030 identities (the paper: "more than 120 million"); only
the first three layers are shared-weight. F7 is the face representation used for
verification (``represent``); F8 with a softmax trains it as identity classification.
"""
from .. import nn
from ._common import check_input

__all__ = ["DeepFace"]


def _conv_out(size, kernel, stride=1):
    return (size - kernel) // stride + 1


class DeepFace(nn.Module):
    """DeepFace's DNN.

    Args: num_classes (4030, the SFC identities), in_channels (3), input_size (152; any size
    from 71 up works, with smaller locally connected layers), dropout (0.5, on F7).
    Shapes: (N, in_channels, input_size, input_size) -> (N, num_classes).
    """

    def __init__(self, num_classes=4030, in_channels=3, input_size=152, dropout=0.5):
        super().__init__()
        self.in_channels, self.input_size = in_channels, input_size
        c1 = _conv_out(input_size, 11)
        m2 = -(-(c1 - 3) // 2) + 1          # ceil_mode
        c3 = _conv_out(m2, 9)
        l4 = _conv_out(c3, 9)
        l5 = _conv_out(l4, 7, 2)
        l6 = _conv_out(l5, 5)
        if l6 < 1:
            raise ValueError(f"DeepFace: input_size must be at least 71 (L6 needs a 5x5 "
                             f"input), got {input_size}")
        self.C1 = nn.Conv2d(in_channels, 32, 11)
        self.M2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.C3 = nn.Conv2d(32, 16, 9)
        self.L4 = nn.LocallyConnected2d(16, 16, c3, 9)
        self.L5 = nn.LocallyConnected2d(16, 16, l4, 7, stride=2)
        self.L6 = nn.LocallyConnected2d(16, 16, l5, 5)
        self.F7 = nn.Linear(16 * l6 * l6, 4096)
        self.dropout = nn.Dropout(dropout)
        self.F8 = nn.Linear(4096, num_classes)
        self.relu = nn.ReLU()

    def represent(self, x, normalize=True):
        """The F7 representation G(I) of faces ``x``: (N, 4096), non-negative. With
        ``normalize`` it is L2-normalised, as the paper does before comparing two faces
        (its per-component scaling by the training set's maxima is left to the user)."""
        check_input(self, x, self.in_channels, size=self.input_size)
        x = self.M2(self.relu(self.C1(x)))
        for layer in (self.C3, self.L4, self.L5, self.L6):
            x = self.relu(layer(x))
        g = self.dropout(self.relu(self.F7(x.flatten(1))))
        if normalize:
            g = g / (((g * g).sum(dim=1, keepdim=True)) ** 0.5 + 1e-12)
        return g

    def forward(self, x):
        """Identity logits (N, num_classes); the softmax belongs to the loss."""
        return self.F8(self.represent(x, normalize=False))
