"""Activations, dropout and losses, forward+backward: memory-bound passes, so the measure is how
few passes over the data each op makes (ours) against PyTorch's fused CPU kernels.

Each step starts from a fresh leaf (``x.grad = None``), so ours also pays the autograd's copy of
the first gradient into ``x.grad`` (torch adopts the array), one extra pass over the input.
Machines shared with other jobs make torch's 2-thread timings erratic on these short ops; compare
with ``--threads 1`` as well."""
import numpy as np

from ..harness import Case

RELU = (32, 64, 112, 112)  # the output of a VGG / ResNet stem-sized layer
CE = (256, 1000)  # ImageNet logits
PIXEL_CE = (8, 21, 128, 128)  # PASCAL VOC segmentation logits
DROPOUT = (128, 4096)  # AlexNet's fc6 output
RELU6 = (16, 96, 112, 112)  # MobileNetV2's widest activation at batch 16
RELU6_SMALL = (1, 576, 14, 14)  # one of its late ones at batch 1


def _arrays(shape, classes=None):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    gy = rng.standard_normal(shape, dtype=np.float32)
    target = None if classes is None else rng.integers(0, classes, (shape[0],) + shape[2:])
    return x, gy, target


def _elementwise(shape, fn_name, **kw):
    """A case timing y = fn(x); y.backward(gy) with x a fresh leaf each step."""
    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        x, gy, _ = _arrays(shape)
        x = mt.tensor(x, device=device, requires_grad=True)
        gy = mt.tensor(gy, device=device)
        fn = getattr(F, fn_name)

        def step():
            x.grad = None
            fn(x, **kw).backward(gy)
        return step

    def theirs(torch):
        x, gy, _ = _arrays(shape)
        x, gy = torch.tensor(x, requires_grad=True), torch.tensor(gy)
        fn = getattr(torch.nn.functional, fn_name)

        def step():
            x.grad = None
            fn(x, **kw).backward(gy)
        return step
    return ours, theirs


def _cross_entropy(shape):
    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        x, _, t = _arrays(shape, shape[1])
        x = mt.tensor(x, device=device, requires_grad=True)
        t = mt.tensor(t, device=device)

        def step():
            x.grad = None
            F.cross_entropy(x, t).backward()
        return step

    def theirs(torch):
        x, _, t = _arrays(shape, shape[1])
        x, t = torch.tensor(x, requires_grad=True), torch.tensor(t)

        def step():
            x.grad = None
            torch.nn.functional.cross_entropy(x, t).backward()
        return step
    return ours, theirs


def _name(what, shape):
    return f"{what} {shape}".replace(", ", ",")


CASES = [
    Case(_name("relu", RELU), "act", 0, *_elementwise(RELU, "relu")),
    Case(_name("relu6", RELU6), "act", 0, *_elementwise(RELU6, "relu6")),
    Case(_name("relu6", RELU6_SMALL), "act", 0, *_elementwise(RELU6_SMALL, "relu6")),
    Case(_name("softmax + cross_entropy", CE), "act", 0, *_cross_entropy(CE)),
    Case(_name("cross_entropy per pixel", PIXEL_CE), "act", 0, *_cross_entropy(PIXEL_CE)),
    Case(_name("dropout p=0.5", DROPOUT), "act", 0, *_elementwise(DROPOUT, "dropout", p=0.5)),
]
