"""Children: an architecture dict (``nas.space``) built as an ordinary ``mt.nn`` module.

Following Zoph & Le (2017, sec. 3.3): every layer is convolution -> batch norm -> ReLU; a layer
with several inputs concatenates them in depth; a layer with none takes the image; at the end,
every layer that no later layer takes as input is sent to the classifier. Convolutions are
"same"-padded (p = k // 2, so stride 1 keeps the size and stride 2 gives ceil(size / 2)).

Where the paper pads the smaller of two inputs with zeros to the larger size, here the larger
ones are average-pooled down to the smallest (``F.adaptive_avg_pool2d``): it keeps the grid of
a strided layer aligned with the maps it is joined to and keeps the later layers cheap. The
classifier is global average pooling of each loose end, concatenated, and one linear layer
(the paper's "softmax layer" after its last layer).
"""
from .. import nn
from ..nn import functional as F
from ..ops.functions import cat
from .space import validate


class ConvBNReLU(nn.Module):
    def __init__(self, in_channels, layer):
        super().__init__()
        kernel = (layer["filter_height"], layer["filter_width"])
        self.conv = nn.Conv2d(in_channels, layer["num_filters"], kernel, stride=layer["stride"],
                              padding=(kernel[0] // 2, kernel[1] // 2), bias=False)
        self.bn = nn.BatchNorm2d(layer["num_filters"])

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _join(maps):
    """Concatenate feature maps in depth, pooling every one down to the smallest size."""
    if len(maps) == 1:
        return maps[0]
    size = (min(m.shape[2] for m in maps), min(m.shape[3] for m in maps))
    return cat([m if m.shape[2:] == size else F.adaptive_avg_pool2d(m, size) for m in maps],
               axis=1)


class NASNet(nn.Module):
    """The child network of ``arch`` for ``in_channels``-channel images and ``num_classes``
    classes; ``arch`` is kept (``self.arch``) so the model can be written back as JSON."""

    def __init__(self, arch, in_channels=3, num_classes=10):
        super().__init__()
        validate(arch)
        self.arch = arch
        self.inputs = [list(layer["inputs"]) for layer in arch["layers"]]
        channels, layers = [], []
        for layer in arch["layers"]:
            in_c = sum(channels[j] for j in layer["inputs"]) if layer["inputs"] else in_channels
            layers.append(ConvBNReLU(in_c, layer))
            channels.append(layer["num_filters"])
        used = {j for inputs in self.inputs for j in inputs}
        self.outputs = [i for i in range(len(layers)) if i not in used]
        self.layers = nn.ModuleList(layers)
        self.fc = nn.Linear(sum(channels[i] for i in self.outputs), num_classes)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.layers[0].conv.in_channels:
            raise ValueError(f"NASNet: expected an input of shape (N, "
                             f"{self.layers[0].conv.in_channels}, H, W), got {x.shape}")
        maps = []
        for layer, inputs in zip(self.layers, self.inputs):
            maps.append(layer(_join([maps[j] for j in inputs]) if inputs else x))
        pooled = [F.adaptive_avg_pool2d(maps[i], 1).flatten(1) for i in self.outputs]
        return self.fc(pooled[0] if len(pooled) == 1 else cat(pooled, axis=1))


def build(arch, in_channels, num_classes):
    """The child network of ``arch`` (a ``NASNet``), a ValueError naming the key if ``arch`` is
    not in the search space."""
    return NASNet(arch, in_channels, num_classes)
