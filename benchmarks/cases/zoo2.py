"""Training steps of zoo II networks (forward, loss, backward, SGD update), the issue's sizes:
MobileNetV2 (batch 16, 224), DenseNet121 (batch 8, 224), U-Net (batch 2, 572) and DeepFace
(batch 16, 152). Torch's side needs torchvision for the first two (run with the venv that has
it); U-Net and DeepFace (its locally-connected layers by unfold + einsum) are written out in
torch below.
Each step takes seconds: use ``--group zoo2 --repeat 1``."""
import importlib.util

import numpy as np

from ..harness import Case

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None


def _batch(n, c, size, classes):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, c, size, size), dtype=np.float32),
            rng.integers(0, classes, n))


def _ours(build, n, c, size, classes, segmentation=False):
    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.models as zoo
        import minitorch_cnn.nn.functional as F
        from minitorch_cnn import optim
        model = getattr(zoo, build[0])(**build[1]).to(device)
        opt = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        x, y = _batch(n, c, size, classes)
        x, y = mt.tensor(x, device=device), mt.tensor(y, device=device)

        def step():
            opt.zero_grad()
            out = model(x)
            loss = (out * out).mean() if segmentation else F.cross_entropy(out, y)
            loss.backward()
            opt.step()
        return step
    return ours


def _theirs(make_model, n, c, size, classes, segmentation=False):
    def theirs(torch):
        model = make_model(torch)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        x, y = (torch.tensor(a) for a in _batch(n, c, size, classes))

        def step():
            opt.zero_grad()
            out = model(x)
            loss = (out * out).mean() if segmentation else torch.nn.functional.cross_entropy(out, y)
            loss.backward()
            opt.step()
        return step
    return theirs


def _torchvision(name):
    def make(torch):
        import torchvision
        return getattr(torchvision.models, name)()
    return make if HAS_TORCHVISION else None


def _torch_unet(torch):
    """The paper's U-Net in torch (valid 3x3 convs, crop-and-concatenate skips)."""
    nn = torch.nn

    def double(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 3), nn.ReLU(), nn.Conv2d(o, o, 3), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self, widths=(64, 128, 256, 512, 1024)):
            super().__init__()
            self.down = nn.ModuleList(double(i, o) for i, o in zip((1,) + widths[:3], widths[:4]))
            self.bottom = double(widths[3], widths[4])
            self.upconv = nn.ModuleList(nn.ConvTranspose2d(w, w // 2, 2, 2) for w in widths[:0:-1])
            self.up = nn.ModuleList(double(w, w // 2) for w in widths[:0:-1])
            self.head = nn.Conv2d(widths[0], 2, 1)

        def forward(self, x):
            skips = []
            for block in self.down:
                x = block(x)
                skips.append(x)
                x = torch.nn.functional.max_pool2d(x, 2)
            x = self.bottom(x)
            for upconv, block, skip in zip(self.upconv, self.up, reversed(skips)):
                x = upconv(x)
                top = (skip.shape[2] - x.shape[2]) // 2
                x = block(torch.cat([skip[:, :, top:top + x.shape[2], top:top + x.shape[3]], x], 1))
            return self.head(x)
    return UNet()


def _torch_deepface(torch):
    """DeepFace in torch, its locally-connected layers written with ``unfold`` and ``einsum``
    (torch has no such layer)."""
    nn = torch.nn

    class Local(nn.Module):
        def __init__(self, c, o, size, k, stride=1):
            super().__init__()
            self.k, self.stride, self.out = k, stride, (size - k) // stride + 1
            self.weight = nn.Parameter(torch.randn(self.out ** 2, o, c * k * k) * 0.01)
            self.bias = nn.Parameter(torch.zeros(o, self.out, self.out))

        def forward(self, x):
            cols = torch.nn.functional.unfold(x, self.k, stride=self.stride)   # (N, C k k, L)
            y = torch.einsum("ncl,loc->nol", cols, self.weight)
            return y.reshape(x.shape[0], -1, self.out, self.out) + self.bias

    return nn.Sequential(
        nn.Conv2d(3, 32, 11), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(32, 16, 9), nn.ReLU(), Local(16, 16, 63, 9), nn.ReLU(),
        Local(16, 16, 55, 7, 2), nn.ReLU(), Local(16, 16, 25, 5), nn.ReLU(), nn.Flatten(),
        nn.Linear(16 * 21 * 21, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4030))


def _case(name, build, torch_model, n, c, size, classes, segmentation=False):
    return Case(f"{name} train step (batch {n}, {size})", "zoo2", 0,
                _ours(build, n, c, size, classes, segmentation),
                _theirs(torch_model, n, c, size, classes, segmentation) if torch_model else None,
                rss=name.startswith("DenseNet121"))  # the shared feature buffer: peak RSS


CASES = [
    _case("MobileNetV2", ("mobilenet_v2", {}), _torchvision("mobilenet_v2"), 16, 3, 224, 1000),
    _case("DenseNet121", ("densenet121", {}), _torchvision("densenet121"), 8, 3, 224, 1000),
    _case("DenseNet121 memory_efficient", ("densenet121", {"memory_efficient": True}),
          _torchvision("densenet121"), 8, 3, 224, 1000),
    _case("U-Net", ("UNet", {"dropout": 0.0}), _torch_unet, 2, 1, 572, 2, segmentation=True),
    _case("DeepFace", ("DeepFace", {}), _torch_deepface, 16, 3, 152, 4030),
]
