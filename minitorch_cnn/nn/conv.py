"""Convolution layers: ``Conv2d`` and ``ConvTranspose2d`` with PyTorch's constructor arguments,
parameter names and default initialisation."""
import math

from .. import creation
from ..ops.arguments import conv_arguments, pair
from ..ops.conv import conv2d_activation
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class _ConvNd(Module):
    """Shared parameters of the convolution layers: ``weight`` and ``bias``.

    Default initialisation (PyTorch's): ``kaiming_uniform_(weight, a=sqrt(5))``, i.e. uniform on
    +-1/sqrt(fan_in), and the bias uniform on +-1/sqrt(fan_in), fan_in = weight.shape[1] * kh * kw.
    """

    def __init__(self, name, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, weight_shape, device, dtype):
        super().__init__()
        self.stride, self.padding, self.dilation = conv_arguments(name, stride, padding,
                                                                  dilation, groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        modes = ("zeros", "reflect", "replicate", "circular") if name == "Conv2d" else ("zeros",)
        if padding_mode not in modes:
            raise ValueError(f"{name}: padding_mode must be one of {', '.join(modes)}, "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = Parameter(creation.empty(*weight_shape, *self.kernel_size, dtype=dtype,
                                               device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if init.skips_default():
            return
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if getattr(self, "activation", None):
            s += f", activation={self.activation!r}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution layer: ``F.conv2d(x, weight, bias, stride, padding, dilation, groups)``.

    weight: (out_channels, in_channels / groups, kh, kw); bias: (out_channels,).
    Input (N, in_channels, H, W) -> (N, out_channels, out_h, out_w).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode,
                         (out_channels, in_channels // groups), device, dtype)

    # an activation fused into the output pass ("relu", "relu6"): set by ``nn.utils.fuse``
    activation = None

    def forward(self, x):
        padding = self.padding
        if self.padding_mode != "zeros":  # pad first, as PyTorch does, then no zeros
            x, padding = F.pad(x, self._mode_padding(), mode=self.padding_mode), 0
        return conv2d_activation(x, self.weight, self.bias, self.stride, padding, self.dilation,
                                 self.groups, self.activation)

    def _mode_padding(self):
        """(left, right, top, bottom) for a padding_mode: 'same' puts the odd pixel last."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            (kh, kw), (dh, dw) = self.kernel_size, self.dilation
            th, tw = dh * (kh - 1), dw * (kw - 1)
            return (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        ph, pw = self.padding
        return (pw, pw, ph, ph)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution layer: ``F.conv_transpose2d`` (the gradient of a convolution
    with respect to its input; the upsampling of FCN and U-Net).

    weight: (in_channels, out_channels / groups, kh, kw); bias: (out_channels,).
    ``forward(x, output_size=None)``: an ``output_size`` (H, W) picks the output_padding.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair, "
                             f"got {padding!r}")
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode,
                         (in_channels, out_channels // groups), device, dtype)
        self.output_padding = pair(output_padding, "output_padding", "ConvTranspose2d")

    def _output_padding(self, x, output_size):
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        pads = []
        for n, want, k, s, p, d in zip(x.shape[-2:], size, self.kernel_size, self.stride,
                                       self.padding, self.dilation):
            smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= want < smallest + max(s, d):
                raise ValueError(f"ConvTranspose2d: requested output size {size} is not "
                                 f"reachable from an input of shape {tuple(x.shape)}")
            pads.append(want - smallest)
        return tuple(pads)

    def forward(self, x, output_size=None):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups,
                                  self.dilation)
