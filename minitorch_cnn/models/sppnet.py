"""SPP-net (He, Zhang, Ren & Sun, "Spatial Pyramid Pooling in Deep Convolutional Networks for
Visual Recognition", ECCV 2014 / TPAMI 2015), the ZF-5 network of Table 1.

Convolutions accept any input size but fully-connected layers need a fixed-length vector, so
classic CNNs crop or warp images to 224x224. SPP-net pools the last convolutional maps into a
fixed pyramid of bins, {6x6, 3x3, 2x2, 1x1} max-pooled, whatever their size: 256 x 50 = 12,800
features for fc6. The network then trains and tests on several image sizes (180 and 224 in the
paper's multi-size training) and on whole images.

ZF-5 trunk (Zeiler & Fergus' "fast" model): conv1 96@7x7/2, LRN, pool 3x3/2; conv2 256@5x5/2,
LRN, pool 3x3/2; conv3 384@3x3, conv4 384@3x3, conv5 256@3x3 (ReLU after each convolution);
224 -> 110 -> 55 -> 26 -> 13 (the paper's 13x13 conv5 maps; pooling rounds up, as Caffe's).
Head: SPP, fc6 4096, fc7 4096 (ReLU, dropout 0.5), fc8 1000. 77,037,672 parameters.
"""
from .. import nn
from ._common import check_input, fc_head

__all__ = ["SPPNet"]


class SPPNet(nn.Module):
    """ZF-5 with a spatial pyramid pooling head.

    Args: num_classes (1000), in_channels (3), levels ((6, 3, 2, 1)), dropout (0.5).
    Shapes: (N, in_channels, H, W) -> (N, num_classes) for any H, W >= 39.
    """

    min_size = 39

    def __init__(self, num_classes=1000, in_channels=3, levels=(6, 3, 2, 1), dropout=0.5):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, 7, stride=2, padding=1), nn.ReLU(),
            nn.LocalResponseNorm(5), nn.MaxPool2d(3, stride=2, ceil_mode=True),
            nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(),
            nn.LocalResponseNorm(5), nn.MaxPool2d(3, stride=2, ceil_mode=True),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU())
        self.spp = nn.SpatialPyramidPooling2d(levels, mode="max")
        self.classifier = fc_head(self.spp.output_features(256), num_classes, dropout)

    def forward(self, x):
        check_input(self, x, self.in_channels, min_size=self.min_size)
        return self.classifier(self.spp(self.features(x)))
