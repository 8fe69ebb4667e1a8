"""Inception-v4 and Inception-ResNet-v2 (Szegedy, Ioffe, Vanhoucke & Alemi, "Inception-v4,
Inception-ResNet and the Impact of Residual Connections on Learning", AAAI 2017).

Every convolution is Conv (no bias) - BN (eps 0.001) - ReLU. 299x299x3 inputs.

- InceptionV4 (Figs. 3-9): the stem (299 -> 35x35x384), 4 Inception-A (35x35), Reduction-A
  (k, l, m, n = 192, 224, 256, 384; -> 17x17x1024), 7 Inception-B (17x17, factorised 1x7 and 7x1
  convolutions), Reduction-B (-> 8x8x1536), 3 Inception-C (8x8), 8x8 average pooling, dropout
  (keep 0.8), the classifier. 42,679,816 parameters at 1000 classes.
- InceptionResNetV2: Inception blocks whose output (a linear 1x1 convolution back to the input
  width) is *scaled* (0.17, 0.10, 0.20: the paper's remedy for residuals that destabilise very
  wide nets) and added to the input: 10 x block35 (35x35x320), Reduction-A (-> 17x17x1088),
  20 x block17, Reduction-B (-> 8x8x2080), 10 x block8 (the last without ReLU), a 1x1 conv to
  1536, 8x8 average pooling, the classifier. 55,843,464 parameters. The layout is the one of the
  authors' released TF-slim model (whose checkpoints everyone uses): the paper's figures give
  channel counts that do not add up (1154 vs 1152 at 17x17, 2048 vs 2146 at 8x8) and a
  different stem.
"""
from .. import nn
from ..ops.functions import cat
from ._common import check_input, conv_bn_act

__all__ = ["InceptionV4", "InceptionResNetV2"]


class BasicConv2d(nn.Sequential):
    """Conv (no bias) - BN (eps 0.001) - ReLU, with "same"-style padding unless given."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__(*conv_bn_act(in_channels, out_channels, kernel_size, stride, padding,
                                      eps=0.001))


def _c(in_channels, out_channels, kernel_size=1, stride=1):
    """A BasicConv2d padded to keep the size at stride 1 ((1, 7) gets padding (0, 3))."""
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    pad = (k[0] // 2, k[1] // 2) if stride == 1 else 0
    return BasicConv2d(in_channels, out_channels, k, stride, pad)


def _valid(in_channels, out_channels, stride=1):
    """An unpadded 3x3 BasicConv2d (the "V" convolutions of the paper's figures)."""
    return BasicConv2d(in_channels, out_channels, 3, stride)


def _avg_branch(in_channels, out_channels):
    return nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                         _c(in_channels, out_channels))


