"""DenseNet-BC (Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017), in torchvision's layout.

Every layer of a dense block sees the concatenation of all earlier feature maps of the block,
x_l = H_l([x_0, x_1, ..., x_{l-1}]), with H_l = BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k) (the
"B" bottleneck) and growth rate k. Transition layers between blocks (BN-ReLU-Conv1x1-AvgPool2x2)
halve the channels (compression 0.5, the "C"). ImageNet models, input 224x224:

| model       | k  | layers per block | init features | parameters  |
|-------------|----|------------------|---------------|-------------|
| DenseNet121 | 32 | 6, 12, 24, 16    | 64            |  7,978,856  |
| DenseNet169 | 32 | 6, 12, 32, 32    | 64            | 14,149,480  |
| DenseNet201 | 32 | 6, 12, 48, 32    | 64            | 20,013,928  |
| DenseNet161 | 48 | 6, 12, 36, 24    | 96            | 28,681,000  |

``memory_efficient=True`` (torchvision's argument; False by default, as there): in training,
each block concatenates into one shared buffer per forward pass and each layer's first
BN-ReLU-Conv1x1 reads its view of it without a copy and recomputes its output in backward
(Pleiss et al. 2017, ``ops/dense_concat.py``): the features of a block are stored once, O(L)
per block instead of the O(L^2) of a ``cat`` per layer, with the same results. Measured on
DenseNet-121 (batch 8, 224x224, 2 threads): peak RSS 967 MiB against 1751-1774 with ``cat``
(torch: 1982), but the step 2548-2566 ms against 1826-1926 (its per-sample GEMMs and the
recomputation). In eval (and for export) the blocks use plain ``cat``.
"""
from collections import OrderedDict

import numpy as np

from .. import nn
from ..ops.dense_concat import BottleneckInputFn, CatIntoFn, FeatureBuffer
from ..ops.functions import cat
from ._common import check_input
from ._torchvision import no_weights

__all__ = ["DenseNet", "DenseNet121", "DenseNet161", "DenseNet169", "DenseNet201",
           "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1(bn_size * k)-BN-ReLU-Conv3x3(k) on the concatenation of its inputs."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate,
                 memory_efficient=False):
        super().__init__()
        self.memory_efficient = memory_efficient
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()

    def forward(self, features, buffer=None):
        """``features``: the block's input and the outputs of the layers before; ``buffer``:
        the block's ``FeatureBuffer`` to concatenate them into (None: a fresh ``cat``)."""
        if len(features) == 1:
            x = features[0]
        elif buffer is not None:
            x = CatIntoFn.apply(*features, buffer=buffer)
        else:
            x = cat(features, dim=1)
        if self._fused_bottleneck(x):
            x = self._bottleneck_input(x)
        else:
            x = self.conv1(self.relu1(self.norm1(x)))
        return self.dropout(self.conv2(self.relu2(self.norm2(x))))

    def _fused_bottleneck(self, x):
        """Whether norm1-relu1-conv1 may run as one ``BottleneckInputFn`` on x: in training, on
        plain (unhooked) BatchNorm2d, ReLU and bias-free 1x1 Conv2d modules and a non-empty
        float32/float64 input with more than one value per channel (the rest, errors included,
        goes through the modules)."""
        norm, conv = self.norm1, self.conv1
        plain = type(norm) is nn.BatchNorm2d and type(self.relu1) is nn.ReLU and (
            type(conv) is nn.Conv2d and conv.kernel_size == (1, 1) and conv.bias is None
            and conv.stride == (1, 1) and conv.padding == (0, 0) and conv.groups == 1)
        return (self.training and self.memory_efficient and plain
                and all("_hooks" not in m.__dict__ for m in (norm, self.relu1, conv))
                and x.ndim == 4 and x.shape[1] == norm.num_features
                and x.dtype in (np.float32, np.float64)
                and x.shape[0] * x.shape[2] * x.shape[3] > 1)

    def _bottleneck_input(self, x):
        """conv1(relu1(norm1(x))) in training, norm1 as ``_BatchNorm.forward`` does it."""
        norm = self.norm1
        running, factor = None, 0.0 if norm.momentum is None else norm.momentum
        if norm.track_running_stats:
            norm.num_batches_tracked.data += 1
            if norm.momentum is None:
                factor = 1.0 / int(norm.num_batches_tracked.item())
            running = (norm.running_mean.data, norm.running_var.data, factor)
        return BottleneckInputFn.apply(x, norm.weight, norm.bias, self.conv1.weight, eps=norm.eps,
                                       running=running)


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate,
                 memory_efficient=False):
        super().__init__()
        self.memory_efficient = memory_efficient
        for i in range(num_layers):
            self[f"denselayer{i + 1}"] = _DenseLayer(num_input_features + i * growth_rate,
                                                     growth_rate, bn_size, drop_rate,
                                                     memory_efficient)

    def forward(self, x):
        features = [x]
        buffer = None
        if self.training and self.memory_efficient:  # one shared buffer for this pass
            buffer = FeatureBuffer(x.shape[1] + sum(m.conv2.out_channels for m in self.values()))
        for layer in self.values():
            features.append(layer(features, buffer=buffer))
        return cat(features, dim=1) if buffer is None else CatIntoFn.apply(*features,
                                                                           buffer=buffer)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__(OrderedDict([
            ("norm", nn.BatchNorm2d(num_input_features)),
            ("relu", nn.ReLU()),
            ("conv", nn.Conv2d(num_input_features, num_output_features, 1, bias=False)),
            ("pool", nn.AvgPool2d(2, stride=2)),
        ]))


