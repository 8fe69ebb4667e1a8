"""AlexNet as the paper trained it, split over two GPUs (Krizhevsky, Sutskever & Hinton 2012,
sec. 3.2 and figure 2): each tower holds half of every layer's kernels, and the towers meet
only where the paper's do: conv3 reads both towers' conv2 maps, fc6, fc7 and fc8 read all of
the layer below. Everywhere else a tower reads only its own maps (the ``groups=2`` of
``AlexNet``'s conv2, conv4 and conv5).

``AlexNetTwoTower()`` runs one tower per rank when the process group has two ranks (start
with ``mpiexec -n 2``), otherwise both towers in this process, on ``devices`` (default
``("cpu", "cpu")``; ``("cuda:0", "cuda:1")`` for two GPUs). Forward exchanges:

=========================  ==========================  =================  ===============
where                      what each tower sends       forward            backward
=========================  ==========================  =================  ===============
LRN after conv1, conv2     its 2 channels that face    halo               halo gradient
                           the other tower (window 5)
conv2 -> conv3             pool2, 128x13x13            all-gather         reduce-scatter
pool5 -> fc6               128x6x6                     all-gather         reduce-scatter
fc6 -> fc7                 hidden / 2                  all-gather         reduce-scatter
fc8                        its partial class scores    all-reduce (sum)   (none)
=========================  ==========================  =================  ===============

The LRN halo is not in the paper, whose towers normalise within their own maps; it is there so
that the towers compute exactly the single-process ``AlexNet`` of this package, whose LRN
window runs over all 96 (256) maps. ``from_alexnet(model)`` slices such an AlexNet's weights
into the towers: the logits and (gathered) parameter gradients are the same.
``exchange_bytes(batch)`` counts the bytes a step moves, against a naive split whose every
layer reads both towers.
"""
import numpy as np

from .. import backend, nn
from .. import distributed as dist
from ..nn import functional as F
from ..nn.parallel import functional as PF
from ..ops.functions import cat
from ._common import check_input
from .alexnet import _LRN

_HALO = _LRN["size"] // 2  # channels of the other tower inside an LRN window
_SPLIT = {"conv1": 48, "conv2": 128, "conv3": 192, "conv4": 192, "conv5": 128}


