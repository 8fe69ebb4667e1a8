"""The fully-connected layer (AlexNet's fc7 at batch 128): GEMM-bound, a check of the harness."""
import numpy as np

from ..harness import Case

N, IN, OUT = 128, 4096, 4096


def _inputs():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((N, IN), dtype=np.float32),
            rng.standard_normal((OUT, IN), dtype=np.float32) * 0.01,
            np.zeros(OUT, np.float32))


def ours(device):
    import minitorch_cnn as mt
    import minitorch_cnn.nn.functional as F
    x, w, b = (mt.tensor(a, device=device, requires_grad=True) for a in _inputs())

    def step():
        F.linear(x, w, b).sum().backward()
    return step


def theirs(torch):
    x, w, b = (torch.tensor(a, requires_grad=True) for a in _inputs())

    def step():
        torch.nn.functional.linear(x, w, b).sum().backward()
    return step


CASES = [Case(f"linear ({N},{IN} -> {OUT})", "linear", 3 * 2 * N * IN * OUT, ours, theirs)]
