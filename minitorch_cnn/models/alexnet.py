"""AlexNet: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks", NIPS 2012 (``AlexNet``), and torchvision's one-GPU variant (``alexnet``)."""
from .. import nn
from ._common import check_input, fc_head
from ._torchvision import no_weights

# The paper's response normalisation is b = a / (k + alpha * sum a^2)^beta over n = 5 adjacent
# maps; nn.LocalResponseNorm (PyTorch's) divides its alpha by n, so it gets n * alpha.
_LRN = dict(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """The paper's AlexNet: 227x227x3 input (the paper's text says 224; 227 makes the arithmetic
    of the first layer work: (227 - 11) / 4 + 1 = 55).

    ==========  ===================================  ==========  =============
    layer       operation                            output      parameters
    ==========  ===================================  ==========  =============
    conv1       96 @ 11x11 / 4, ReLU, LRN            96x55x55        34,944
    pool1       max 3x3 / 2 (overlapping)            96x27x27
    conv2       256 @ 5x5, pad 2, groups 2, ReLU,    256x27x27      307,456
                LRN
    pool2       max 3x3 / 2                          256x13x13
    conv3       384 @ 3x3, pad 1, ReLU               384x13x13      885,120
    conv4       384 @ 3x3, pad 1, groups 2, ReLU     384x13x13      663,936
    conv5       256 @ 3x3, pad 1, groups 2, ReLU     256x13x13      442,624
    pool5       max 3x3 / 2                          256x6x6
    fc6         4096, ReLU, dropout 0.5              4096        37,752,832
    fc7         4096, ReLU, dropout 0.5              4096        16,781,312
    fc8         1000                                 1000         4,097,000
    ==========  ===================================  ==========  =============

    60,965,224 parameters in all ("60 million" in the paper). The two-GPU split is ``groups=2``
    in conv2, conv4 and conv5 (conv3 and the FC layers connect across both halves). LRN after
    conv1 and conv2 with k = 2, n = 5, alpha = 1e-4, beta = 0.75. Initialisation as in the
    paper: weights N(0, 0.01), biases 1 in conv2, conv4, conv5, fc6 and fc7, 0 elsewhere.
    """

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.5):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4),
            nn.ReLU(),
            nn.LocalResponseNorm(**_LRN),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),
            nn.ReLU(),
            nn.LocalResponseNorm(**_LRN),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = fc_head(256 * 6 * 6, num_classes, dropout)
        # biases 1 in conv2, conv4, conv5, fc6, fc7 "accelerate the early stages of learning
        # by providing the ReLUs with positive inputs"
        ones = [self.features[i] for i in (4, 10, 12)] + [self.classifier[i] for i in (0, 3)]
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.constant_(m.bias, 1.0 if any(m is o for o in ones) else 0.0)

    def forward(self, x):
        check_input(self, x, self.in_channels, size=227)
        return self.classifier(self.features(x).flatten(1))


class TorchvisionAlexNet(nn.Module):
    """torchvision's AlexNet (Krizhevsky 2014, "One weird trick"): 64-192-384-256-256 filters,
    no LRN, no groups, adaptive average pooling to 6x6 (any input >= 63x63; 224 usual), dropout
    before fc6 and fc7. 61,100,840 parameters; ``state_dict`` keys equal torchvision's."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        check_input(self, x, 3, min_size=63)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(*, weights=None, progress=True, **kwargs):
    """torchvision's ``alexnet`` (``TorchvisionAlexNet``); ``weights`` must be None."""
    no_weights("alexnet", weights)
    return TorchvisionAlexNet(**kwargs)
