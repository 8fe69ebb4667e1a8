"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998)."""
from .. import nn
from ._common import check_input

VARIANTS = ("classic", "relu")


class LeNet5(nn.Module):
    """LeNet-5 on 28x28 images (MNIST) padded by 2 to the paper's 32x32.

    The paper's layer table (input 32x32; about 60,000 free parameters, 340,908 connections)::

        C1  conv 6@5x5       -> 6x28x28      156 parameters
        S2  subsample 2x2    -> 6x14x14       12 (a trainable scale and bias per map)
        C3  conv 16@5x5      -> 16x10x10   1,516 (each map sees 3, 4 or 6 of S2's maps)
        S4  subsample 2x2    -> 16x5x5        32
        C5  conv 120@5x5     -> 120       48,120 (a full connection on 5x5 inputs)
        F6  full 84          -> 84        10,164
        out 10 Euclidean RBF units           840 (fixed, not learned)

    with the squashing function 1.7159 tanh(2a/3). As in the course notes (Dive into Deep
    Learning's LeNet), this version connects C3 to all six maps, pools by plain averaging and
    ends with a linear layer and softmax (cross-entropy): 61,706 parameters.

    Variants:
        ``"classic"``: sigmoid (``activation="tanh"`` for the paper's squashing shape) and 2x2
            average pooling, the 1998-style network.
        ``"relu"``: ReLU and 2x2 max pooling, the modern form; trains faster.

    Input (N, in_channels, 28, 28); output (N, num_classes) logits.
    """

    def __init__(self, num_classes=10, in_channels=1, variant="classic", activation=None):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"LeNet5: variant must be one of {VARIANTS}, got {variant!r}")
        activation = activation or ("sigmoid" if variant == "classic" else "relu")
        acts = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
        if activation not in acts:
            raise ValueError(f"LeNet5: activation must be one of {list(acts)}, got "
                             f"{activation!r}")
        act = acts[activation]
        pool = nn.AvgPool2d if variant == "classic" else nn.MaxPool2d
        self.in_channels, self.variant, self.activation = in_channels, variant, activation
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), act(), pool(2, 2),   # C1, S2
            nn.Conv2d(6, 16, 5), act(), pool(2, 2))                       # C3, S4
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), act(),                            # C5
            nn.Linear(120, 84), act(),                                    # F6
            nn.Linear(84, num_classes))                                   # output

    def forward(self, x):
        check_input(self, x, self.in_channels, size=28)
        return self.classifier(self.features(x))
