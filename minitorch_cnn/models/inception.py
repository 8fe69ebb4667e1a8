"""Inception v2 (BN-Inception: Ioffe & Szegedy, "Batch Normalization", ICML 2015) and
Inception v3 (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision",
CVPR 2016; torchvision's layout, which is the authors' released model)."""
from collections import namedtuple

from .. import nn
from ..ops.functions import cat
from ._common import check_input
from ._torchvision import no_weights
from .googlenet import BasicConv2d

InceptionOutputs = namedtuple("InceptionOutputs", ["logits", "aux_logits"])
InceptionOutputs.__doc__ = """What InceptionV3 returns in training mode (torchvision's)."""


def _conv(in_channels, out_channels, **kwargs):
    """Convolution (no bias) + batch norm (eps 1e-3) + ReLU."""
    return BasicConv2d(in_channels, out_channels, batch_norm=True, **kwargs)


# --- Inception v2 (BN-Inception) ------------------------------------------------------------

class InceptionV2Block(nn.Module):
    """A BN-Inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 (the 5x5 of v1 as two 3x3s)
    | pool -> 1x1 projection. With ``stride=2`` (modules 3c and 4e) the 1x1 branch goes, the
    last 3x3 of each branch has stride 2 and the max pool passes its input through."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, dbl_red, dbl, pool, pool_proj,
                 stride=1):
        super().__init__()
        self.branch1x1 = _conv(in_channels, ch1x1, kernel_size=1) if ch1x1 else None
        self.branch3x3 = nn.Sequential(
            _conv(in_channels, ch3x3red, kernel_size=1),
            _conv(ch3x3red, ch3x3, kernel_size=3, stride=stride, padding=1))
        self.branch3x3dbl = nn.Sequential(
            _conv(in_channels, dbl_red, kernel_size=1),
            _conv(dbl_red, dbl, kernel_size=3, padding=1),
            _conv(dbl, dbl, kernel_size=3, stride=stride, padding=1))
        pool_layer = (nn.MaxPool2d(3, stride=stride, padding=1) if pool == "max"
                      else nn.AvgPool2d(3, stride=1, padding=1))
        proj = [_conv(in_channels, pool_proj, kernel_size=1)] if pool_proj else []
        self.branch_pool = nn.Sequential(pool_layer, *proj)

    def forward(self, x):
        outs = [] if self.branch1x1 is None else [self.branch1x1(x)]
        outs += [self.branch3x3(x), self.branch3x3dbl(x), self.branch_pool(x)]
        return cat(outs, dim=1)


# Figure 5 of the BN paper: in, #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3,
# pool, pool proj (0: pass through), stride; output channels in the comment.
INCEPTION_V2_TABLE = {
    "3a": (192, 64, 64, 64, 64, 96, "avg", 32, 1),          # 28x28x256
    "3b": (256, 64, 64, 96, 64, 96, "avg", 64, 1),          # 28x28x320
    "3c": (320, 0, 128, 160, 64, 96, "max", 0, 2),          # 14x14x576
    "4a": (576, 224, 64, 96, 96, 128, "avg", 128, 1),       # 14x14x576
    "4b": (576, 192, 96, 128, 96, 128, "avg", 128, 1),      # 14x14x576
    "4c": (576, 160, 128, 160, 128, 160, "avg", 128, 1),    # 14x14x608
    "4d": (608, 96, 128, 192, 160, 192, "avg", 128, 1),     # 14x14x608
    "4e": (608, 0, 128, 192, 192, 256, "max", 0, 2),        # 7x7x1056
    "5a": (1056, 352, 192, 320, 160, 224, "avg", 128, 1),   # 7x7x1024
    "5b": (1024, 352, 192, 320, 192, 224, "max", 128, 1),   # 7x7x1024
}


class InceptionV2(nn.Module):
    """BN-Inception (Inception v2), 224x224x3 input: GoogLeNet with batch norm after every
    convolution (no biases), each 5x5 replaced by two stacked 3x3s (same receptive field,
    fewer weights), stride-2 modules (3c, 4e) in place of two max pools, no LRN, no dropout
    and no auxiliary classifiers (Ioffe & Szegedy 2015, Figure 5).

    Stem: conv 7x7 / 2 (64) -> max pool 3x3 / 2 -> conv 1x1 (64) -> conv 3x3 (192) -> max pool
    3x3 / 2 (28x28x192); modules 3a-3c -> 4a-4e -> 5a, 5b (7x7x1024, table above); global
    average pooling; linear. 11,285,224 parameters with 1000 classes, 2.03 G
    multiply-adds. He-normal init.
    """

    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__()
        self.in_channels = in_channels
        self.conv1 = _conv(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = _conv(64, 64, kernel_size=1)
        self.conv3 = _conv(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.blocks = nn.Sequential(*(InceptionV2Block(*row) for row in
                                      INCEPTION_V2_TABLE.values()))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(1024, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=32)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        return self.fc(self.avgpool(self.blocks(x)).flatten(1))


# --- Inception v3 ---------------------------------------------------------------------------

class InceptionA(nn.Module):
    """35x35 module (Figure 5 of the v3 paper): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg
    pool -> 1x1."""

    def __init__(self, in_channels, pool_features):
        super().__init__()
        self.branch1x1 = _conv(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = _conv(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = _conv(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = _conv(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = _conv(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = _conv(96, 96, kernel_size=3, padding=1)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = _conv(in_channels, pool_features, kernel_size=1)

    def forward(self, x):
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return cat([self.branch1x1(x), b5, b3, self.branch_pool(self.pool(x))], dim=1)


class InceptionB(nn.Module):
    """Grid reduction 35 -> 17 (Figure 10): stride-2 convolutions beside a stride-2 max pool."""

    def __init__(self, in_channels):
        super().__init__()
        self.branch3x3 = _conv(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = _conv(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = _conv(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = _conv(96, 96, kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return cat([self.branch3x3(x), b3, self.pool(x)], dim=1)


class InceptionC(nn.Module):
    """17x17 module (Figure 6): 7x7 convolutions factorised into 1x7 and 7x1."""

    def __init__(self, in_channels, channels_7x7):
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = _conv(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = _conv(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = _conv(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = _conv(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _conv(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = _conv(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _conv(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _conv(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _conv(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = _conv(in_channels, 192, kernel_size=1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for i in range(1, 6):
            d = getattr(self, f"branch7x7dbl_{i}")(d)
        return cat([self.branch1x1(x), b7, d, self.branch_pool(self.pool(x))], dim=1)


class InceptionD(nn.Module):
    """Grid reduction 17 -> 8."""

    def __init__(self, in_channels):
        super().__init__()
        self.branch3x3_1 = _conv(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = _conv(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = _conv(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = _conv(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _conv(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _conv(192, 192, kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return cat([b3, b7, self.pool(x)], dim=1)


class InceptionE(nn.Module):
    """8x8 module (Figure 7): the 3x3s split into parallel 1x3 and 3x1 (expanded filter bank)."""

    def __init__(self, in_channels):
        super().__init__()
        self.branch1x1 = _conv(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = _conv(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = _conv(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = _conv(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _conv(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = _conv(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = _conv(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _conv(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = _conv(in_channels, 192, kernel_size=1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], dim=1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], dim=1)
        return cat([self.branch1x1(x), b3, d, self.branch_pool(self.pool(x))], dim=1)


class InceptionAux(nn.Module):
    """The auxiliary head on the 17x17 grid (with batch norm, which the paper credits for its
    regularising effect): avg pool 5x5 / 3, 1x1 conv 128, 5x5 conv 768, linear."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv0 = _conv(in_channels, 128, kernel_size=1)
        self.conv1 = _conv(128, 768, kernel_size=5)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(768, num_classes)
        self.fc.stddev = 0.001

    def forward(self, x):
        x = self.conv1(self.conv0(self.pool(x)))
        return self.fc(self.avgpool(x).flatten(1))


