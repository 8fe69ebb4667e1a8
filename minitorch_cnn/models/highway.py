"""Highway networks (Srivastava, Greff & Schmidhuber, "Training Very Deep Networks", NIPS 2015).

A highway layer lets information through unchanged where its transform gate is closed:

    y = H(x) * T(x) + x * (1 - T(x)),    T(x) = sigmoid(W_T x + b_T)

with H a plain layer (affine or convolution + ReLU) and the gate's bias b_T initialised
*negative* (-1 to -3 in the paper; -2 here) so that a fresh network carries its input through
(y ~ x) and very deep stacks (the paper trains 100 layers with SGD) remain trainable. The
paper's fully-connected MNIST nets have 50 units per layer; its CIFAR-10 nets are convolutional
with 3x3 highway layers. Both keep the width fixed across a highway layer, since x and H(x)
are added.
"""
from .. import nn

__all__ = ["Highway", "HighwayConv2d", "HighwayNet", "HighwayConvNet"]


class _Gated(nn.Module):
    def __init__(self, plain, gate, gate_bias):
        super().__init__()
        self.plain, self.gate = plain, gate
        self.relu, self.sigmoid = nn.ReLU(), nn.Sigmoid()
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x):
        t = self.sigmoid(self.gate(x))
        return self.relu(self.plain(x)) * t + x * (1 - t)


class Highway(_Gated):
    """A fully-connected highway layer of ``features`` units (input and output)."""

    def __init__(self, features, gate_bias=-2.0):
        super().__init__(nn.Linear(features, features), nn.Linear(features, features),
                         gate_bias)


class HighwayConv2d(_Gated):
    """A convolutional highway layer: H and T are ``kernel_size`` convolutions with "same"
    padding over ``channels`` channels."""

    def __init__(self, channels, kernel_size=3, gate_bias=-2.0):
        pad = kernel_size // 2
        super().__init__(nn.Conv2d(channels, channels, kernel_size, padding=pad),
                         nn.Conv2d(channels, channels, kernel_size, padding=pad), gate_bias)


class HighwayNet(nn.Module):
    """A fully-connected highway network (the paper's MNIST experiments): an affine + ReLU
    layer to ``width`` units, ``depth`` highway layers, a linear classifier.

    Args: in_features (784), num_classes (10), width (50), depth (10), gate_bias (-2).
    Shapes: (N, in_features) or (N, C, H, W) (flattened) -> (N, num_classes).
    """

    def __init__(self, in_features=784, num_classes=10, width=50, depth=10, gate_bias=-2.0):
        super().__init__()
        self.stem = nn.Sequential(nn.Flatten(), nn.Linear(in_features, width), nn.ReLU())
        self.layers = nn.Sequential(*[Highway(width, gate_bias) for _ in range(depth)])
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.classifier(self.layers(self.stem(x)))


class HighwayConvNet(nn.Module):
    """A convolutional highway network (the paper's CIFAR-10 style): a 3x3 convolution to
    ``channels``, stages of ``depth`` 3x3 highway layers separated by 2x2 max pooling, global
    average pooling and a linear classifier.

    Args: in_channels (3), num_classes (10), channels (32), depth (per stage, 3), stages (3),
    gate_bias (-2). Inputs of any size that survives the pooling.
    """

    def __init__(self, in_channels=3, num_classes=10, channels=32, depth=3, stages=3,
                 gate_bias=-2.0):
        super().__init__()
        layers = [nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU()]
        for s in range(stages):
            layers += [HighwayConv2d(channels, 3, gate_bias) for _ in range(depth)]
            if s != stages - 1:
                layers.append(nn.MaxPool2d(2, stride=2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=(2, 3)))
