"""Training: one LeNet-5 epoch on the bundled MNIST sample (4,000 digits, batch 64, Adam), ours
against torch with the same model, batch size and data; and our data loading alone (with the
augmentation: random crops after 2-pixel padding, ToTensor, Normalize), whose time against the
epoch's is its share.

FLOPs: LeNet-5 forward is 416,520 multiply-adds per image (conv1 117,600, conv2 240,000, the
fully-connected layers 58,920); a training step is about 3x the forward.
"""
import numpy as np

from ..harness import Case

BATCH = 64
FLOPS = 3 * 2 * 416_520 * 4000


def _digits():
    from minitorch_cnn.data import MNISTSample
    ds = MNISTSample()
    x = ((ds.images.astype(np.float32) / 255 - 0.1307) / 0.3081)[:, None]
    return x, ds.labels


def ours(device):
    import minitorch_cnn as mt
    import minitorch_cnn.nn.functional as F
    from minitorch_cnn import data, optim
    from minitorch_cnn.models import LeNet5
    x, y = _digits()
    mt.manual_seed(0)
    model = LeNet5(variant="relu").to(device)
    opt = optim.Adam(model.parameters())
    loader = data.DataLoader(data.TensorDataset(x, y), BATCH, shuffle=True, seed=0)

    def epoch():
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb.to(device)), yb.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return epoch


def theirs(torch):
    x, y = _digits()
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    opt = torch.optim.Adam(model.parameters())
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), BATCH, shuffle=True)

    def epoch():
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return epoch


def loading(device):
    from minitorch_cnn import data
    from minitorch_cnn.data import transforms as T
    tf = T.Compose([T.RandomCrop(28, padding=2), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    loader = data.DataLoader(data.MNISTSample(transform=tf), BATCH, shuffle=True, seed=0)

    def epoch():
        for xb, yb in loader:
            xb.to(device)
    return epoch


CASES = [Case(f"LeNet-5 epoch, MNIST sample (4000, batch {BATCH}, Adam)", "train", FLOPS,
              ours, theirs),
         Case(f"data loading epoch, augmented (4000, batch {BATCH})", "train", 0, loading)]
