"""Inference latency: ResNet-18 and MobileNetV2 at 224x224, batch 1 and batch 32, in eval mode
under no_grad (``torch.no_grad()`` and ``.eval()`` on torch's side, torchvision's model), one
forward pass per step.

Ours twice: as built (unfused) and after ``mt.nn.utils.fuse(model, example)``, which folds each
BatchNorm2d into the convolution before it (and whatever other inference fusion it does), so
the gain of fusion shows against the same torch time. Torch's side is eager, unfused; it needs
torchvision. FLOPs: 2 x the forward multiply-adds (``minitorch_cnn.summary``).
"""
import importlib.util

import numpy as np

from ..harness import Case

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
# (our / torchvision's constructor, forward multiply-adds per image at 224x224)
MODELS = [("resnet18", 1_814_073_344), ("mobilenet_v2", 300_774_272)]
BATCHES = (1, 32)


def _images(batch):
    return np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)


def _ours(name, batch, fused):
    def ours(device):
        import minitorch_cnn as mt
        from minitorch_cnn import models
        mt.manual_seed(0)
        model = getattr(models, name)().to(device).eval()
        x = mt.tensor(_images(batch), device=device)
        if fused:
            model = mt.nn.utils.fuse(model, x[:1])  # (one image finds and checks the pairs)

        def step():
            with mt.no_grad():
                model(x)
        return step
    return ours


def _theirs(name, batch):
    def theirs(torch):
        import torchvision
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)().eval()
        x = torch.from_numpy(_images(batch))

        def step():
            with torch.no_grad():
                model(x)
        return step
    return theirs if HAS_TORCHVISION else None


CASES = [Case(f"{name} inference{' fused' if fused else ''} (batch {batch}, 224x224)", "infer",
              2 * macs * batch, _ours(name, batch, fused), _theirs(name, batch))
         for name, macs in MODELS for batch in BATCHES for fused in (False, True)]
