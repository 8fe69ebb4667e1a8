"""Normalization layers: ``LocalResponseNorm``, ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``,
``InstanceNorm2d``, ``GroupNorm``, with PyTorch's arguments, defaults and state-dict names
(``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``)."""
import numpy as np

from .. import creation
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class LocalResponseNorm(Module):
    """Local response normalization across channels (see ``F.local_response_norm``)::

        b[c] = a[c] / (k + alpha / size * sum_{window of size channels} a[j]^2) ^ beta

    The defaults are PyTorch's (k = 1). AlexNet uses size=5, alpha=1e-4, beta=0.75, k=2 in
    this convention (its paper's alpha, 1e-4 not divided by the size, is alpha = 5e-4 here).
    ``mode="within_channel"`` is Caffe's spatial variant.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0, mode="across_channels"):
        super().__init__()
        self.size, self.alpha, self.beta, self.k, self.mode = size, alpha, beta, k, mode

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k, self.mode)

    def extra_repr(self):
        mode = "" if self.mode == "across_channels" else f", mode={self.mode!r}"
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}{mode}"


class _NormBase(Module):
    """Per-channel affine parameters and (optionally) running statistics."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype, device=device))
            self.bias = Parameter(creation.empty(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean",
                                 creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var",
                                 creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=np.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.data[...] = 1
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input(self, x):
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            layout = self._layout.replace("C", str(self.num_features))
            raise ValueError(f"{self!r}: expected an input of shape {layout}, got {x.shape}")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalization (Ioffe & Szegedy 2015), see ``F.batch_norm``. In training the batch
    statistics normalise and update the running ones (momentum=None: their cumulative average,
    as PyTorch); in eval the running statistics normalise, unless ``track_running_stats=False``.
    """

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                factor = 1.0 / int(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        tracked = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if tracked else None,
                            self.running_var if tracked else None, self.weight, self.bias,
                            use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs, statistics per channel over N (and L)."""
    _ndims, _layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs, statistics per channel over N, H and W."""
    _ndims, _layout = (4,), "(N, C, H, W)"


class _InstanceNorm(_NormBase):
    """Instance normalization (Ulyanov et al. 2016), see ``F.instance_norm``. PyTorch's
    defaults: no affine parameters and no running statistics."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.ndim == self._ndims[0] - 1 and x.shape[0] == self.num_features:  # unbatched
            return self.forward(x.unsqueeze(0)).squeeze(0)
        self._check_input(x)
        return F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               0.0 if self.momentum is None else self.momentum, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or unbatched (C, L) inputs, statistics per sample and channel
    over L."""
    _ndims, _layout = (3,), "(N, C, L) or (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or unbatched (C, H, W) inputs, statistics per sample and
    channel over H and W."""
    _ndims, _layout = (4,), "(N, C, H, W) or (C, H, W)"


class LayerNorm(Module):
    """Layer normalization (Ba et al. 2016) over the last dimensions ``normalized_shape``, with
    elementwise weight (ones) and bias (zeros) of that shape; see ``F.layer_norm``."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape, self.eps = tuple(shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, dtype=dtype,
                                                  device=device))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(creation.zeros(*self.normalized_shape, dtype=dtype,
                                                 device=device))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group normalization (Wu & He 2018): ``num_channels`` split into ``num_groups`` groups,
    each normalised per sample over its channels and positions; per-channel weight (ones) and
    bias (zeros) when ``affine``. See ``F.group_norm``."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide "
                             f"num_channels={num_channels}")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        if affine:
            self.weight = Parameter(creation.ones(num_channels, dtype=dtype, device=device))
            self.bias = Parameter(creation.zeros(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{self!r}: expected an input of shape (N, {self.num_channels}, "
                             f"...), got {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
