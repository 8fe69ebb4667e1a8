"""The context module of Yu & Koltun, "Multi-Scale Context Aggregation by Dilated
Convolutions", ICLR 2016 (Table 1).

Seven 3x3 convolutions with dilation 1, 1, 2, 4, 8, 16, 1, each padded by its dilation so that
the resolution never changes, followed by pointwise truncation max(., 0), and a final 1x1
convolution without truncation. The receptive field grows exponentially while the parameters
grow linearly: 3, 5, 9, 17, 33, 65, 67, 67. The module takes C feature maps (e.g. the 21 class
score maps of a front end) and returns C refined maps of the same size.

- basic: C channels throughout; 64 C^2 parameters plus biases.
- large: wider inside, 2C, 2C, 4C, 8C, 16C, 32C, 32C, then C.

Initialisation (the paper's): identity, k(t, a) = 1[t = 0] 1[a = b], so that the fresh module
passes its input through; the large module uses the paper's scaled identity plus noise.
"""
import numpy as np

from .. import nn

__all__ = ["DilatedContextNet"]


class DilatedContextNet(nn.Module):
    """The context module.

    Args: channels (C, 21 for PASCAL VOC), large (False: the basic module), init ("identity"
    or "default": PyTorch's initialisation). Shapes: (N, C, H, W) -> (N, C, H, W).
    """

    dilations = (1, 1, 2, 4, 8, 16, 1)
    large_widths = (2, 2, 4, 8, 16, 32, 32)

    def __init__(self, channels=21, large=False, init="identity"):
        super().__init__()
        if init not in ("identity", "default"):
            raise ValueError(f"DilatedContextNet: init must be 'identity' or 'default', "
                             f"got {init!r}")
        self.channels = channels
        widths = [channels * m for m in self.large_widths] if large else [channels] * 7
        layers, c_in = [], channels
        for width, d in zip(widths, self.dilations):
            layers += [nn.Conv2d(c_in, width, 3, padding=d, dilation=d), nn.ReLU()]
            c_in = width
        layers.append(nn.Conv2d(c_in, channels, 1))
        self.layers = nn.Sequential(*layers)
        if init == "identity":
            for conv in self.layers:
                if isinstance(conv, nn.Conv2d):
                    self._identity_(conv, channels, noise=large)

    @staticmethod
    def _identity_(conv, base, noise):
        """The paper's identity initialisation, for c_in -> c_out channels and base width C:
        k(t, a) = C / c_out where t = 0 (the centre tap) and floor(a C / c_in) =
        floor(b C / c_out), else 0 (basic) or N(0, sigma^2), sigma << C / c_out (large)."""
        out_c, in_c, kh, kw = conv.weight.shape
        nn.init.zeros_(conv.bias)
        if noise:
            nn.init.normal_(conv.weight, 0.0, 1e-3 * base / out_c)
        else:
            nn.init.zeros_(conv.weight)
        a, b = np.arange(in_c)[None, :], np.arange(out_c)[:, None]
        conv.weight.data[:, :, kh // 2, kw // 2] += (a * base // in_c == b * base // out_c) \
            * (base / out_c)

    def receptive_fields(self):
        """The receptive field (in pixels) after each layer: 3, 5, 9, 17, 33, 65, 67, 67."""
        fields, rf = [], 1
        for conv in self.layers:
            if isinstance(conv, nn.Conv2d):
                rf += (conv.kernel_size[0] - 1) * conv.dilation[0]
                fields.append(rf)
        return fields

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"DilatedContextNet: expected an input of shape "
                             f"(N, {self.channels}, H, W), got {tuple(x.shape)}")
        return self.layers(x)
