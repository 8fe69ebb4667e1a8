"""The locally-connected layer, forward+backward: DeepFace's L4 (Taigman et al. 2014), 16
unshared 9x9x16 filters per position of a 63x63 map, at batch 8.

torch has no locally-connected layer; its side is the usual emulation, ``F.unfold`` (im2col)
then one einsum over the output positions, a comparison rather than a native op.
"""
import numpy as np

from ..harness import Case

N, C, H, OUT, K = 8, 16, 63, 16, 9
OH = H - K + 1


def _inputs():
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(C * K * K)
    return (rng.standard_normal((N, C, H, H), dtype=np.float32),
            rng.uniform(-bound, bound, (OH, OH, OUT, C, K, K)).astype(np.float32),
            np.zeros((OUT, OH, OH), np.float32))


def ours(device):
    import minitorch_cnn as mt
    import minitorch_cnn.nn.functional as F
    x, w, b = (mt.tensor(a, device=device, requires_grad=True) for a in _inputs())

    def step():
        F.local_conv2d(x, w, b).sum().backward()
    return step


def theirs(torch):
    x, w, b = (torch.tensor(a, requires_grad=True) for a in _inputs())

    def step():
        cols = torch.nn.functional.unfold(x, K)  # (N, C K K, L)
        y = torch.einsum("nkl,lok->nol", cols, w.reshape(OH * OH, OUT, -1))
        (y.reshape(N, OUT, OH, OH) + b).sum().backward()
    return step


CASES = [Case(f"local_conv2d DeepFace L4 ({N},{C},{H},{H} -> {OUT}, {K}x{K}) "
              "[torch: unfold+einsum]",
              "local", 3 * 2 * N * OH * OH * OUT * C * K * K, ours, theirs)]
