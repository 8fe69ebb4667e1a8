"""CapsNet (Sabour, Frosst & Hinton, "Dynamic routing between capsules", NIPS 2017)."""
from collections import namedtuple

import numpy as np

from .. import nn
from ..backend import xp as array_module
from ..nn import functional as F
from ..tensor import Tensor
from ._common import check_input

CapsNetOutput = namedtuple("CapsNetOutput", ["lengths", "reconstructions", "capsules",
                                             "masked_by"])
CapsNetOutput.__doc__ = """What CapsNet returns: ``lengths`` (N, classes), the class capsules'
lengths (the class scores); ``reconstructions`` (N, C * H * W) in [0, 1], the decoder's output
(None without the decoder); ``capsules`` (N, classes, 16), the class capsules v_j;
``masked_by`` (N,) the class index array whose capsule the decoder saw (None without it)."""

SMALL_WIDTH = 0.25  # CapsNet.small() and the registry's capsnet-small


class CapsNet(nn.Module):
    """The paper's three-layer capsule network for 28x28 digits, with its decoder::

        conv1        256 9x9 convolutions, stride 1, ReLU   -> 256x20x20       20,992
        PrimaryCaps  32 channels of 8-D capsules, 9x9, stride 2, squashed
                                                           -> 1152 x 8     5,308,672
        DigitCaps    a 16x8 W_ij per (primary, class) pair, 3 routing iterations
                                                           -> 10 x 16      1,474,560
        decoder      512 ReLU - 1024 ReLU - 784 sigmoid on the 10 x 16 capsules with all but
                     one masked out                                        1,411,344

    6,804,224 parameters without the decoder (``reconstruction=False``), 8,215,568 with it,
    the paper's numbers. The length of class capsule j is the score of class j.

    ``forward(x, target=None)`` returns a ``CapsNetOutput``; the decoder sees the capsule of
    ``target`` when it is given (the paper's training) and the longest one otherwise (its
    inference). ``loss(output, images, target)`` is the margin loss (eq. 4, m+ = 0.9,
    m- = 0.1, lambda = 0.5) plus 0.0005 times the reconstruction's sum of squared errors per
    image, both averaged over the batch; the reconstruction compared is the one of the target's
    capsule (decoded again where the output was masked by another class). The decoder's sigmoid
    output is compared with each image rescaled to [0, 1] (min to 0, max to 1), which undoes a
    normalisation (x - mean) / std exactly for digits that span black to white, as MNIST's do.
    ``class_scores(output)`` gives the lengths (what accuracy is measured on).

    ``width`` scales conv1's and PrimaryCaps' channels (256 and 32); ``CapsNet.small()``
    (registered as ``capsnet-small``) is width 0.25: 64 conv1 channels, 8 primary capsule
    channels (288 capsules), for training on a CPU in seconds per epoch: 705,728 parameters
    without the decoder, 2,117,072 with it. ``detach_coupling`` as in ``F.dynamic_routing``.
    """

    def __init__(self, num_classes=10, in_channels=1, image_size=28, width=1.0,
                 routing_iterations=3, reconstruction=True, detach_coupling=False,
                 reconstruction_weight=0.0005):
        super().__init__()
        conv_channels, primary_channels = round(256 * width), round(32 * width)
        if min(conv_channels, primary_channels) < 1 or image_size < 25:
            raise ValueError(f"CapsNet: width {width} and image_size {image_size} leave no "
                             f"capsules (need width >= {1 / 64} and image_size >= 25)")
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        self.reconstruction_weight = reconstruction_weight
        grid = (image_size - 8 - 9) // 2 + 1  # conv1 9x9, then PrimaryCaps 9x9 stride 2
        self.conv1 = nn.Conv2d(in_channels, conv_channels, 9)
        self.relu = nn.ReLU()
        self.primary_caps = nn.PrimaryCapsules(conv_channels, primary_channels, 8, 9, stride=2)
        self.digit_caps = nn.RoutingCapsules(primary_channels * grid * grid, 8, num_classes, 16,
                                             routing_iterations, detach_coupling)
        self.decoder = nn.Sequential(
            nn.Linear(num_classes * 16, 512), nn.ReLU(),
            nn.Linear(512, 1024), nn.ReLU(),
            nn.Linear(1024, in_channels * image_size * image_size), nn.Sigmoid(),
        ) if reconstruction else None

    @classmethod
    def small(cls, **kwargs):
        """The width-0.25 network (``capsnet-small``), for CPU training (see the class)."""
        return cls(width=SMALL_WIDTH, **kwargs)

    def forward(self, x, target=None):
        check_input(self, x, self.in_channels, size=self.image_size)
        v = self.digit_caps(self.primary_caps(self.relu(self.conv1(x))))
        lengths = (v * v).sum(axis=-1).sqrt()
        if self.decoder is None:
            return CapsNetOutput(lengths, None, v, None)
        index = lengths.data.argmax(axis=1) if target is None else self._labels(target, v)
        return CapsNetOutput(lengths, self.reconstruct(v, index), v, index)

    def _labels(self, target, v):
        t = array_module(v.data).asarray(target.data if isinstance(target, Tensor) else target)
        if t.shape != v.shape[:1] or t.dtype.kind not in "iu" or (
                len(t) and (int(t.min()) < 0 or int(t.max()) >= self.num_classes)):
            raise ValueError(f"CapsNet: expected a target of shape ({v.shape[0]},) of class "
                             f"indices in [0, {self.num_classes}), got {tuple(t.shape)} {t.dtype}")
        return t

    def reconstruct(self, capsules, index):
        """The decoder's images (N, C * H * W) from class capsules (N, classes, 16) with all
        but capsule ``index[n]`` of each image set to 0."""
        if self.decoder is None:
            raise ValueError("CapsNet.reconstruct: this CapsNet has no decoder "
                             "(reconstruction=False)")
        xp = array_module(capsules.data)
        mask = xp.zeros(capsules.shape[:2] + (1,), dtype=capsules.dtype)
        mask[xp.arange(len(index)), index] = 1
        n, j, d = capsules.shape
        return self.decoder((capsules * mask).reshape(n, j * d))

    def class_scores(self, output):
        """The class scores of an output: the capsules' lengths."""
        return output.lengths

    def loss(self, output, images, target):
        """Margin loss + 0.0005 x the reconstruction's sum of squared errors (see the class)."""
        loss = F.margin_loss(output.lengths, target)
        if self.decoder is None:
            return loss
        t = self._labels(target, output.capsules)
        recon = output.reconstructions
        if not bool((output.masked_by == t).all()):
            recon = self.reconstruct(output.capsules, t)
        diff = recon - unit_range(images).reshape(recon.shape)
        return loss + self.reconstruction_weight * (diff * diff).sum(axis=1).mean()


def unit_range(images):
    """The raw array of each image of a batch (N, ...) mapped linearly to [0, 1] (a constant
    image to 0): the pixel intensities the decoder reconstructs."""
    x = images.data if isinstance(images, Tensor) else images
    xp = array_module(x)
    flat = x.reshape(x.shape[0], int(np.prod(x.shape[1:])))
    lo, hi = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    return ((flat - lo) / xp.where(hi > lo, hi - lo, 1)).reshape(x.shape)
