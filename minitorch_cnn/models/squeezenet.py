"""SqueezeNet (Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and
<0.5MB model size", 2016), in torchvision's layout.

A fire module squeezes the channels with 1x1 filters (s1x1) and expands them again with 1x1
and 3x3 filters side by side (e1x1, e3x3), their outputs concatenated: most filters are 1x1
(9x fewer parameters than 3x3) and the 3x3 ones see only s1x1 < e1x1 + e3x3 inputs. No fully
connected layer: a 1x1 convolution to the classes and global average pooling end the net.

- SqueezeNet1_0 (the paper's Table 1): conv1 96@7x7/2, fire2-fire9, max pools (3x3/2, ceil)
  after conv1, fire4 and fire8; 1,248,424 parameters (the paper: 1.25 M, 4.8 MB).
- SqueezeNet1_1 (the authors' v1.1): conv1 64@3x3/2 and earlier pooling (after conv1, fire3,
  fire5): 2.4x less computation at the same accuracy; 1,235,496 parameters.
"""
from .. import nn
from ..ops.functions import cat
from ._common import check_input
from ._torchvision import no_weights

__all__ = ["Fire", "SqueezeNet", "SqueezeNet1_0", "SqueezeNet1_1", "squeezenet1_0",
           "squeezenet1_1"]


class Fire(nn.Module):
    """squeeze 1x1 (s) -> ReLU -> [expand 1x1 (e1), expand 3x3 (e3)] -> ReLU -> concat."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, 1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, 1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, 3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)),
                       self.expand3x3_activation(self.expand3x3(x))], dim=1)


def _pool():
    return nn.MaxPool2d(3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    """SqueezeNet ``version`` "1_0" or "1_1"; ``num_classes``, ``in_channels``, ``dropout``
    (0.5, before the final convolution, as in the paper)."""

    def __init__(self, version="1_0", num_classes=1000, in_channels=3, dropout=0.5):
        super().__init__()
        self.in_channels = in_channels
        self.min_size = {"1_0": 21, "1_1": 17}.get(version)
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 96, 7, stride=2), nn.ReLU(), _pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128),
                _pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                _pool(),
                Fire(512, 64, 256, 256))
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 64, 3, stride=2), nn.ReLU(), _pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                _pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                _pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256))
        else:
            raise ValueError(f"SqueezeNet: version must be '1_0' or '1_1', got {version!r}")
        final_conv = nn.Conv2d(512, num_classes, 1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), final_conv, nn.ReLU(),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        # torchvision's initialisation: N(0, 0.01) for the last conv, He uniform elsewhere
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, 0.0, 0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=self.min_size)
        return self.classifier(self.features(x)).flatten(1)


def SqueezeNet1_0(**kwargs):
    """SqueezeNet v1.0 (the paper's): 1,248,424 parameters, 224x224 inputs."""
    return SqueezeNet("1_0", **kwargs)


def SqueezeNet1_1(**kwargs):
    """SqueezeNet v1.1: 1,235,496 parameters, 2.4x fewer FLOPs than v1.0."""
    return SqueezeNet("1_1", **kwargs)


def squeezenet1_0(*, weights=None, progress=True, **kwargs):
    """torchvision's ``squeezenet1_0`` (same keys and shapes); ``weights`` must be None."""
    no_weights("squeezenet1_0", weights)
    return SqueezeNet1_0(**kwargs)


def squeezenet1_1(*, weights=None, progress=True, **kwargs):
    """torchvision's ``squeezenet1_1`` (same keys and shapes); ``weights`` must be None."""
    no_weights("squeezenet1_1", weights)
    return SqueezeNet1_1(**kwargs)
