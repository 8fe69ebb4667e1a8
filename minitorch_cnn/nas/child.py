"""Training one child network for a tiny budget; its validation accuracy is the reward.

Each child trains with Adam (lr 0.01, batch 32) for ``epochs`` epochs from its own seed
(``child_seed(seed, trial)``), so trial t gives the same reward whether it runs alone, in a
resumed search or on another MPI rank. The global random state is put back afterwards: the
controller's samples do not depend on how many children were trained in between.

Before validation the batch-norm running statistics are recomputed as exact averages over the
training set ("precise BN"): after the few dozen steps of a tiny budget the moving averages
(momentum 0.1) still remember their initial values, and in eval mode every child then predicts
one class (measured: reward 0.025 for three 2-layer children on 160 images, chance is 0.1).
"""
import time

import numpy as np

from .. import data, nn, optim
from ..autograd import no_grad
from ..nn import functional as F
from ..random import get_rng_state, manual_seed, set_rng_state
from .build import build


def child_seed(seed, trial):
    """The seed of trial ``trial`` of a search seeded ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(trial)]).generate_state(1)[0])


def as_tensor_dataset(dataset):
    """A dataset materialised as one ``TensorDataset`` (inputs stacked once, not per child)."""
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return data.TensorDataset(np.stack([x.numpy() for x in xs]),
                              np.array([int(y) for y in ys], dtype=np.int64))


def accuracy(model, loader, device):
    model.eval()
    correct = total = 0
    with no_grad():
        for x, y in loader:
            pred = model(x.to(device)).numpy().argmax(axis=1)
            correct += int((pred == y.numpy()).sum())
            total += len(pred)
    return correct / max(total, 1)


def recalibrate_batch_norm(model, loader, device):
    """Set every BatchNorm2d's running statistics to their cumulative average over ``loader``."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with no_grad():
        for x, _ in loader:
            model(x.to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


def train_child(arch, train_set, val_set, in_channels, num_classes, epochs=1, seed=0,
                batch_size=32, lr=0.01, device="cpu"):
    """Build ``arch``, train it, and return {"reward": validation accuracy in [0, 1],
    "params": its number of parameters, "seconds": the wall time, "train_loss": the last
    epoch's mean loss}."""
    began = time.perf_counter()
    state = get_rng_state()
    manual_seed(seed)
    try:
        model = build(arch, in_channels, num_classes).to(device)
        opt = optim.Adam(model.parameters(), lr=lr)
        loader = data.DataLoader(train_set, batch_size, shuffle=True, seed=seed)
        loss_sum = seen = 0
        for _ in range(epochs):
            model.train()
            loss_sum = seen = 0
            for x, y in loader:
                loss = F.cross_entropy(model(x.to(device)), y.to(device))
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss_sum += loss.item() * len(y)
                seen += len(y)
        recalibrate_batch_norm(model, data.DataLoader(train_set, 256), device)
        reward = accuracy(model, data.DataLoader(val_set, 256), device)
    finally:
        set_rng_state(state)
    return {"reward": reward, "params": sum(p.numel() for p in model.parameters()),
            "seconds": round(time.perf_counter() - began, 3),
            "train_loss": loss_sum / max(seen, 1)}