class _Branches(nn.Module):
    """Runs its branches on the same input and concatenates their outputs."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return cat([b(x) for b in self.branches], dim=1)


def _pool():
    return nn.MaxPool2d(3, stride=2)


def inception_a():
    return _Branches(_c(384, 96), nn.Sequential(_c(384, 64), _c(64, 96, 3)),
                     nn.Sequential(_c(384, 64), _c(64, 96, 3), _c(96, 96, 3)),
                     _avg_branch(384, 96))


def inception_b():
    return _Branches(_c(1024, 384),
                     nn.Sequential(_c(1024, 192), _c(192, 224, (1, 7)), _c(224, 256, (7, 1))),
                     nn.Sequential(_c(1024, 192), _c(192, 192, (7, 1)), _c(192, 224, (1, 7)),
                                   _c(224, 224, (7, 1)), _c(224, 256, (1, 7))),
                     _avg_branch(1024, 128))


class InceptionC(nn.Module):
    """Inception-C (Fig. 6): two branches split into parallel 1x3 and 3x1 convolutions."""

    def __init__(self):
        super().__init__()
        self.branch0 = _c(1536, 256)
        self.branch1 = _c(1536, 384)
        self.branch1_a, self.branch1_b = _c(384, 256, (1, 3)), _c(384, 256, (3, 1))
        self.branch2 = nn.Sequential(_c(1536, 384), _c(384, 448, (3, 1)), _c(448, 512, (1, 3)))
        self.branch2_a, self.branch2_b = _c(512, 256, (1, 3)), _c(512, 256, (3, 1))
        self.branch3 = _avg_branch(1536, 256)

    def forward(self, x):
        x1, x2 = self.branch1(x), self.branch2(x)
        return cat([self.branch0(x), self.branch1_a(x1), self.branch1_b(x1),
                       self.branch2_a(x2), self.branch2_b(x2), self.branch3(x)], dim=1)


class InceptionV4(nn.Module):
    """Inception-v4. Args: num_classes (1000), in_channels (3), dropout (0.2).
    Shapes: (N, in_channels, 299, 299) -> (N, num_classes); inputs from 75x75 up work too."""

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.2):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            # stem (Fig. 3)
            _valid(in_channels, 32, 2), _valid(32, 32), _c(32, 64, 3),
            _Branches(_pool(), _valid(64, 96, 2)),
            _Branches(nn.Sequential(_c(160, 64), _valid(64, 96)),
                      nn.Sequential(_c(160, 64), _c(64, 64, (1, 7)), _c(64, 64, (7, 1)),
                                    _valid(64, 96))),
            _Branches(_valid(192, 192, 2), _pool()),
            *[inception_a() for _ in range(4)],
            _Branches(_valid(384, 384, 2),                                       # Reduction-A
                      nn.Sequential(_c(384, 192), _c(192, 224, 3), _valid(224, 256, 2)),
                      _pool()),
            *[inception_b() for _ in range(7)],
            _Branches(nn.Sequential(_c(1024, 192), _valid(192, 192, 2)),        # Reduction-B
                      nn.Sequential(_c(1024, 256), _c(256, 256, (1, 7)), _c(256, 320, (7, 1)),
                                    _valid(320, 320, 2)),
                      _pool()),
            *[InceptionC() for _ in range(3)])
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(1536, num_classes)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=75)
        return self.classifier(self.dropout(self.features(x).mean(dim=(2, 3))))


class _Residual(nn.Module):
    """x + scale * conv1x1(concat(branches(x))), then ReLU (unless ``relu`` is False)."""

    def __init__(self, channels, branches, concat_channels, scale, relu=True):
        super().__init__()
        self.branches = _Branches(*branches)
        self.conv = nn.Conv2d(concat_channels, channels, 1)
        self.scale = scale
        self.relu = nn.ReLU() if relu else nn.Identity()

    def forward(self, x):
        return self.relu(x + self.conv(self.branches(x)) * self.scale)


def block35(scale=0.17):
    return _Residual(320, [_c(320, 32), nn.Sequential(_c(320, 32), _c(32, 32, 3)),
                           nn.Sequential(_c(320, 32), _c(32, 48, 3), _c(48, 64, 3))], 128, scale)


def block17(scale=0.10):
    return _Residual(1088, [_c(1088, 192), nn.Sequential(_c(1088, 128), _c(128, 160, (1, 7)),
                                                         _c(160, 192, (7, 1)))], 384, scale)


def block8(scale=0.20, relu=True):
    return _Residual(2080, [_c(2080, 192), nn.Sequential(_c(2080, 192), _c(192, 224, (1, 3)),
                                                         _c(224, 256, (3, 1)))], 448, scale,
                     relu)


class InceptionResNetV2(nn.Module):
    """Inception-ResNet-v2. Args: num_classes (1000), in_channels (3), dropout (0.2).
    Shapes: (N, in_channels, 299, 299) -> (N, num_classes); inputs from 75x75 up work too."""

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.2):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            _valid(in_channels, 32, 2), _valid(32, 32), _c(32, 64, 3), _pool(),
            _c(64, 80), _valid(80, 192), _pool(),
            _Branches(_c(192, 96), nn.Sequential(_c(192, 48), _c(48, 64, 5)),
                      nn.Sequential(_c(192, 64), _c(64, 96, 3), _c(96, 96, 3)),
                      _avg_branch(192, 64)),
            *[block35() for _ in range(10)],
            _Branches(_valid(320, 384, 2),
                      nn.Sequential(_c(320, 256), _c(256, 256, 3), _valid(256, 384, 2)),
                      _pool()),
            *[block17() for _ in range(20)],
            _Branches(nn.Sequential(_c(1088, 256), _valid(256, 384, 2)),
                      nn.Sequential(_c(1088, 256), _valid(256, 288, 2)),
                      nn.Sequential(_c(1088, 256), _c(256, 288, 3), _valid(288, 320, 2)),
                      _pool()),
            *[block8() for _ in range(9)], block8(relu=False),
            _c(2080, 1536))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(1536, num_classes)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=75)
        return self.classifier(self.dropout(self.features(x).mean(dim=(2, 3))))
