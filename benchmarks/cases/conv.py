"""Convolution forward+backward (the cases of the classic CNNs), ours against torch's.

FLOPs: a convolution's forward is 2 * N * O * out_h * out_w * (C / groups) * kh * kw
multiply-adds counted as 2; backward computes the input and the weight gradients, each as many,
so one step is 3x the forward. For the transposed convolution the same count holds with the roles
of input and output exchanged.

These cases are GEMM-bound, so they run at the speed of NumPy's OpenBLAS kernels. The machines
here set ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) because older OpenBLAS builds misbehave
without them; with the AVX2 "Haswell" kernels they select, float32 GEMM runs at about half the
speed of the AVX-512 kernels that a current NumPy picks by itself (230-240 against 410-460
GFLOP/s on the 2-core machine of docs/benchmarks.md), while oneDNN, inside torch, uses AVX-512.
To compare with torch at NumPy's best, unset both in that command alone:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks``. Tests and CI keep the
machine's setting.
"""
import numpy as np

from ..harness import Case

# name, (N, C, H, W), O, kernel, stride, padding, groups
CONVS = [
    ("AlexNet conv1", (8, 3, 227, 227), 96, 11, 4, 0, 1),
    ("AlexNet conv2 groups=2", (8, 96, 27, 27), 256, 5, 1, 2, 2),
    ("VGG 3x3", (8, 64, 112, 112), 128, 3, 1, 1, 1),
    ("ResNet 3x3", (32, 64, 56, 56), 64, 3, 1, 1, 1),
    ("ResNet 1x1", (32, 256, 56, 56), 64, 1, 1, 0, 1),
    ("late 3x3", (32, 512, 7, 7), 512, 3, 1, 1, 1),
    ("depthwise 3x3", (32, 128, 56, 56), 128, 3, 1, 1, 128),
]
# conv_transpose2d 2x2/2, U-Net's up-convolution: (N, C, H, W) -> O
TRANSPOSED = ("conv_transpose2d 2x2/2", (8, 128, 56, 56), 64, 2, 2)


def _arrays(x_shape, w_shape, o):
    rng = np.random.default_rng(0)
    return (rng.standard_normal(x_shape, dtype=np.float32),
            rng.standard_normal(w_shape, dtype=np.float32) * 0.05,
            rng.standard_normal(o, dtype=np.float32))


def _conv_case(name, x_shape, o, k, s, p, groups):
    n, c, h, w = x_shape
    out_h, out_w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    w_shape = (o, c // groups, k, k)
    flops = 3 * 2 * n * o * out_h * out_w * (c // groups) * k * k

    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        x, wt, b = (mt.tensor(a, device=device, requires_grad=True)
                    for a in _arrays(x_shape, w_shape, o))

        def step():
            F.conv2d(x, wt, b, stride=s, padding=p, groups=groups).sum().backward()
        return step

    def theirs(torch):
        x, wt, b = (torch.tensor(a, requires_grad=True) for a in _arrays(x_shape, w_shape, o))

        def step():
            torch.nn.functional.conv2d(x, wt, b, stride=s, padding=p, groups=groups).sum() \
                .backward()
        return step

    label = f"{name} ({n},{c},{h},{w} -> {o}, {k}/{s}/{p}" + \
        (f", g={groups})" if groups > 1 else ")")
    return Case(label, "conv", flops, ours, theirs)


def _transposed_case(name, x_shape, o, k, s):
    n, c, h, w = x_shape
    w_shape = (c, o, k, k)
    flops = 3 * 2 * n * c * h * w * o * k * k

    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        x, wt, b = (mt.tensor(a, device=device, requires_grad=True)
                    for a in _arrays(x_shape, w_shape, o))

        def step():
            F.conv_transpose2d(x, wt, b, stride=s).sum().backward()
        return step

    def theirs(torch):
        x, wt, b = (torch.tensor(a, requires_grad=True) for a in _arrays(x_shape, w_shape, o))

        def step():
            torch.nn.functional.conv_transpose2d(x, wt, b, stride=s).sum().backward()
        return step

    return Case(f"{name} ({n},{c},{h},{w} -> {o})", "conv", flops, ours, theirs)


CASES = [_conv_case(*args) for args in CONVS] + [_transposed_case(*TRANSPOSED)]
