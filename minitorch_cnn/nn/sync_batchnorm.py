"""``SyncBatchNorm``: batch norm whose training statistics cover every data-parallel rank's
share of the batch, so that N ranks of batch B normalise exactly as one process of batch N*B
(the small per-rank batches of detection and segmentation training need it). PyTorch's name,
arguments and state-dict keys; ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every
``BatchNorm1d``/``BatchNorm2d`` of a model for one, keeping weights and statistics.

Without an initialized process group, or with one rank, and in eval it is plain batch norm.
"""
from .. import backend
from .. import distributed as dist
from ..ops.sync_batch_norm import SyncBatchNormFn, sync_batch_stats
from .normalization import BatchNorm1d, BatchNorm2d, _BatchNorm


def _all_gather(a):
    parts = [a.copy() for _ in range(dist.get_world_size())]
    dist.all_gather(parts, a)
    return backend.xp(a).stack(parts)


def _all_reduce(a):
    a = a.copy()
    dist.all_reduce(a)
    return a


class SyncBatchNorm(_BatchNorm):
    """Batch norm of (N, C, ...) inputs with statistics over all ranks' batches in training."""
    _ndims, _layout = (2, 3, 4, 5), "(N, C, ...)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        if process_group is not None:
            raise ValueError("SyncBatchNorm: only the default process group (None) is "
                             f"supported, got {process_group!r}")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)

    def forward(self, x):
        if not self.training or not dist.is_initialized() or dist.get_world_size() == 1:
            return super().forward(x)
        self._check_input(x)
        mean, var, count = sync_batch_stats(x.data, _all_gather)
        if count <= 1:
            raise ValueError(f"{self!r}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape} on each rank")
        if self.track_running_stats:
            self.num_batches_tracked.data += 1
            factor = (1.0 / int(self.num_batches_tracked.item()) if self.momentum is None
                      else self.momentum)
            self.running_mean.data[...] = (1 - factor) * self.running_mean.data + factor * mean
            self.running_var.data[...] = ((1 - factor) * self.running_var.data
                                          + factor * var * count / (count - 1))
        return SyncBatchNormFn.apply(x, self.weight, self.bias, mean, var, eps=self.eps,
                                     count=count, all_reduce=_all_reduce)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d (itself included) replaced by a SyncBatchNorm
        holding the same parameters, buffers and training mode (PyTorch's classmethod)."""
        if isinstance(module, (BatchNorm1d, BatchNorm2d)):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats, process_group)
            if module.affine:
                sync.weight, sync.bias = module.weight, module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(sync, name, getattr(module, name))
            sync.train(module.training)
            return sync
        for name, child in list(module.named_children()):
            module._modules[name] = cls.convert_sync_batchnorm(child, process_group)  # in place
        return module
