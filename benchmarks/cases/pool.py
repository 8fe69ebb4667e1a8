"""Pooling, forward+backward: the layers of AlexNet, VGG, GoogLeNet, ResNet and SegNet.

torch is the bar (PERF_NOTES: Chainer's max pooling was 7x slower than torch). Each case pools,
then backpropagates a fixed random upstream gradient.
"""
import numpy as np

from ..harness import Case


def _data(shape, out_shape):
    rng = np.random.default_rng(0)
    return (rng.standard_normal(shape, dtype=np.float32),
            rng.standard_normal(out_shape, dtype=np.float32))


def _case(name, shape, out_shape, ours_fn, torch_fn):
    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        x, g = _data(shape, out_shape)
        x = mt.tensor(x, device=device, requires_grad=True)
        g = mt.tensor(g, device=device)

        def step():
            ours_fn(F, x).backward(g)
        return step

    def theirs(torch):
        x, g = _data(shape, out_shape)
        x, g = torch.tensor(x, requires_grad=True), torch.tensor(g)

        def step():
            torch_fn(torch.nn.functional, x).backward(g)
        return step
    return Case(name, "pool", 0, ours, theirs)


def _unpool_case():
    """SegNet's decoder step: unpool (8,64,112,112) -> (8,64,224,224) with max-pool indices."""
    shape, out_shape = (8, 64, 112, 112), (8, 64, 224, 224)

    def ours(device):
        import minitorch_cnn as mt
        import minitorch_cnn.nn.functional as F
        big, g = _data(out_shape, out_shape)
        _, indices = F.max_pool2d(mt.tensor(big, device=device), 2, return_indices=True)
        x = mt.tensor(np.ones(shape, np.float32), device=device, requires_grad=True)
        g = mt.tensor(g, device=device)

        def step():
            F.max_unpool2d(x, indices, 2).backward(g)
        return step

    def theirs(torch):
        big, g = _data(out_shape, out_shape)
        _, indices = torch.nn.functional.max_pool2d(torch.tensor(big), 2, return_indices=True)
        x = torch.ones(shape, requires_grad=True)
        g = torch.tensor(g)

        def step():
            torch.nn.functional.max_unpool2d(x, indices, 2).backward(g)
        return step
    return Case("max_unpool2d 2x2 (8,64,112,112 -> 224)", "pool", 0, ours, theirs)


CASES = [
    _case("max_pool 3x3/2 AlexNet (8,96,55,55)", (8, 96, 55, 55), (8, 96, 27, 27),
          lambda F, x: F.max_pool2d(x, 3, 2), lambda F, x: F.max_pool2d(x, 3, 2)),
    _case("max_pool 3x3/2 p1 ResNet stem, batch 1 (1,64,112,112)", (1, 64, 112, 112),
          (1, 64, 56, 56), lambda F, x: F.max_pool2d(x, 3, 2, 1),
          lambda F, x: F.max_pool2d(x, 3, 2, 1)),
    _case("max_pool 2x2/2 VGG (8,64,224,224)", (8, 64, 224, 224), (8, 64, 112, 112),
          lambda F, x: F.max_pool2d(x, 2), lambda F, x: F.max_pool2d(x, 2)),
    _case("max_pool 3x3/2 ceil GoogLeNet (8,64,112,112)", (8, 64, 112, 112), (8, 64, 56, 56),
          lambda F, x: F.max_pool2d(x, 3, 2, ceil_mode=True),
          lambda F, x: F.max_pool2d(x, 3, 2, ceil_mode=True)),
    _case("avg_pool 2x2/2 (32,64,56,56)", (32, 64, 56, 56), (32, 64, 28, 28),
          lambda F, x: F.avg_pool2d(x, 2), lambda F, x: F.avg_pool2d(x, 2)),
    _case("avg_pool 3x3/1 p1 Inception (8,192,28,28)", (8, 192, 28, 28), (8, 192, 28, 28),
          lambda F, x: F.avg_pool2d(x, 3, 1, 1), lambda F, x: F.avg_pool2d(x, 3, 1, 1)),
    _case("global avg pool (32,512,7,7)", (32, 512, 7, 7), (32, 512, 1, 1),
          lambda F, x: F.adaptive_avg_pool2d(x, 1), lambda F, x: F.adaptive_avg_pool2d(x, 1)),
    _unpool_case(),
]
