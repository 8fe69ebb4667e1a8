"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015. Configurations A (VGG11), B (VGG13), D (VGG16), E (VGG19) of Table 1,
with and without batch norm (Ioffe & Szegedy 2015), in torchvision's layout."""
import contextlib

from .. import nn
from ._common import check_input, fc_head
from ._torchvision import no_weights

# Table 1 of the paper: numbers are 3x3 convolutions (stride 1, pad 1), "M" a 2x2 / 2 max pool.
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def make_layers(cfg, batch_norm=False, in_channels=3):
    """The convolutional part of a configuration: conv 3x3 [+ BN] + ReLU, max pool 2x2 / 2."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
            layers += [nn.BatchNorm2d(v), nn.ReLU()] if batch_norm else [nn.ReLU()]
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG network: ``features`` (13 to 16 3x3 convs in five stages, 224 -> 7), ``avgpool``
    (adaptive, to 7x7: the identity at the paper's 224x224, and what lets smaller inputs
    through) and ``classifier`` (FC 4096, ReLU, dropout 0.5, FC 4096, ReLU, dropout 0.5,
    FC 1000). ``state_dict`` keys equal torchvision's.

    Parameters (equal to torchvision's): VGG11 132,863,336; VGG13 133,047,848; VGG16
    138,357,544; VGG19 143,667,240; with batch norm 5,504 / 5,888 / 8,448 / 11,008 more.
    The paper (Table 2) rounds them to 133, 133, 138 and 144 million.

    Initialisation as torchvision's (the paper trained A from N(0, 0.01) and initialised the
    deeper nets from it, noting Glorot's init works as well): He normal (fan_out) for convs,
    N(0, 0.01) for FC weights, zero biases, BN weight 1 and bias 0.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.in_channels = features[0].in_channels
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        # the fc layers hold 123 M of the 138 M weights: drawn once, by the loop below (as the
        # convs, built by _vgg)
        with nn.init.no_default_init() if init_weights else contextlib.nullcontext():
            self.classifier = fc_head(512 * 7 * 7, num_classes, dropout)
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 0.01)
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        # five 2x2 pools: 32x32 is the smallest input that keeps a pixel
        check_input(self, x, self.in_channels, min_size=32)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(cfg, batch_norm, num_classes=1000, in_channels=3, **kwargs):
    # VGG's own initialisation (init_weights, the default) draws every conv weight: skip the
    # default draw before it
    with nn.init.no_default_init() if kwargs.get("init_weights", True) \
            else contextlib.nullcontext():
        features = make_layers(cfgs[cfg], batch_norm, in_channels)
    return VGG(features, num_classes, **kwargs)


def VGG11(num_classes=1000, in_channels=3, **kwargs):
    """Configuration A: 8 convs + 3 FC, 132,863,336 parameters."""
    return _vgg("A", False, num_classes, in_channels, **kwargs)


def VGG13(num_classes=1000, in_channels=3, **kwargs):
    """Configuration B: 10 convs + 3 FC, 133,047,848 parameters."""
    return _vgg("B", False, num_classes, in_channels, **kwargs)


def VGG16(num_classes=1000, in_channels=3, **kwargs):
    """Configuration D: 13 convs + 3 FC, 138,357,544 parameters (15.5 G multiply-adds at 224)."""
    return _vgg("D", False, num_classes, in_channels, **kwargs)


def VGG19(num_classes=1000, in_channels=3, **kwargs):
    """Configuration E: 16 convs + 3 FC, 143,667,240 parameters."""
    return _vgg("E", False, num_classes, in_channels, **kwargs)


def VGG11_BN(num_classes=1000, in_channels=3, **kwargs):
    """Configuration A with batch norm after every conv: 132,868,840 parameters."""
    return _vgg("A", True, num_classes, in_channels, **kwargs)


def VGG13_BN(num_classes=1000, in_channels=3, **kwargs):
    """Configuration B with batch norm after every conv: 133,053,736 parameters."""
    return _vgg("B", True, num_classes, in_channels, **kwargs)


def VGG16_BN(num_classes=1000, in_channels=3, **kwargs):
    """Configuration D with batch norm after every conv: 138,365,992 parameters."""
    return _vgg("D", True, num_classes, in_channels, **kwargs)


def VGG19_BN(num_classes=1000, in_channels=3, **kwargs):
    """Configuration E with batch norm after every conv: 143,678,248 parameters."""
    return _vgg("E", True, num_classes, in_channels, **kwargs)


# torchvision's names: the same networks (torchvision's VGG is the paper's), its signature.
def _torchvision_name(name, build):
    def constructor(*, weights=None, progress=True, **kwargs):
        no_weights(name, weights)
        return build(**kwargs)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (f"torchvision's ``{name}`` (same keys and shapes as ``{build.__name__}``"
                           "); ``weights`` must be None: load exported weights with "
                           "``load_weights``.")
    return constructor


vgg11, vgg13 = _torchvision_name("vgg11", VGG11), _torchvision_name("vgg13", VGG13)
vgg16, vgg19 = _torchvision_name("vgg16", VGG16), _torchvision_name("vgg19", VGG19)
vgg11_bn = _torchvision_name("vgg11_bn", VGG11_BN)
vgg13_bn = _torchvision_name("vgg13_bn", VGG13_BN)
vgg16_bn = _torchvision_name("vgg16_bn", VGG16_BN)
vgg19_bn = _torchvision_name("vgg19_bn", VGG19_BN)
