"""Batch norm folded into the convolution before it, for inference (nn/fusion.py)."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.models import resnet18
from helpers import assert_close

fuse = mt.nn.utils.fuse


def _random_statistics(model, rng):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.data[...] = rng.standard_normal(m.num_features)
            m.running_var.data[...] = rng.uniform(0.3, 3.0, m.num_features)
            if m.affine:
                m.weight.data[...] = rng.uniform(0.5, 2.0, m.num_features)
                m.bias.data[...] = rng.standard_normal(m.num_features)
    return model


def test_resnet18_folds_every_pair_and_keeps_its_output(rng):
    model = _random_statistics(resnet18(), rng)
    model.train()
    x = mt.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32))
    fused = fuse(model, x)
    assert len(fused.fused_pairs) == 20 and ("conv1", "bn1") in fused.fused_pairs
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    assert model.training and sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 20
    with mt.no_grad():
        expected = model.eval()(x).numpy()
        assert_close(fused(x), expected, rtol=0, atol=1e-4 * np.abs(expected).max())


class _Shared(nn.Module):
    """A convolution read by a batch norm and by a skip: folding would change the skip."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)

    def forward(self, x):
        y = self.conv(x)
        return self.bn(y) + y


def test_only_pairs_whose_convolution_feeds_nothing_else_are_folded(rng):
    x = mt.tensor(rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    shared = _random_statistics(_Shared(), rng)
    assert fuse(shared, x).fused_pairs == []
    pre_activation = _random_statistics(nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(),
                                                      nn.Conv2d(3, 4, 1)), rng)
    assert fuse(pre_activation, x).fused_pairs == []  # BN before the conv: nothing to fold
    plain = _random_statistics(nn.Sequential(nn.Conv2d(3, 4, 3, bias=False),
                                             nn.BatchNorm2d(4, affine=False), nn.ReLU()), rng)
    fused = fuse(plain, x)
    assert fused.fused_pairs == [("0", "1")] and isinstance(fused[1], nn.Identity)
    with mt.no_grad():
        assert_close(fused(x), plain.eval()(x).numpy(), rtol=1e-5, atol=1e-6)


def test_bad_example_input():
    with pytest.raises(TypeError, match="fuse: example_input must be a Tensor"):
        fuse(nn.Conv2d(1, 1, 1), np.zeros((1, 1, 2, 2)))


@pytest.mark.oracle
def test_folded_weights_are_torchs(torch, rng):
    from torch.nn.utils.fusion import fuse_conv_bn_weights
    model = _random_statistics(nn.Sequential(nn.Conv2d(3, 5, 3, groups=1), nn.BatchNorm2d(5)),
                               rng)
    x = mt.tensor(rng.standard_normal((1, 3, 6, 6)).astype(np.float32))
    conv, bn = fuse(model, x)[0], model[1]
    t = lambda a: torch.tensor(a.numpy())  # noqa: E731
    w, b = fuse_conv_bn_weights(t(model[0].weight), t(model[0].bias), t(bn.running_mean),
                                t(bn.running_var), bn.eps, t(bn.weight), t(bn.bias))
    assert_close(conv.weight, w.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert_close(conv.bias, b.detach().numpy(), rtol=1e-6, atol=1e-6)
