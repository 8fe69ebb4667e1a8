"""MobileNets: depthwise separable convolutions (V1) and inverted residuals with linear
bottlenecks (V2).

- MobileNetV1 (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
  Vision Applications", 2017): a 3x3/2 convolution, then 13 depthwise separable blocks
  (3x3 depthwise + 1x1 pointwise, each with BN and ReLU), global average pooling and a
  classifier. A 3x3 separable block costs 1/N + 1/9 of a full convolution. The width multiplier
  alpha thins every layer. 1.0 MobileNet-224: 4.2 M parameters (4,231,976 with BN), 569 M
  mult-adds, 70.6 % ImageNet top-1.
- MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
  CVPR 2018), in torchvision's layout: blocks expand the channels t times with a 1x1 conv,
  filter with a 3x3 depthwise conv (ReLU6 after both) and project back with a *linear* 1x1
  (no ReLU: a ReLU in the narrow space would destroy information); the residual joins the
  narrow ends. 3,504,872 parameters, 300 M mult-adds, 72.0 % top-1.
"""
from .. import nn
from ._common import check_input, conv_bn_act
from ._torchvision import no_weights

__all__ = ["MobileNetV1", "MobileNetV2", "mobilenet_v2"]


def _make_divisible(v, divisor=8, min_value=None):
    """Round a channel count to a multiple of ``divisor`` without going 10 % below ``v``
    (the rule of the reference MobileNet code and torchvision)."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _conv_bn_act(in_channels, out_channels, kernel_size=3, stride=1, groups=1, act=nn.ReLU6):
    """torchvision's ``Conv2dNormActivation``: Conv (no bias, "same" padding) - BN - act."""
    return nn.Sequential(*conv_bn_act(in_channels, out_channels, kernel_size, stride,
                                      groups=groups, act=act))


def _init_weights(model):
    """torchvision's MobileNet initialisation: He normal (fan out) convolutions, BN (1, 0),
    N(0, 0.01) linear weights, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


class MobileNetV1(nn.Module):
    """MobileNet v1 (Table 1 of the paper) for 224x224 inputs (any size divisible by 32 works:
    the classifier follows a global average pool).

    Args: num_classes, in_channels, width_mult (alpha in the paper: 1.0, 0.75, 0.5, 0.25),
    dropout (before the classifier; 0 as in the paper).
    """

    # (output channels, stride) of the 13 depthwise separable blocks
    cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
           (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, num_classes=1000, in_channels=3, width_mult=1.0, dropout=0.0):
        super().__init__()
        self.in_channels = in_channels
        channels = int(32 * width_mult)
        layers = [_conv_bn_act(in_channels, channels, 3, 2, act=nn.ReLU)]
        for out, stride in self.cfg:
            out = int(out * width_mult)
            layers.append(nn.Sequential(
                *_conv_bn_act(channels, channels, 3, stride, groups=channels, act=nn.ReLU),
                *_conv_bn_act(channels, out, 1, act=nn.ReLU)))
            channels = out
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))
        _init_weights(self)

    def forward(self, x):
        check_input(self, x, self.in_channels)
        return self.classifier(self.features(x).mean(dim=(2, 3)))


class InvertedResidual(nn.Module):
    """Expand 1x1 (t times) - depthwise 3x3 - linear project 1x1, with a residual when the
    stride is 1 and the channels match."""

    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride}")
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = [_conv_bn_act(inp, hidden, 1)] if expand_ratio != 1 else []
        layers += [_conv_bn_act(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, bias=False),
                   nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNet v2 (Table 2 of the paper) in torchvision's layout (``features.0`` ...
    ``features.18``, ``classifier.1``).

    Args: num_classes, in_channels, width_mult, inverted_residual_setting (rows t, c, n, s:
    expansion, output channels, repeats, first stride), round_nearest, dropout (0.2).
    """

    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
               [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]

    def __init__(self, num_classes=1000, in_channels=3, width_mult=1.0,
                 inverted_residual_setting=None, round_nearest=8, dropout=0.2):
        super().__init__()
        setting = inverted_residual_setting or self.setting
        if any(len(row) != 4 for row in setting):
            raise ValueError("MobileNetV2: inverted_residual_setting must be rows of 4 "
                             f"(t, c, n, s), got {setting}")
        self.in_channels = in_channels
        channels = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        layers = [_conv_bn_act(in_channels, channels, 3, 2)]
        for t, c, n, s in setting:
            out = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                layers.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
                channels = out
        layers.append(_conv_bn_act(channels, self.last_channel, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout),
                                        nn.Linear(self.last_channel, num_classes))
        _init_weights(self)

    def forward(self, x):
        check_input(self, x, self.in_channels)
        return self.classifier(self.features(x).mean(dim=(2, 3)))


def mobilenet_v2(*, weights=None, progress=True, **kwargs):
    """torchvision's ``mobilenet_v2`` (same keys and shapes); ``weights`` must be None."""
    no_weights("mobilenet_v2", weights)
    return MobileNetV2(**kwargs)