class _Tower(nn.Module):
    """One GPU's half of AlexNet: 48-128-192-192-128 kernels, hidden/2 units in fc6 and fc7,
    its share of fc8's inputs (fc8's bias lives in tower 0)."""

    def __init__(self, in_channels, num_classes, hidden, dropout, fc8_bias):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 48, kernel_size=11, stride=4)
        self.conv2 = nn.Conv2d(48, 128, kernel_size=5, padding=2)
        self.conv3 = nn.Conv2d(256, 192, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(192, 192, kernel_size=3, padding=1)
        self.conv5 = nn.Conv2d(192, 128, kernel_size=3, padding=1)
        self.fc6 = nn.Linear(256 * 6 * 6, hidden // 2)
        self.fc7 = nn.Linear(hidden, hidden // 2)
        self.fc8 = nn.Linear(hidden // 2, num_classes, bias=fc8_bias)
        self.dropout = nn.Dropout(dropout)
        for name, m in self.named_children():  # the paper's initialisation, as in AlexNet
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.01)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 1.0 if name in ("conv2", "conv4", "conv5", "fc6",
                                                              "fc7") else 0.0)


class AlexNetTwoTower(nn.Module):
    """The paper's two-tower AlexNet (see the module docstring): 227x227 input."""

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.5, hidden=4096, devices=None):
        super().__init__()
        if hidden % 2:
            raise ValueError(f"AlexNetTwoTower: hidden must be even (two halves), got {hidden}")
        self.in_channels, self.num_classes, self.hidden = in_channels, num_classes, hidden
        distributed = devices is None and dist.is_initialized() and dist.get_world_size() == 2
        if devices is not None and len(devices) != 2:
            raise ValueError(f"AlexNetTwoTower: devices must name two devices, got {devices!r}")
        self.distributed = distributed
        self.tower_ids = (dist.get_rank(),) if distributed else (0, 1)
        self.towers = nn.ModuleDict({str(t): _Tower(in_channels, num_classes, hidden, dropout,
                                                    fc8_bias=t == 0) for t in self.tower_ids})
        if not distributed:
            for t, device in zip(self.tower_ids, devices or ("cpu", "cpu")):
                self.towers[str(t)].to(device)

    # --- the exchanges (MPI between ranks, or moves between this process's devices) -----------
    def _halo(self, hs):
        if self.distributed:
            return [PF.exchange_halo(hs[0], _HALO)]
        a, b = hs
        return [cat([a, b[:, :_HALO].to(a.device)], dim=1),
                cat([a[:, -_HALO:].to(b.device), b], dim=1)]

    def _gather(self, hs):
        if self.distributed:
            return [PF.all_gather(hs[0], dim=1)]
        return [cat([h.to(target.device) for h in hs], dim=1) for target in hs]

    def _sum(self, hs):
        if self.distributed:
            return PF.all_reduce_sum(hs[0])
        return hs[0] + hs[1].to(hs[0].device)

    def _lrn(self, hs):
        out = []
        for t, h in zip(self.tower_ids, self._halo(hs)):
            b = F.local_response_norm(h, **_LRN)
            out.append(b[:, :-_HALO] if t == 0 else b[:, _HALO:])
        return out

    def forward(self, x):
        check_input(self, x, self.in_channels, size=227)
        towers = [self.towers[str(t)] for t in self.tower_ids]
        h = [F.relu(t.conv1(x.to(t.conv1.weight.device))) for t in towers]
        h = [F.max_pool2d(a, 3, 2) for a in self._lrn(h)]
        h = [F.relu(t.conv2(a)) for t, a in zip(towers, h)]
        h = [F.max_pool2d(a, 3, 2) for a in self._lrn(h)]
        h = [F.relu(t.conv3(a)) for t, a in zip(towers, self._gather(h))]
        h = [F.max_pool2d(F.relu(t.conv5(F.relu(t.conv4(a)))), 3, 2) for t, a in zip(towers, h)]
        h = [t.dropout(F.relu(t.fc6(a.flatten(1)))) for t, a in zip(towers, self._gather(h))]
        h = [t.dropout(F.relu(t.fc7(a))) for t, a in zip(towers, self._gather(h))]
        return self._sum([t.fc8(a) for t, a in zip(towers, h)])

    # --- from the single-process AlexNet -------------------------------------------------------
    @classmethod
    def from_alexnet(cls, model, devices=None):
        """The two towers of ``model`` (an ``AlexNet``): every layer's kernels split in halves
        as its groups are, fc8 split along its inputs. Same logits, same gradients."""
        feats, head = model.features, model.classifier
        convs = {"conv1": feats[0], "conv2": feats[4], "conv3": feats[8], "conv4": feats[10],
                 "conv5": feats[12]}
        fc6, fc7, fc8 = head[0], head[3], head[6]
        hidden = fc6.out_features
        two = cls(fc8.out_features, model.in_channels, head[2].p, hidden, devices)
        for t in two.tower_ids:
            tower = two.towers[str(t)]
            for name, conv in convs.items():
                n = _SPLIT[name]
                _copy(tower, name, conv.weight.data[n * t:n * (t + 1)],
                      conv.bias.data[n * t:n * (t + 1)])
            half = hidden // 2
            for name, fc in (("fc6", fc6), ("fc7", fc7)):
                _copy(tower, name, fc.weight.data[half * t:half * (t + 1)],
                      fc.bias.data[half * t:half * (t + 1)])
            _copy(tower, "fc8", fc8.weight.data[:, half * t:half * (t + 1)],
                  fc8.bias.data if t == 0 else None)
        return two

    # --- communication volume ------------------------------------------------------------------
    def exchange_bytes(self, batch_size, itemsize=4):
        """Bytes one tower sends in a training step (forward + backward) of ``batch_size``
        images, by exchange, and the same for a naive split whose every layer reads both
        towers' maps (an exchange after each layer)."""
        per_image = {"lrn halos": 2 * _HALO * (55 * 55 + 27 * 27),
                     "conv2 -> conv3": 128 * 13 * 13, "pool5 -> fc6": 128 * 6 * 6,
                     "fc6 -> fc7": self.hidden // 2, "fc8 partial scores": self.num_classes}
        naive = {"conv1 -> conv2": 48 * 27 * 27, "conv2 -> conv3": 128 * 13 * 13,
                 "conv3 -> conv4": 192 * 13 * 13, "conv4 -> conv5": 192 * 13 * 13,
                 "pool5 -> fc6": 128 * 6 * 6, "fc6 -> fc7": self.hidden // 2,
                 "fc7 -> fc8": self.hidden // 2, "fc8 partial scores": self.num_classes}
        # forward and backward move the same amount (fc8's all-reduce has no backward: its
        # consumers, the loss, are the same on both towers, and halos have one back each way)
        two_way = {k: 2 - (k == "fc8 partial scores") for k in set(per_image) | set(naive)}
        scale = batch_size * itemsize
        split = {k: v * scale * two_way[k] for k, v in per_image.items()}
        everywhere = {k: v * scale * two_way[k] for k, v in naive.items()}
        return {"two_tower": split, "two_tower_total": sum(split.values()),
                "naive": everywhere, "naive_total": sum(everywhere.values())}


def _copy(tower, name, weight, bias):
    """Set ``tower.<name>``'s weight (and bias) to copies of the given slices, in its dtype and
    on its device."""
    layer = getattr(tower, name)
    for param, value in ((layer.weight, weight), (layer.bias, bias)):
        if value is not None:
            host = np.array(backend.to_numpy(value), dtype=param.dtype)
            param.data = backend.to_device_array(host, param.device)
