"""Capsule layers (Sabour, Frosst & Hinton, "Dynamic routing between capsules", NIPS 2017):
``PrimaryCapsules`` (a convolution read as capsules) and ``RoutingCapsules`` (prediction
vectors u_hat_j|i = W_ij u_i, then routing by agreement)."""
from .. import creation
from . import functional as F
from . import init
from .conv import Conv2d
from .module import Module
from .parameter import Parameter


class PrimaryCapsules(Module):
    """A convolution with ``capsule_channels * capsule_dim`` output channels whose output is
    read as ``capsule_channels`` grids of ``capsule_dim``-D capsules and squashed.

    The paper's PrimaryCaps: 32 channels of 8-D capsules from a 9x9 convolution of stride 2 on
    conv1's 20x20x256, a 6x6 grid each: 1152 capsules, 5,308,672 parameters. Channel
    ``k * capsule_dim + d`` of the convolution is dimension d of the capsules of channel k.
    Input (N, in_channels, H, W); output (N, capsule_channels * H' * W', capsule_dim), the
    capsules ordered by channel, then row, then column.
    """

    def __init__(self, in_channels, capsule_channels=32, capsule_dim=8, kernel_size=9, stride=2,
                 padding=0):
        super().__init__()
        self.capsule_channels, self.capsule_dim = capsule_channels, capsule_dim
        self.conv = Conv2d(in_channels, capsule_channels * capsule_dim, kernel_size,
                           stride=stride, padding=padding)

    def forward(self, x):
        y = self.conv(x)
        n, _, h, w = y.shape
        caps = y.reshape(n, self.capsule_channels, self.capsule_dim, h * w)
        return F.squash(caps.permute(0, 1, 3, 2).reshape(n, self.capsule_channels * h * w,
                                                         self.capsule_dim), dim=-1)

    def extra_repr(self):
        return f"capsule_channels={self.capsule_channels}, capsule_dim={self.capsule_dim}"


class RoutingCapsules(Module):
    """``out_caps`` capsules of ``out_dim`` dimensions from ``in_caps`` capsules of ``in_dim``.

    A weight matrix W_ij (out_dim x in_dim) per pair of capsules, kept as one parameter
    ``weight`` (in_caps, out_caps, out_dim, in_dim), gives the predictions
    u_hat_j|i = W_ij u_i, computed as one batched matmul over the in_caps capsules,
    (in_caps, N, in_dim) @ (in_caps, in_dim, out_caps * out_dim); then ``iterations`` rounds of
    ``F.dynamic_routing`` (3 in the paper; ``detach_coupling`` as there). No bias, as the
    paper's DigitCaps (1152 x 10 W_ij of 16 x 8: 1,474,560 parameters). W is drawn from a normal
    distribution of std 0.01 (the paper does not say; a small W keeps the first couplings'
    capsules short, below the margin loss's 0.9).
    Input (N, in_caps, in_dim); output (N, out_caps, out_dim).
    """

    def __init__(self, in_caps, in_dim, out_caps, out_dim, iterations=3, detach_coupling=False,
                 device=None, dtype=None):
        super().__init__()
        if iterations < 1:
            raise ValueError(f"RoutingCapsules: iterations must be >= 1, got {iterations}")
        self.in_caps, self.in_dim, self.out_caps, self.out_dim = in_caps, in_dim, out_caps, out_dim
        self.iterations, self.detach_coupling = iterations, detach_coupling
        self.weight = Parameter(creation.empty(in_caps, out_caps, out_dim, in_dim, dtype=dtype,
                                               device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, 0.01)

    def forward(self, u):
        if u.ndim != 3 or u.shape[1:] != (self.in_caps, self.in_dim):
            raise ValueError(f"{type(self).__name__}: expected capsules of shape "
                             f"(N, {self.in_caps}, {self.in_dim}), got {u.shape}")
        n = u.shape[0]
        w = self.weight.reshape(self.in_caps, self.out_caps * self.out_dim, self.in_dim)
        u_hat = u.permute(1, 0, 2) @ w.permute(0, 2, 1)       # (in_caps, N, out_caps * out_dim)
        u_hat = u_hat.reshape(self.in_caps, n, self.out_caps, self.out_dim).permute(1, 0, 2, 3)
        return F.dynamic_routing(u_hat, self.iterations, self.detach_coupling)

    def extra_repr(self):
        return (f"in_caps={self.in_caps}, in_dim={self.in_dim}, out_caps={self.out_caps}, "
                f"out_dim={self.out_dim}, iterations={self.iterations}, "
                f"detach_coupling={self.detach_coupling}")
