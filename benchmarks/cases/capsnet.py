"""A whole CapsNet training step (Sabour et al. 2017: conv1, PrimaryCaps, DigitCaps with 3
routing iterations, decoder; margin + 0.0005 x reconstruction loss; SGD with momentum) on 50
MNIST-sized images, ours against the same network written in PyTorch in the same run: the
same layers, routing formulas (gradients through every iteration), masking by the label and
loss. Seconds per 100 training images are twice a step's time.

Heavy (seconds a step): ``python -m benchmarks --filter capsnet --repeat 3``. FLOPs: 3 x the
forward pass's multiply-adds (conv1 8.3 M, PrimaryCaps 191.1 M, u_hat 1.5 M, decoder 1.4 M per
image; the 3 routing rounds 0.9 M), 2 FLOPs each.
"""
import numpy as np

from ..harness import Case

BATCH, LR = 50, 1e-3
MACS = 400 * 256 * 81 + 36 * 256 * 256 * 81 + 1152 * 10 * 16 * 8 + (160 * 512 + 512 * 1024
                                                                     + 1024 * 784)


def _data():
    rng = np.random.default_rng(0)
    return (rng.uniform(0, 1, (BATCH, 1, 28, 28)).astype(np.float32),
            rng.integers(0, 10, BATCH))


def ours(device):
    import minitorch_cnn as mt
    from minitorch_cnn import optim
    from minitorch_cnn.models import CapsNet
    mt.manual_seed(0)
    model = CapsNet().to(device).train()
    opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    x, t = _data()
    x, t = mt.tensor(x, device=device), mt.tensor(t, device=device)

    def step():
        loss = model.loss(model(x, t), x, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _torch_capsnet(torch):
    nn, F = torch.nn, torch.nn.functional

    def squash(s):
        n2 = (s * s).sum(-1, keepdim=True)
        return s * (n2.sqrt() / (1 + n2))

    class CapsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 256, 9)
            self.primary = nn.Conv2d(256, 256, 9, stride=2)
            self.weight = nn.Parameter(0.01 * torch.randn(1152, 10, 16, 8))
            self.decoder = nn.Sequential(nn.Linear(160, 512), nn.ReLU(), nn.Linear(512, 1024),
                                         nn.ReLU(), nn.Linear(1024, 784), nn.Sigmoid())

        def forward(self, x, target):
            n = x.shape[0]
            y = self.primary(F.relu(self.conv1(x)))
            u = squash(y.reshape(n, 32, 8, 36).permute(0, 1, 3, 2).reshape(n, 1152, 8))
            w = self.weight.reshape(1152, 160, 8)
            u_hat = (u.permute(1, 0, 2) @ w.permute(0, 2, 1)).reshape(1152, n, 10, 16)
            u_hat = u_hat.permute(1, 0, 2, 3)                       # (N, 1152, 10, 16)
            b = torch.zeros(n, 1152, 10)
            for r in range(3):
                c = torch.softmax(b, dim=2)
                v = squash(torch.einsum("nij,nijd->njd", c, u_hat))
                if r < 2:
                    b = b + torch.einsum("nijd,njd->nij", u_hat, v)
            lengths = (v * v).sum(-1).sqrt()
            mask = F.one_hot(target, 10).to(v.dtype)[..., None]
            return lengths, self.decoder((v * mask).reshape(n, -1))

    return CapsNet()


def theirs(torch):
    torch.manual_seed(0)
    model = _torch_capsnet(torch).train()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    x, t = (torch.from_numpy(a) for a in _data())
    onehot = torch.nn.functional.one_hot(t, 10).float()

    def step():
        lengths, recon = model(x, t)
        margin = (onehot * torch.relu(0.9 - lengths) ** 2
                  + 0.5 * (1 - onehot) * torch.relu(lengths - 0.1) ** 2).sum(1).mean()
        loss = margin + 0.0005 * ((recon - x.reshape(BATCH, -1)) ** 2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


CASES = [Case(f"capsnet train step (batch {BATCH}, 28x28)", "model", 3 * 2 * MACS * BATCH,
              ours, theirs)]