class InceptionV3(nn.Module):
    """Inception v3, 299x299x3 input: a stem of plain 3x3 convolutions (299 -> 35), three 35x35
    modules, a grid reduction, four 17x17 modules with factorised 1x7 / 7x1 convolutions, a
    grid reduction, two 8x8 modules, global average pooling, dropout 0.5, linear (Table 1 of the
    paper as corrected by the released model). An auxiliary head on the last 17x17 grid: in
    training mode the model returns ``InceptionOutputs(logits, aux_logits)`` (combine with
    ``googlenet_loss``; torchvision's reference recipe weights the head 0.4), in eval mode the
    logits. Any input >= 75x75 in eval; the head needs >= 299x299.

    27,161,264 parameters (23,834,568 without the head), ``state_dict`` keys equal torchvision's
    ``inception_v3``; initialisation torchvision's (truncated normal, std 0.1, or the ``stddev``
    a layer sets).
    """

    def __init__(self, num_classes=1000, in_channels=3, aux_logits=True, transform_input=False,
                 dropout=0.5):
        super().__init__()
        self.in_channels = in_channels
        self.aux_logits, self.transform_input = aux_logits, transform_input
        self.Conv2d_1a_3x3 = _conv(in_channels, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = _conv(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = _conv(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2)
        self.Conv2d_3b_1x1 = _conv(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = _conv(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2048, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, 0.0, getattr(m, "stddev", 0.1), a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        head = self.training and self.AuxLogits is not None
        check_input(self, x, self.in_channels, min_size=299 if head else 75)
        if self.transform_input:
            scale, shift = (0.229, 0.224, 0.225), (0.485, 0.456, 0.406)
            x = cat([x[:, c:c + 1] * (scale[c] / 0.5) + (shift[c] - 0.5) / 0.5
                     for c in range(3)], dim=1)
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
                     "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c",
                     "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
            x = getattr(self, name)(x)
        aux = self.AuxLogits(x) if head else None
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        x = self.fc(self.dropout(self.avgpool(x)).flatten(1))
        return InceptionOutputs(x, aux) if head else x


def inception_v3(*, weights=None, progress=True, num_classes=1000, aux_logits=True,
                 transform_input=False, dropout=0.5):
    """torchvision's ``inception_v3`` (the same network as ``InceptionV3``); ``weights`` must
    be None."""
    no_weights("inception_v3", weights)
    return InceptionV3(num_classes, 3, aux_logits, transform_input, dropout)
