"""U-Net (Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
Segmentation", MICCAI 2015).

A contracting path of four steps, each two unpadded 3x3 convolutions + ReLU and a 2x2/2 max
pool, doubling the channels 64 -> 128 -> 256 -> 512 -> 1024; an expansive path of four steps,
each a 2x2 up-convolution halving the channels, the concatenation with the *cropped* feature map
of the same contracting step (unpadded convolutions lose the border), and two 3x3 convolutions;
a final 1x1 convolution to the classes. The paper's tile: 572x572 in, 388x388 out (Fig. 1);
1 input channel and 2 classes give 31,030,658 parameters. ``padding="same"`` pads the 3x3
convolutions instead, so nothing is cropped and the output has the input's size.
"""
import itertools

from .. import nn
from ..ops.functions import cat
from ._common import check_input

__all__ = ["UNet"]


class DoubleConv(nn.Sequential):
    """(3x3 conv + ReLU) twice; unpadded in the paper."""

    def __init__(self, in_channels, out_channels, padding):
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, padding=padding), nn.ReLU(),
                         nn.Conv2d(out_channels, out_channels, 3, padding=padding), nn.ReLU())


def _center_crop(x, height, width):
    top, left = (x.shape[2] - height) // 2, (x.shape[3] - width) // 2
    return x[:, :, top:top + height, left:left + width]


class UNet(nn.Module):
    """The U-Net of Fig. 1.

    Args: in_channels (1), num_classes (2), base_channels (64: the first step's width; each
    step doubles it), depth (4 pooling steps), padding ("valid", the paper's, or "same"),
    dropout (0.5: the paper's drop-out at the end of the contracting path).

    Shapes: (N, in_channels, H, W) -> (N, num_classes, H', W'), H' = H - 184 for the paper's
    "valid" net (572 -> 388) and H' = H for "same". H and W must give even sizes at every
    pooling step (a ``ValueError`` lists the sizes near H that do).
    Initialisation as the paper: N(0, sqrt(2 / fan_in)) weights, zero biases.
    """

    def __init__(self, in_channels=1, num_classes=2, base_channels=64, depth=4,
                 padding="valid", dropout=0.5):
        super().__init__()
        if padding not in ("valid", "same"):
            raise ValueError(f"UNet: padding must be 'valid' or 'same', got {padding!r}")
        self.in_channels, self.depth, self.padding = in_channels, depth, padding
        pad = 1 if padding == "same" else 0
        widths = [base_channels * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList(DoubleConv(c_in, c_out, pad) for c_in, c_out
                                  in zip([in_channels] + widths[:-2], widths[:-1]))
        self.pool = nn.MaxPool2d(2, stride=2)
        self.bottleneck = DoubleConv(widths[-2], widths[-1], pad)
        self.dropout = nn.Dropout(dropout)
        self.upconv = nn.ModuleList(nn.ConvTranspose2d(c, c // 2, 2, stride=2)
                                    for c in widths[:0:-1])
        self.up = nn.ModuleList(DoubleConv(c, c // 2, pad) for c in widths[:0:-1])
        self.head = nn.Conv2d(base_channels, num_classes, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def output_size(self, size):
        """The output height (or width) for an input ``size``, or None when the size does not
        fit (odd before a pooling step, or too small)."""
        shrink = 0 if self.padding == "same" else 4
        for _ in range(self.depth):
            size -= shrink
            if size <= 0 or size % 2:
                return None
            size //= 2
        size -= shrink
        for _ in range(self.depth):
            size = 2 * size - shrink
        return size if size > 0 else None

    def _check(self, x):
        check_input(self, x, self.in_channels)
        for size in x.shape[2:]:
            if self.output_size(size) is None:
                below = next((s for s in range(size - 1, 0, -1) if self.output_size(s)), None)
                above = next(s for s in itertools.count(size + 1) if self.output_size(s))
                near = f"{below} or {above}" if below else f"{above}"
                raise ValueError(
                    f"UNet: an input size of {size} does not give even sizes at every "
                    f"pooling step ({self.padding!r} padding, depth {self.depth}); sizes "
                    f"that work near it: {near}")

    def forward(self, x):
        self._check(x)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.dropout(self.bottleneck(x))
        for upconv, block, skip in zip(self.upconv, self.up, reversed(skips)):
            x = upconv(x)
            x = block(cat([_center_crop(skip, x.shape[2], x.shape[3]), x], dim=1))
        return self.head(x)
