"""ResNet: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016;
ResNeXt: Xie, Girshick, Dollar, Tu & He, "Aggregated Residual Transformations for Deep Neural
Networks", CVPR 2017. In torchvision's layout (``state_dict`` keys equal torchvision's)."""
from .. import nn
from ._common import check_input
from ._torchvision import no_weights


def conv3x3(in_planes, out_planes, stride=1, groups=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1,
                     groups=groups, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, added to the shortcut, then ReLU (Figure 2 / 5
    left of the paper). ``downsample`` is the 1x1 projection shortcut (option B) where the shape
    changes."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 stride_in_1x1=False):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock: only groups=1 and base_width=64 are defined, got "
                             f"groups={groups}, base_width={base_width}")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """1x1 (reduce) -> 3x3 -> 1x1 (expand x4) with batch norm, added to the shortcut, then ReLU
    (Figure 5 right). ResNeXt: the 3x3 is a grouped convolution of ``groups`` paths of
    ``base_width * planes / 64`` channels each (cardinality x width, e.g. 32x4d).

    The paper puts the stride of a downsampling block in the first 1x1 (``stride_in_1x1=True``,
    "ResNet v1"); torchvision and the ResNeXt paper put it in the 3x3 ("v1.5"), which sees all
    the input pixels. Same parameters either way.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 stride_in_1x1=False):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = conv1x1(inplanes, width, s1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, s3, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """A residual network (Table 1 of the paper), 224x224x3 input (any size works: adaptive
    average pooling): conv 7x7 / 2 (64) + BN + ReLU -> max pool 3x3 / 2 -> four stages of
    ``layers[i]`` blocks with 64, 128, 256, 512 base channels (the first block of stages 2-4 has
    stride 2 and a 1x1 projection shortcut) -> global average pooling -> linear.

    Parameters (equal to torchvision's): ResNet18 11,689,512; ResNet34 21,797,672; ResNet50
    25,557,032; ResNet101 44,549,160; ResNet152 60,192,808; ResNeXt50_32x4d 25,028,904;
    ResNeXt101_32x8d 88,791,336. Initialisation as the paper's (He et al. 2015, normal with
    std sqrt(2 / fan_out) for the convolutions), BN weight 1 and bias 0;
    ``zero_init_residual`` zeroes each block's last BN weight (Goyal et al. 2017).
    """

    def __init__(self, block, layers, num_classes=1000, in_channels=3, zero_init_residual=False,
                 groups=1, width_per_group=64, stride_in_1x1=False):
        super().__init__()
        self.in_channels = in_channels
        self.inplanes, self.groups, self.base_width = 64, groups, width_per_group
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1, stride_in_1x1)
        self.layer2 = self._make_layer(block, 128, layers[1], 2, stride_in_1x1)
        self.layer3 = self._make_layer(block, 256, layers[2], 2, stride_in_1x1)
        self.layer4 = self._make_layer(block, 512, layers[3], 2, stride_in_1x1)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.bn2.weight if isinstance(m, BasicBlock) else m.bn3.weight)

    def _make_layer(self, block, planes, blocks, stride, stride_in_1x1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        extra = dict(groups=self.groups, base_width=self.base_width, stride_in_1x1=stride_in_1x1)
        layers = [block(self.inplanes, planes, stride, downsample, **extra)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, **extra) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=1)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def ResNet18(num_classes=1000, in_channels=3, **kwargs):
    """ResNet-18: basic blocks [2, 2, 2, 2], 11,689,512 parameters, 1.8 G multiply-adds."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, in_channels, **kwargs)


def ResNet34(num_classes=1000, in_channels=3, **kwargs):
    """ResNet-34: basic blocks [3, 4, 6, 3], 21,797,672 parameters, 3.6 G multiply-adds."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, in_channels, **kwargs)


def ResNet50(num_classes=1000, in_channels=3, stride_in_1x1=True, **kwargs):
    """ResNet-50: bottlenecks [3, 4, 6, 3], 25,557,032 parameters, 3.86 G multiply-adds (the
    paper's "3.8 x 10^9 FLOPs"). The stride in the first 1x1, as the paper; ``resnet50`` has it
    in the 3x3 (4.09 G multiply-adds: the 3x3s of the first blocks run at the higher resolution).
    """
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, in_channels,
                  stride_in_1x1=stride_in_1x1, **kwargs)


def ResNet101(num_classes=1000, in_channels=3, stride_in_1x1=True, **kwargs):
    """ResNet-101: bottlenecks [3, 4, 23, 3], 44,549,160 parameters (stride as ``ResNet50``)."""
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes, in_channels,
                  stride_in_1x1=stride_in_1x1, **kwargs)


def ResNet152(num_classes=1000, in_channels=3, stride_in_1x1=True, **kwargs):
    """ResNet-152: bottlenecks [3, 8, 36, 3], 60,192,808 parameters (stride as ``ResNet50``)."""
    return ResNet(Bottleneck, [3, 8, 36, 3], num_classes, in_channels,
                  stride_in_1x1=stride_in_1x1, **kwargs)


def ResNeXt50_32x4d(num_classes=1000, in_channels=3, **kwargs):
    """ResNeXt-50 (32x4d): ResNet-50 with 32 groups of 4 channels in the first stage's 3x3
    (width doubling per stage), 25,028,904 parameters (Table 1 of the ResNeXt paper)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, in_channels, groups=32,
                  width_per_group=4, **kwargs)


def ResNeXt101_32x8d(num_classes=1000, in_channels=3, **kwargs):
    """ResNeXt-101 (32x8d): 32 groups of 8 channels, 88,791,336 parameters."""
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes, in_channels, groups=32,
                  width_per_group=8, **kwargs)


# torchvision's names: its layout, with the stride of a bottleneck in the 3x3 ("v1.5").
def _torchvision_name(name, build, **fixed):
    def constructor(*, weights=None, progress=True, **kwargs):
        no_weights(name, weights)
        return build(**fixed, **kwargs)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (f"torchvision's ``{name}`` (same keys and shapes); ``weights`` must "
                           "be None: load exported weights with ``load_weights``.")
    return constructor


resnet18 = _torchvision_name("resnet18", ResNet18)
resnet34 = _torchvision_name("resnet34", ResNet34)
resnet50 = _torchvision_name("resnet50", ResNet50, stride_in_1x1=False)
resnet101 = _torchvision_name("resnet101", ResNet101, stride_in_1x1=False)
resnet152 = _torchvision_name("resnet152", ResNet152, stride_in_1x1=False)
resnext50_32x4d = _torchvision_name("resnext50_32x4d", ResNeXt50_32x4d)
resnext101_32x8d = _torchvision_name("resnext101_32x8d", ResNeXt101_32x8d)
