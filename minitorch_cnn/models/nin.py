"""Network in Network: Lin, Chen & Yan, "Network In Network", ICLR 2014."""
from .. import nn
from ._common import check_input


def mlpconv(in_channels, out_channels, kernel_size, padding, hidden=(None, None)):
    """An mlpconv layer: a k x k convolution followed by two 1x1 convolutions (the "micro
    network", a two-layer perceptron slid over the image), ReLU after each."""
    h1, h2 = (out_channels if h is None else h for h in hidden)
    return nn.Sequential(
        nn.Conv2d(in_channels, h1, kernel_size, padding=padding), nn.ReLU(),
        nn.Conv2d(h1, h2, 1), nn.ReLU(),
        nn.Conv2d(h2, out_channels, 1), nn.ReLU(),
    )


class NiN(nn.Module):
    """The paper's CIFAR-10 network: three mlpconv layers, dropout after the first two, and
    global average pooling instead of fully-connected layers (each of the last layer's
    ``num_classes`` maps becomes one class score). 32x32x3 input.

    ========  ====================================================  =========  ==========
    block     operation                                             output     parameters
    ========  ====================================================  =========  ==========
    mlpconv1  5x5 conv 192, pad 2 / 1x1 160 / 1x1 96, ReLU each      96x32x32      60,928
    pool1     max 3x3 / 2, dropout 0.5                              96x16x16
    mlpconv2  5x5 conv 192, pad 2 / 1x1 192 / 1x1 192                192x16x16    535,104
    pool2     average 3x3 / 2, dropout 0.5                          192x8x8
    mlpconv3  3x3 conv 192, pad 1 / 1x1 192 / 1x1 10                10x8x8       370,954
    gap       global average pooling                                10
    ========  ====================================================  =========  ==========

    966,986 parameters for 10 classes (the layer sizes are those of the authors' released
    cuda-convnet/Caffe model; the pools round up, as Caffe does). Any input of at least 5x5
    runs, since the network has no fully-connected layer.
    """

    def __init__(self, num_classes=10, in_channels=3, dropout=0.5):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            mlpconv(in_channels, 96, 5, 2, hidden=(192, 160)),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            nn.Dropout(dropout),
            mlpconv(96, 192, 5, 2),
            nn.AvgPool2d(3, stride=2, ceil_mode=True),
            nn.Dropout(dropout),
            mlpconv(192, num_classes, 3, 1, hidden=(192, 192)),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=5)
        return self.avgpool(self.features(x)).flatten(1)
