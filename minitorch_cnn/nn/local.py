"""The locally-connected layer of DeepFace (Taigman et al. 2014): unshared convolution filters."""
import math

from .. import creation
from ..ops.local_conv import local_output_size
from ..ops.arguments import pair
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class LocallyConnected2d(Module):
    """A convolution with a different filter at every output position (see ``F.local_conv2d``).

    The input size ``in_size`` (H, W) is fixed at construction, since there is one filter per
    output position. weight: (OH, OW, out_channels, in_channels, kh, kw); bias:
    (out_channels, OH, OW). Parameters: OH OW O C kh kw + O OH OW (DeepFace's L4: 16 filters
    9x9x16 on 63x63 -> 55x55, 62.7M weights). Initialised like Conv2d: weights and biases
    uniform on +-1/sqrt(C kh kw) (kaiming_uniform with a = sqrt(5), fan_in = C kh kw).
    """

    def __init__(self, in_channels, out_channels, in_size, kernel_size, stride=1, padding=0,
                 bias=True, device=None, dtype=None):
        super().__init__()
        name = "LocallyConnected2d"
        self.in_channels, self.out_channels = in_channels, out_channels
        self.in_size = pair(in_size, "in_size", name, 1)
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = pair(stride, "stride", name, 1)
        self.padding = pair(padding, "padding", name, 0)
        self.out_size = tuple(local_output_size(*args) for args in zip(
            self.in_size, self.kernel_size, self.stride, self.padding))
        if min(self.out_size) < 1:
            raise ValueError(f"{name}: kernel {self.kernel_size} does not fit the input size "
                             f"{self.in_size} with padding {self.padding}")
        shape = (*self.out_size, out_channels, in_channels, *self.kernel_size)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, *self.out_size, dtype=dtype,
                                                 device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)): sqrt(6 / (1 + 5) / fan_in)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, *self.in_size):
            raise ValueError(f"{self!r}: expected an input of shape (N, {self.in_channels}, "
                             f"{self.in_size[0]}, {self.in_size[1]}), got {x.shape}")
        return F.local_conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, in_size={self.in_size}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"bias={self.bias is not None}")