class DenseNet(nn.Module):
    """DenseNet-BC: a 7x7/2 stem and 3x3/2 max pool, four dense blocks joined by transitions,
    BN-ReLU, global average pooling and one linear classifier.

    Args: growth_rate (k), block_config (layers per block), num_init_features, bn_size
    (bottleneck width in multiples of k), drop_rate (dropout after each layer), num_classes,
    in_channels, memory_efficient (the shared feature buffer above). Initialisation as
    torchvision: He normal convolutions, BN (1, 0), zero biases.
    """

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                 bn_size=4, drop_rate=0.0, num_classes=1000, in_channels=3,
                 memory_efficient=False):
        super().__init__()
        self.in_channels = in_channels
        # T 2x2 transitions need 2^T pixels after the stem's two halvings: 29 for DenseNet-BC
        self.min_size = 2 ** (len(block_config) + 1) - 3
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(in_channels, num_init_features, 7, stride=2, padding=3,
                                bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU()),
            ("pool0", nn.MaxPool2d(3, stride=2, padding=1)),
        ]))
        channels = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", _DenseBlock(
                num_layers, channels, bn_size, growth_rate, drop_rate, memory_efficient))
            channels += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}",
                                         _Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.relu = nn.ReLU()
        self.classifier = nn.Linear(channels, num_classes)
        self.num_features = channels
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=self.min_size)
        x = self.relu(self.features(x))
        return self.classifier(x.mean(dim=(2, 3)))


def DenseNet121(**kwargs):
    """DenseNet-121 (k=32, blocks 6-12-24-16): 7,978,856 parameters, 2.83 G multiply-adds at
    224x224."""
    return DenseNet(32, (6, 12, 24, 16), 64, **kwargs)


def DenseNet161(**kwargs):
    """DenseNet-161 (k=48, blocks 6-12-36-24, 96 stem channels): 28,681,000 parameters."""
    return DenseNet(48, (6, 12, 36, 24), 96, **kwargs)


def DenseNet169(**kwargs):
    """DenseNet-169 (k=32, blocks 6-12-32-32): 14,149,480 parameters."""
    return DenseNet(32, (6, 12, 32, 32), 64, **kwargs)


def DenseNet201(**kwargs):
    """DenseNet-201 (k=32, blocks 6-12-48-32): 20,013,928 parameters."""
    return DenseNet(32, (6, 12, 48, 32), 64, **kwargs)


def densenet121(*, weights=None, progress=True, **kwargs):
    """torchvision's ``densenet121`` (same keys and shapes); ``weights`` must be None."""
    no_weights("densenet121", weights)
    return DenseNet121(**kwargs)


def densenet161(*, weights=None, progress=True, **kwargs):
    """torchvision's ``densenet161`` (same keys and shapes); ``weights`` must be None."""
    no_weights("densenet161", weights)
    return DenseNet161(**kwargs)


def densenet169(*, weights=None, progress=True, **kwargs):
    """torchvision's ``densenet169`` (same keys and shapes); ``weights`` must be None."""
    no_weights("densenet169", weights)
    return DenseNet169(**kwargs)


def densenet201(*, weights=None, progress=True, **kwargs):
    """torchvision's ``densenet201`` (same keys and shapes); ``weights`` must be None."""
    no_weights("densenet201", weights)
    return DenseNet201(**kwargs)
