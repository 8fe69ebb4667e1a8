"""Whole training steps (forward, cross-entropy, backward, SGD with momentum) of zoo models at
224x224, ours against the same torchvision model in the same run: ResNet-18 batch 16, VGG16
batch 4, GoogLeNet (torchvision's layout, auxiliary heads weighted 0.3) batch 8, ResNet-50
batch 8. VGG16's and ResNet-50's also report both sides' peak RSS (``peak_rss.py``).

Heavy (seconds to tens of seconds a step): run once, ``python -m benchmarks --group model
--repeat 1``. The torch side needs torchvision (e.g. ``/tmp/tv/bin/python -m benchmarks ...``);
without it only our times are printed. FLOPs: 3 x the forward pass (backward ~ 2 x forward),
2 FLOPs per multiply-add, the multiply-adds from ``minitorch_cnn.summary``.
"""
import importlib.util

import numpy as np

from ..harness import Case

# (our constructor / torchvision name, batch, forward multiply-adds per image at 224x224)
# small enough that repeated steps on one batch stay finite (VGG16, without batch norm,
# overflowed within 8 steps at 0.01)
LR = 1e-3
MODELS = [("resnet18", 16, 1_814_073_344), ("vgg16", 4, 15_470_264_320),
          ("googlenet", 8, 1_498_376_192)]
MODELS.append(("resnet50", 8, 4_089_184_256))
RSS = {"vgg16", "resnet50"}


def _data(batch):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, 3, 224, 224), dtype=np.float32),
            rng.integers(0, 1000, batch))


def _case(name, batch, macs):
    def ours(device):
        import minitorch_cnn as mt
        from minitorch_cnn import models, optim
        mt.manual_seed(0)
        model = getattr(models, name)().to(device).train()
        opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
        x, t = _data(batch)
        x, t = mt.tensor(x, device=device), mt.tensor(t, device=device)

        def step():
            loss = models.googlenet_loss(model(x), t)  # plain cross-entropy without heads
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    def theirs(torch):
        import torchvision
        torch.manual_seed(0)
        kwargs = {"init_weights": True} if name == "googlenet" else {}
        model = getattr(torchvision.models, name)(**kwargs).train()
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
        x, t = (torch.from_numpy(a) for a in _data(batch))
        ce = torch.nn.functional.cross_entropy

        def step():
            out = model(x)
            if isinstance(out, tuple):
                loss = ce(out[0], t) + 0.3 * (ce(out[1], t) + ce(out[2], t))
            else:
                loss = ce(out, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    has_tv = importlib.util.find_spec("torchvision") is not None
    return Case(f"{name} train step (batch {batch}, 224x224)", "model", 3 * 2 * macs * batch,
                ours, theirs if has_tv else None, rss=name in RSS)


CASES = [_case(*m) for m in MODELS]
