"""Training steps (forward, cross-entropy, backward, SGD with momentum) of the two classic
networks that the torchvision cases (``models.py``) do not cover, each against the same
architecture written out in torch:

- the paper's AlexNet (Krizhevsky et al. 2012; ``AlexNet`` in the registry), batch 32 at
  227x227: LRN (k = 2, n = 5, alpha = 1e-4, beta = 0.75) after conv1 and conv2, and the two-GPU
  split as ``groups=2`` in conv2, conv4 and conv5; 60,965,224 parameters, 724,406,816
  multiply-adds per image;
- LeNet-5 (the ``relu`` variant of the epoch case in ``train.py``), one step of batch 64 on
  28x28 digits with Adam, the step that the epoch repeats 63 times: the per-op overhead of a
  network whose arithmetic is small (416,520 multiply-adds per image).

FLOPs: 3 x the forward pass, 2 FLOPs per multiply-add (the multiply-adds from
``minitorch_cnn.summary``).
"""
import numpy as np

from ..harness import Case

ALEXNET_BATCH, LENET_BATCH = 32, 64


def _data(batch, channels, size, classes):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, channels, size, size), dtype=np.float32),
            rng.integers(0, classes, batch))


def _ours(build, batch, channels, size, classes, adam=False):
    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        from minitorch_cnn import models, optim
        mt.manual_seed(0)
        model = getattr(models, build[0])(**build[1]).to(device).train()
        opt = optim.Adam(model.parameters()) if adam else optim.SGD(
            model.parameters(), lr=1e-3, momentum=0.9)
        x, t = (mt.tensor(a, device=device) for a in _data(batch, channels, size, classes))

        def step():
            loss = F.cross_entropy(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step
    return ours


def _theirs(build, batch, channels, size, classes, adam=False):
    def theirs(torch):
        torch.manual_seed(0)
        model = build(torch).train()
        opt = torch.optim.Adam(model.parameters()) if adam else torch.optim.SGD(
            model.parameters(), lr=1e-3, momentum=0.9)
        x, t = (torch.from_numpy(a) for a in _data(batch, channels, size, classes))

        def step():
            loss = torch.nn.functional.cross_entropy(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step
    return theirs


def torch_alexnet(torch):
    """The paper's AlexNet in torch, layer for layer as ``minitorch_cnn.models.AlexNet``
    (torch's LocalResponseNorm divides alpha by n as ours does: 5e-4 is the paper's 1e-4)."""
    nn = torch.nn

    def lrn():
        return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000))


def torch_lenet5(torch):
    """LeNet-5, ReLU and max-pool variant, as ``LeNet5(variant="relu")``."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


ALEXNET = (ALEXNET_BATCH, 3, 227, 1000)
LENET = (LENET_BATCH, 1, 28, 10)
CASES = [
    Case(f"AlexNet (paper) train step (batch {ALEXNET_BATCH}, 227x227)", "model",
         3 * 2 * 724_406_816 * ALEXNET_BATCH, _ours(("AlexNet", {}), *ALEXNET),
         _theirs(torch_alexnet, *ALEXNET)),
    Case(f"LeNet-5 train step (batch {LENET_BATCH}, 28x28, Adam)", "model",
         3 * 2 * 416_520 * LENET_BATCH, _ours(("LeNet5", {"variant": "relu"}), *LENET, adam=True),
         _theirs(torch_lenet5, *LENET, adam=True)),
]
