"""ShuffleNets: group 1x1 convolutions whose groups talk through a channel shuffle (V1), and
the channel-split unit designed for measured speed (V2).

- ShuffleNetV1 (Zhang, Zhou, Lin & Sun, "ShuffleNet: An Extremely Efficient Convolutional
  Neural Network for Mobile Devices", CVPR 2018), Table 1: 3x3/2 conv (24), 3x3/2 max pool,
  stages of 4, 8, 4 units, global pool, FC. A unit is GConv1x1 (bottleneck = 1/4 of the output)
  - BN - ReLU - channel shuffle - DWConv3x3 - BN - GConv1x1 - BN, added to the input (stride 1)
  or concatenated with a 3x3/2 average pool of it (stride 2), then ReLU. Stage outputs for
  g = 1, 2, 3, 4, 8: 144/200/240/272/384 channels (doubling per stage). Stage 2's first
  pointwise layer is not grouped (its 24 input channels are too few). 1x, g=3: 140 MFLOPs,
  1,864,728 parameters here (no FC bias, as the official code).
- ShuffleNetV2 (Ma, Zhang, Zheng & Sun, "ShuffleNet V2: Practical Guidelines for Efficient CNN
  Architecture Design", ECCV 2018), in torchvision's layout: a stride-1 unit splits the
  channels in two, keeps one half and runs the other through 1x1-DW3x3-1x1 (equal widths, no
  group convs: guidelines G1, G2), concatenates and shuffles; a stride-2 unit runs both halves'
  branches on the whole input. Parameters: x0.5 1,366,792; x1.0 2,278,604; x1.5 3,503,624;
  x2.0 7,393,996.
"""
from .. import nn
from ..ops.functions import cat, split
from ..nn import functional as F
from ._common import check_input, conv_bn_act
from ._torchvision import no_weights

