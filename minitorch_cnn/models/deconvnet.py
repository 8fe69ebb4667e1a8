"""Encoder-decoder segmentation networks that unpool with the encoder's max-pool indices.

- DeconvNet (Noh, Hong & Han, "Learning Deconvolution Network for Semantic Segmentation", ICCV
  2015), Table 1, the "CONV-FC-CONV" network: the 13 VGG16 convolutions (3x3, BN, ReLU) in five
  stages, each ended by a 2x2/2 max pool that *records where each maximum came from*; the
  fully-connected layers as convolutions (fc6 4096@7x7 turns the 7x7 pool5 map into 1x1, fc7
  4096@1x1); then the mirror image: deconv-fc6 512@7x7 (1x1 -> 7x7) and five stages of
  unpooling (each maximum put back at its recorded position, zeros elsewhere) followed by 3x3
  deconvolutions, and a 1x1 score layer over the 21 PASCAL VOC classes. BN follows every
  convolution and deconvolution (Sec. 4.1). 224x224 in, 224x224 class scores out;
  251,805,653 parameters here (the paper: 252 M).
- SegNet (Badrinarayanan, Kendall & Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
  Architecture for Image Segmentation", TPAMI 2017): the same VGG16 encoder and index
  unpooling without the fully-connected part; its decoder uses ordinary 3x3 convolutions with
  BN and ReLU and its last one gives the class scores (11 CamVid classes); 29,449,355
  parameters here (the paper: 29.5 M). Unpooling with indices needs no learned upsampling and
  keeps boundaries sharp; the indices cost 2 bits per pooling window.
"""
from .. import nn
from ._common import check_input, conv_bn_act

__all__ = ["DeconvNet", "SegNet", "VGG16_STAGES"]

# the VGG16 convolution widths, stage by stage (configuration D of Simonyan & Zisserman)
VGG16_STAGES = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _encoder(stages, in_channels):
    blocks = []
    for widths in stages:
        layers = []
        for width in widths:
            layers += conv_bn_act(in_channels, width, bias=True)
            in_channels = width
        blocks.append(nn.Sequential(*layers))
    return nn.ModuleList(blocks)


def _decoder_widths(stages):
    """Per decoder stage (deepest first), the (in, out) channels of its layers: the stage's
    widths mirrored, its last layer narrowing to the next (shallower) stage's width."""
    plan = []
    for s in range(len(stages) - 1, -1, -1):
        widths = list(stages[s])
        target = stages[s - 1][-1] if s > 0 else widths[0]
        outs = widths[1:] + [target] if len(widths) > 1 else [target]
        ins = [widths[-1]] + outs[:-1]
        plan.append(list(zip(ins, outs)))
    return plan


class _UnpoolingNet(nn.Module):
    """The encoder with index-recording pooling and the unpooling loop shared by both nets."""

    def __init__(self, stages, in_channels):
        super().__init__()
        self.in_channels, self.stages = in_channels, stages
        self.encoder = _encoder(stages, in_channels)
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)

    def _check(self, x, min_size):
        multiple = 2 ** len(self.stages)
        check_input(self, x, self.in_channels)
        for size in x.shape[2:]:
            if size % multiple or size < min_size:
                raise ValueError(
                    f"{type(self).__name__}: input sizes must be multiples of {multiple} (one "
                    f"halving per pooling stage) and at least {min_size}, got {size}; sizes "
                    f"that work near it: {max(min_size, size // multiple * multiple)} or "
                    f"{max(min_size, -(-size // multiple) * multiple)}")

    def encode(self, x):
        """The encoder's output and the (indices, input size) of each pooling, in order."""
        pooled = []
        for block in self.encoder:
            x = block(x)
            size = x.shape
            x, indices = self.pool(x)
            pooled.append((indices, size))
        return x, pooled

    def decode(self, x, pooled):
        for block, (indices, size) in zip(self.decoder, reversed(pooled)):
            x = block(self.unpool(x, indices, output_size=size))
        return x


class DeconvNet(_UnpoolingNet):
    """DeconvNet (CONV-FC-CONV).

    Args: num_classes (21), in_channels (3), stages (VGG16's widths), fc_channels (4096),
    fc_kernel_size (7: pool5's size at 224x224). Input sizes: multiples of 32 from
    32 * fc_kernel_size up; the output has the input's size.
    """

    def __init__(self, num_classes=21, in_channels=3, stages=VGG16_STAGES, fc_channels=4096,
                 fc_kernel_size=7):
        super().__init__(stages, in_channels)
        top, k = stages[-1][-1], fc_kernel_size
        self.fc_kernel_size = k
        self.fc = nn.Sequential(
            nn.Conv2d(top, fc_channels, k), nn.BatchNorm2d(fc_channels), nn.ReLU(),
            *conv_bn_act(fc_channels, fc_channels, 1, bias=True))
        self.deconv_fc = nn.Sequential(nn.ConvTranspose2d(fc_channels, top, k),
                                       nn.BatchNorm2d(top), nn.ReLU())
        self.decoder = nn.ModuleList(
            nn.Sequential(*[m for c_in, c_out in layers
                            for m in conv_bn_act(c_in, c_out, bias=True, transposed=True)])
            for layers in _decoder_widths(stages))
        self.score = nn.Conv2d(stages[0][0], num_classes, 1)

    def forward(self, x):
        self._check(x, 2 ** len(self.stages) * self.fc_kernel_size)
        x, pooled = self.encode(x)
        x = self.deconv_fc(self.fc(x))
        return self.score(self.decode(x, pooled))


class SegNet(_UnpoolingNet):
    """SegNet.

    Args: num_classes (11), in_channels (3), stages (VGG16's widths). Input sizes: multiples
    of 32; the output has the input's size.
    """

    def __init__(self, num_classes=11, in_channels=3, stages=VGG16_STAGES):
        super().__init__(stages, in_channels)
        blocks = []
        for layers in _decoder_widths(stages):
            blocks.append(nn.Sequential(*[m for c_in, c_out in layers
                                          for m in conv_bn_act(c_in, c_out, bias=True)]))
        # the last layer of the last stage gives the class scores: no BN and no ReLU
        last = list(blocks[-1])[:-3] + [nn.Conv2d(stages[0][0], num_classes, 3, padding=1)]
        blocks[-1] = nn.Sequential(*last)
        self.decoder = nn.ModuleList(blocks)

    def forward(self, x):
        self._check(x, 2 ** len(self.stages))
        x, pooled = self.encode(x)
        return self.decode(x, pooled)
