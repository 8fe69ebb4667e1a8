"""GoogLeNet (Inception v1): Szegedy et al., "Going Deeper with Convolutions", CVPR 2015, as in
the paper (``GoogLeNet``) and in torchvision's batch-norm layout (``googlenet``)."""
from collections import namedtuple

from .. import nn
from ..nn import functional as F
from ..ops.functions import cat
from ._common import check_input, conv_bn_act
from ._torchvision import no_weights

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__doc__ = """What GoogLeNet returns in training mode (torchvision's order)."""


def googlenet_loss(outputs, target, aux_weight=0.3):
    """The training loss of a network with auxiliary classifiers: the cross-entropy of the main
    logits plus ``aux_weight`` times that of each auxiliary head ("the losses of the auxiliary
    classifiers were weighted by 0.3", Szegedy et al. 2015). ``outputs`` is what the model
    returned: a ``GoogLeNetOutputs`` (or Inception v3's pair) in training mode, or plain logits
    (eval mode, ``aux_logits=False``), for which this is the plain cross-entropy."""
    if not isinstance(outputs, tuple):
        return F.cross_entropy(outputs, target)
    loss = F.cross_entropy(outputs[0], target)
    for aux in outputs[1:]:
        if aux is not None:
            loss = loss + aux_weight * F.cross_entropy(aux, target)
    return loss


