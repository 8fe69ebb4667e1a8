"""ResNet and ResNeXt: parameter counts (torchvision's figures), blocks and shortcuts, the
stride placement of the paper vs torchvision, every parameter receiving a gradient, batch norm in
train vs eval, and clear errors for bad input. Small inputs: the pooling is adaptive."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import optim
from minitorch_cnn.models import (BasicBlock, Bottleneck, ResNet, ResNet18, ResNet50,
                                  ResNeXt50_32x4d, resnet18, resnet34, resnet50, resnet101,
                                  resnet152, resnext50_32x4d, resnext101_32x8d)
from helpers import assert_all_gradients, n_params


@pytest.mark.parametrize("build, expected", [
    (resnet18, 11_689_512), (resnet34, 21_797_672), (resnet50, 25_557_032),
    (ResNet50, 25_557_032), (resnext50_32x4d, 25_028_904)])
def test_parameter_counts(build, expected):
    assert n_params(build()) == expected  # torchvision's num_params


@pytest.mark.slow
@pytest.mark.parametrize("build, expected", [
    (resnet101, 44_549_160), (resnet152, 60_192_808), (resnext101_32x8d, 88_791_336)])
def test_parameter_counts_deep(build, expected):
    assert n_params(build()) == expected


def test_resnet18_gradients_and_batch_norm_modes():
    model = ResNet18(num_classes=10)
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [2, 2, 2, 2]
    x = mt.randn(2, 3, 32, 32)
    y = model(x)
    F.cross_entropy(y, mt.tensor(np.array([1, 7]))).backward()
    assert y.shape == (2, 10)
    assert_all_gradients(model)
    assert int(model.bn1.num_batches_tracked.item()) == 1
    assert not np.allclose(model.bn1.running_mean.numpy(), 0)
    model.eval()
    with mt.no_grad():
        both = model(x).numpy()
        first = model(x[:1]).numpy()
    np.testing.assert_allclose(first[0], both[0], rtol=1e-4, atol=1e-6)  # running statistics


def test_projection_shortcuts_where_the_shape_changes():
    model = ResNet18()
    assert model.layer1[0].downsample is None
    for i in (2, 3, 4):
        down = getattr(model, f"layer{i}")[0].downsample
        assert down[0].kernel_size == (1, 1) and down[0].stride == (2, 2)
    assert resnet50().layer1[0].downsample[0].weight.shape == (256, 64, 1, 1)


def test_stride_in_1x1_for_the_paper_in_3x3_for_torchvision():
    paper, tv = ResNet50(), resnet50()
    assert paper.layer2[0].conv1.stride == (2, 2) and paper.layer2[0].conv2.stride == (1, 1)
    assert tv.layer2[0].conv1.stride == (1, 1) and tv.layer2[0].conv2.stride == (2, 2)
    x = mt.randn(1, 256, 8, 8)
    with mt.no_grad():
        shapes = {b.eval()(x).shape for b in (paper.layer2[0], tv.layer2[0])}
    assert shapes == {(1, 512, 4, 4)}


def test_resnext_grouped_bottlenecks():
    model = ResNeXt50_32x4d()
    conv = model.layer1[0].conv2  # 32 paths of 4 channels: width 128
    assert conv.groups == 32 and conv.weight.shape == (128, 4, 3, 3)
    assert model.layer4[0].conv2.weight.shape == (1024, 32, 3, 3)
    block = Bottleneck(256, 64, groups=32, base_width=8)  # ResNeXt-101 32x8d, first stage
    assert block.conv2.weight.shape == (256, 8, 3, 3)
    with mt.no_grad():
        assert block.eval()(mt.randn(1, 256, 4, 4)).shape == (1, 256, 4, 4)


def test_zero_init_residual_makes_blocks_start_as_identity():
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=4, zero_init_residual=True)
    block = model.layer1[0]
    assert np.all(block.bn2.weight.numpy() == 0)
    x = mt.maximum(mt.randn(1, 64, 4, 4), 0.0)
    with mt.no_grad():
        np.testing.assert_allclose(block.eval()(x).numpy(), x.numpy(), rtol=1e-6)


def test_bad_input_and_arguments():
    model = ResNet18(num_classes=10, in_channels=1)
    with pytest.raises(ValueError, match=r"ResNet.*\(N, 1, H, W\).*\(1, 3, 32, 32\)"):
        model(mt.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="BasicBlock"):
        BasicBlock(64, 64, groups=32)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        resnet18(weights="IMAGENET1K_V1")


@pytest.mark.slow
def test_resnet50_gradients():
    model = ResNet50(num_classes=10)
    y = model(mt.randn(2, 3, 64, 64))
    F.cross_entropy(y, mt.tensor(np.array([1, 7]))).backward()
    assert y.shape == (2, 10)
    assert_all_gradients(model)


@pytest.mark.slow
def test_small_resnet_learns_a_fixed_batch():
    mt.manual_seed(0)
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=4)
    x = mt.tensor(np.random.default_rng(0).standard_normal((4, 3, 16, 16)).astype(np.float32))
    target = mt.tensor(np.arange(4))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(6):
        loss = F.cross_entropy(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
