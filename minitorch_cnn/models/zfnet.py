"""ZFNet: Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014."""
from .. import nn
from ._common import check_input, fc_head

# Contrast normalisation across feature maps, with AlexNet's constants (nn.LocalResponseNorm
# divides alpha by n, the papers do not).
_LRN = dict(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)


class ZFNet(nn.Module):
    """ZFNet (Fig. 3 of the paper): AlexNet with a 7x7 / 2 first layer instead of 11x11 / 4 and
    a 5x5 / 2 second layer, found by visualising AlexNet's filters; one GPU, no groups.
    224x224x3 input.

    ==========  ======================================  ==========  =============
    layer       operation                               output      parameters
    ==========  ======================================  ==========  =============
    conv1       96 @ 7x7 / 2, pad 1, ReLU               96x110x110      14,208
    pool1       max 3x3 / 2, then contrast norm         96x55x55
    conv2       256 @ 5x5 / 2, ReLU                     256x26x26      614,656
    pool2       max 3x3 / 2, then contrast norm         256x13x13
    conv3       384 @ 3x3, pad 1, ReLU                  384x13x13      885,120
    conv4       384 @ 3x3, pad 1, ReLU                  384x13x13    1,327,488
    conv5       256 @ 3x3, pad 1, ReLU                  256x13x13      884,992
    pool5       max 3x3 / 2                             256x6x6
    fc6         4096, ReLU, dropout 0.5                 4096        37,752,832
    fc7         4096, ReLU, dropout 0.5                 4096        16,781,312
    fc8         1000                                    1000         4,097,000
    ==========  ======================================  ==========  =============

    62,357,608 parameters in all. The pools round up (``ceil_mode``) to give the paper's
    55 and 13. Initialisation: weights N(0, 0.01) (the paper's "10^-2"), biases 0.
    """

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.5):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=7, stride=2, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.LocalResponseNorm(**_LRN),
            nn.Conv2d(96, 256, kernel_size=5, stride=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.LocalResponseNorm(**_LRN),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = fc_head(256 * 6 * 6, num_classes, dropout)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(self, x, self.in_channels, size=224)
        return self.classifier(self.features(x).flatten(1))
