"""``python -m minitorch_cnn``: a short demo of the engine until the training command lands.

It checks a few gradients numerically, then trains a two-layer network with plain gradient
descent on two interleaved spirals and prints the accuracy.
"""
import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import nn


def spirals(n_per_class=200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1, n_per_class)) * 3 * np.pi
    arms = [np.stack([t * np.cos(t + k * np.pi), t * np.sin(t + k * np.pi)], 1) / 10
            for k in (0, 1)]
    x = np.concatenate(arms) + rng.normal(0, 0.02, (2 * n_per_class, 2))
    return x.astype(np.float32), np.repeat([0, 1], n_per_class)


def main():
    mt.manual_seed(0)
    x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
    w = mt.randn(4, 2, dtype=mt.float64, requires_grad=True)
    ok = mt.gradcheck(lambda x, w: ((x @ w).exp() / (1 + (x * x).sum(1, keepdims=True))), (x, w))
    print(f"gradcheck of exp(x @ w) / (1 + |x|^2): {'ok' if ok else 'FAILED'}")

    data, labels = spirals()
    x, y = mt.tensor(data), mt.tensor(labels)
    onehot = mt.tensor(np.eye(2, dtype=np.float32)[labels])
    model = nn.Sequential(nn.Linear(2, 64), nn.Linear(64, 64), nn.Linear(64, 2))
    lr = 0.5
    for step in range(1500):
        h = x
        for i, layer in enumerate(model):
            h = layer(h)
            if i < len(model) - 1:
                h = mt.maximum(h, 0.0)
        z = h - h.max(axis=1, keepdims=True)
        loss = -((z - z.exp().sum(1, keepdims=True).log()) * onehot).sum(1).mean()
        model.zero_grad()
        loss.backward()
        with mt.no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad.data
        if step % 500 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    accuracy = float((h.argmax(axis=1) == y).numpy().mean())
    print(f"spirals accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