__all__ = ["ShuffleNetV1", "ShuffleNetV2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
           "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]


def _conv_bn(in_channels, out_channels, kernel_size=1, stride=1, groups=1, relu=False):
    return conv_bn_act(in_channels, out_channels, kernel_size, stride, groups=groups,
                       act=nn.ReLU if relu else None)


class ShuffleUnit(nn.Module):
    """The ShuffleNet v1 unit (Fig. 2 b, c)."""

    def __init__(self, in_channels, out_channels, stride, groups, group_first_conv=True):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ShuffleUnit: stride must be 1 or 2, got {stride}")
        mid = out_channels // 4
        branch_out = out_channels - in_channels if stride == 2 else out_channels
        self.stride, self.groups = stride, groups
        self.compress = nn.Sequential(
            *_conv_bn(in_channels, mid, groups=groups if group_first_conv else 1, relu=True))
        self.shuffle = nn.ChannelShuffle(groups) if groups > 1 else nn.Identity()
        self.expand = nn.Sequential(*_conv_bn(mid, mid, 3, stride, groups=mid),
                                    *_conv_bn(mid, branch_out, groups=groups))
        self.relu = nn.ReLU()
        self.shortcut = nn.AvgPool2d(3, stride=2, padding=1) if stride == 2 else nn.Identity()

    def forward(self, x):
        y = self.expand(self.shuffle(self.compress(x)))
        if self.stride == 2:
            return self.relu(cat([self.shortcut(x), y], dim=1))
        return self.relu(x + y)


class ShuffleNetV1(nn.Module):
    """ShuffleNet 1x v1 (Table 1) for 224x224 inputs.

    Args: num_classes, in_channels, groups (1, 2, 3, 4 or 8; 3 by default).
    """

    stage_channels = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
    stage_repeats = (4, 8, 4)

    def __init__(self, num_classes=1000, in_channels=3, groups=3):
        super().__init__()
        if groups not in self.stage_channels:
            raise ValueError(f"ShuffleNetV1: groups must be one of "
                             f"{sorted(self.stage_channels)}, got {groups}")
        self.in_channels = in_channels
        self.conv1 = nn.Sequential(*_conv_bn(in_channels, 24, 3, 2, relu=True))
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels, width = 24, self.stage_channels[groups]
        stages = []
        for s, repeats in enumerate(self.stage_repeats):
            out = width * 2 ** s
            units = []
            for i in range(repeats):
                units.append(ShuffleUnit(channels, out, 2 if i == 0 else 1, groups,
                                         group_first_conv=not (s == 0 and i == 0)))
                channels = out
            stages.append(nn.Sequential(*units))
        self.stage2, self.stage3, self.stage4 = stages
        self.fc = nn.Linear(channels, num_classes, bias=False)

    def forward(self, x):
        check_input(self, x, self.in_channels)
        x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
        return self.fc(x.mean(dim=(2, 3)))


class InvertedResidual(nn.Module):
    """The ShuffleNet v2 unit (Fig. 3 c, d) in torchvision's layout."""

    def __init__(self, inp, oup, stride):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ShuffleNetV2 unit: stride must be 1 or 2, got {stride}")
        if stride == 1 and inp != oup:
            raise ValueError(f"ShuffleNetV2 unit: a stride-1 unit keeps its width, got "
                             f"{inp} -> {oup} channels")
        self.stride = stride
        half = oup // 2
        self.branch1 = nn.Sequential(*_conv_bn(inp, inp, 3, stride, groups=inp),
                                     *_conv_bn(inp, half, relu=True)) if stride > 1 \
            else nn.Sequential()
        self.branch2 = nn.Sequential(*_conv_bn(inp if stride > 1 else half, half, relu=True),
                                     *_conv_bn(half, half, 3, stride, groups=half),
                                     *_conv_bn(half, half, relu=True))

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = split(x, x.shape[1] // 2, dim=1)
            out = cat([x1, self.branch2(x2)], dim=1)
        else:
            out = cat([self.branch1(x), self.branch2(x)], dim=1)
        return F.channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNet v2 (Table 5) in torchvision's layout (``conv1``, ``stage2``-``stage4``,
    ``conv5``, ``fc``).

    Args: stages_repeats (4, 8, 4), stages_out_channels (5 numbers: stem, three stages, conv5),
    num_classes, in_channels.
    """

    def __init__(self, stages_repeats=(4, 8, 4), stages_out_channels=(24, 116, 232, 464, 1024),
                 num_classes=1000, in_channels=3):
        super().__init__()
        if len(stages_repeats) != 3 or len(stages_out_channels) != 5:
            raise ValueError("ShuffleNetV2: expected 3 stage repeats and 5 output widths, got "
                             f"{stages_repeats} and {stages_out_channels}")
        self.in_channels = in_channels
        channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(*_conv_bn(in_channels, channels, 3, 2, relu=True))
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        stages = []
        for repeats, out in zip(stages_repeats, stages_out_channels[1:4]):
            stages.append(nn.Sequential(InvertedResidual(channels, out, 2),
                                        *[InvertedResidual(out, out, 1)
                                          for _ in range(repeats - 1)]))
            channels = out
        self.stage2, self.stage3, self.stage4 = stages
        self.conv5 = nn.Sequential(*_conv_bn(channels, stages_out_channels[-1], relu=True))
        self.fc = nn.Linear(stages_out_channels[-1], num_classes)

    def forward(self, x):
        check_input(self, x, self.in_channels)
        x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
        return self.fc(self.conv5(x).mean(dim=(2, 3)))


_V2_WIDTHS = {"0_5": (24, 48, 96, 192, 1024), "1_0": (24, 116, 232, 464, 1024),
              "1_5": (24, 176, 352, 704, 1024), "2_0": (24, 244, 488, 976, 2048)}


def _shufflenet_v2(scale, weights, kwargs):
    no_weights(f"shufflenet_v2_x{scale}", weights)
    return ShuffleNetV2((4, 8, 4), _V2_WIDTHS[scale], **kwargs)


def shufflenet_v2_x0_5(*, weights=None, progress=True, **kwargs):
    """torchvision's ``shufflenet_v2_x0_5``: 1,366,792 parameters, 41 MFLOPs."""
    return _shufflenet_v2("0_5", weights, kwargs)


def shufflenet_v2_x1_0(*, weights=None, progress=True, **kwargs):
    """torchvision's ``shufflenet_v2_x1_0``: 2,278,604 parameters, 146 MFLOPs."""
    return _shufflenet_v2("1_0", weights, kwargs)


def shufflenet_v2_x1_5(*, weights=None, progress=True, **kwargs):
    """torchvision's ``shufflenet_v2_x1_5``: 3,503,624 parameters, 299 MFLOPs."""
    return _shufflenet_v2("1_5", weights, kwargs)


def shufflenet_v2_x2_0(*, weights=None, progress=True, **kwargs):
    """torchvision's ``shufflenet_v2_x2_0``: 7,393,996 parameters, 591 MFLOPs."""
    return _shufflenet_v2("2_0", weights, kwargs)