class BasicConv2d(nn.Module):
    """Convolution + ReLU (the paper), or convolution without bias + batch norm (eps 1e-3) +
    ReLU (torchvision)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 batch_norm=False):
        super().__init__()
        layers = conv_bn_act(in_channels, out_channels, kernel_size, stride, padding,
                             bias=not batch_norm, norm=batch_norm, eps=0.001)
        self.conv, self.relu = layers[0], layers[-1]
        self.bn = layers[1] if batch_norm else None

    def forward(self, x):
        x = self.conv(x)
        return self.relu(x if self.bn is None else self.bn(x))


class Inception(nn.Module):
    """An Inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated
    along channels. torchvision's layout uses a 3x3 where the paper has the 5x5."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 batch_norm=False, k5=5):
        super().__init__()
        bn = dict(batch_norm=batch_norm)
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1, **bn)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1, **bn),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1, **bn))
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1, **bn),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=k5, padding=k5 // 2, **bn))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1, **bn))

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class InceptionAux(nn.Module):
    """An auxiliary classifier: 5x5 / 3 average pooling (14x14 -> 4x4), 1x1 conv 128 + ReLU,
    FC 1024 + ReLU, dropout 0.7, FC to the classes."""

    def __init__(self, in_channels, num_classes, batch_norm=False, dropout=0.7, adaptive=False):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((4, 4)) if adaptive else nn.AvgPool2d(5, stride=3)
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1, batch_norm=batch_norm)
        self.fc1 = nn.Linear(2048, 1024)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.conv(self.pool(x)).flatten(1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


# Table 1 of the paper: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION_TABLE = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128), "5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet, 22 layers deep, 224x224x3 input (Table 1 of the paper).

    Stem: conv 7x7 / 2 (64) -> max pool 3x3 / 2 -> LRN -> conv 1x1 (64) -> conv 3x3 (192) ->
    LRN -> max pool 3x3 / 2 (28x28x192); Inception 3a, 3b (28x28x480) -> max pool -> 4a..4e
    (14x14x832) -> max pool -> 5a, 5b (7x7x1024) -> 7x7 average pooling -> dropout 0.4 ->
    linear. Max pooling rounds up (``ceil_mode``), as in the authors' Caffe model. Auxiliary
    classifiers on 4a and 4d (see ``InceptionAux``) add their losses with weight 0.3 in training
    (``googlenet_loss``); in training mode the model returns ``GoogLeNetOutputs(logits,
    aux_logits2, aux_logits1)``, in eval mode the main logits only. ``aux_logits=False``
    removes the heads.

    Parameters: 6,998,552 in the main network, 13,378,280 with the two heads; 1.58 G
    multiply-adds. The paper's "12 times fewer parameters than AlexNet" comes out as 8.7 times
    the paper's AlexNet (60,965,224). LRN as the authors' Caffe model (bvlc_googlenet): n = 5,
    alpha = 1e-4 in Caffe's and PyTorch's convention (divided by n), beta = 0.75, k = 1;
    initialisation as that model's: Xavier (uniform +-sqrt(3 / fan_in)) weights, biases 0.2.

    ``variant="torchvision"`` (what ``googlenet()`` builds) gives torchvision's layout instead:
    batch norm after every convolution and no biases, no LRN, 3x3 instead of 5x5 in each
    module's third branch, a 2x2 last max pool, adaptive pooling (inputs >= 15x15), dropout 0.2,
    ``transform_input``; its ``state_dict`` keys equal torchvision's (6,624,904 parameters
    without the heads, 13,004,888 with).
    """

    def __init__(self, num_classes=1000, in_channels=3, aux_logits=True, dropout=None,
                 dropout_aux=0.7, variant="paper", transform_input=False):
        super().__init__()
        if variant not in ("paper", "torchvision"):
            raise ValueError(f"GoogLeNet: variant must be 'paper' or 'torchvision', "
                             f"got {variant!r}")
        tv = variant == "torchvision"
        self.variant, self.in_channels = variant, in_channels
        self.aux_logits, self.transform_input = aux_logits, transform_input
        bn = dict(batch_norm=tv)
        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, **bn)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn1 = None if tv else nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1, **bn)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1, **bn)
        self.lrn2 = None if tv else nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        block = dict(batch_norm=tv, k5=3 if tv else 5)
        t = INCEPTION_TABLE
        self.inception3a = Inception(*t["3a"], **block)
        self.inception3b = Inception(*t["3b"], **block)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(*t["4a"], **block)
        self.inception4b = Inception(*t["4b"], **block)
        self.inception4c = Inception(*t["4c"], **block)
        self.inception4d = Inception(*t["4d"], **block)
        self.inception4e = Inception(*t["4e"], **block)
        self.maxpool4 = nn.MaxPool2d(2 if tv else 3, stride=2, ceil_mode=True)
        self.inception5a = Inception(*t["5a"], **block)
        self.inception5b = Inception(*t["5b"], **block)
        if aux_logits:
            aux = dict(batch_norm=tv, dropout=dropout_aux, adaptive=tv)
            self.aux1 = InceptionAux(512, num_classes, **aux)
            self.aux2 = InceptionAux(528, num_classes, **aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout((0.2 if tv else 0.4) if dropout is None else dropout)
        self.fc = nn.Linear(1024, num_classes)
        self._init_weights(tv)

    def _init_weights(self, tv):
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                if tv:  # torchvision's; it leaves the Linear biases at PyTorch's default
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                else:
                    nn.init.kaiming_uniform_(m.weight, nonlinearity="linear")
                    nn.init.constant_(m.bias, 0.2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _transform_input(self, x):
        # torchvision's: ImageNet-normalised input -> the [-1, 1] scaling its weights expect
        scale, shift = (0.229, 0.224, 0.225), (0.485, 0.456, 0.406)
        return cat([x[:, c:c + 1] * (scale[c] / 0.5) + (shift[c] - 0.5) / 0.5
                    for c in range(3)], dim=1)

    def forward(self, x):
        if self.variant == "paper":
            check_input(self, x, self.in_channels, size=224)
        else:
            check_input(self, x, self.in_channels, min_size=15)
        if self.transform_input:
            x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        if self.lrn1 is not None:
            x = self.lrn1(x)
        x = self.conv3(self.conv2(x))
        if self.lrn2 is not None:
            x = self.lrn2(x)
        x = self.maxpool2(x)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        heads = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if heads else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if heads else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        return GoogLeNetOutputs(x, aux2, aux1) if heads else x


def googlenet(*, weights=None, progress=True, num_classes=1000, aux_logits=True,
              transform_input=False, dropout=0.2, dropout_aux=0.7):
    """torchvision's ``googlenet`` (batch norm, see ``GoogLeNet``); ``weights`` must be None."""
    no_weights("googlenet", weights)
    return GoogLeNet(num_classes, 3, aux_logits, dropout, dropout_aux, variant="torchvision",
                     transform_input=transform_input)
