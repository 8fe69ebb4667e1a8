"""The plain stacks of the zoo: AlexNet (the paper's and torchvision's), ZFNet, VGG, NiN.

Output shapes at the paper's input sizes, parameter counts against the papers' / torchvision's
figures, every parameter receiving a gradient, train vs eval, and clear errors for bad input.
Building a network with a 9216- or 25088-wide fc6 allocates 250-550 MB, so each is built once
per module and the largest are marked slow.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn, optim
from minitorch_cnn.models import (VGG11, VGG11_BN, VGG13, VGG13_BN, VGG16, VGG16_BN, VGG19,
                                  VGG19_BN, AlexNet, NiN, ZFNet, alexnet)
from minitorch_cnn.models.vgg import cfgs, make_layers
from helpers import n_params


def backward_all(model, x, num_classes):
    """Cross-entropy backward through ``model``; every parameter must get a finite gradient."""
    model.zero_grad()
    y = model(x)
    target = mt.tensor(np.arange(x.shape[0]) % num_classes)
    F.cross_entropy(y, target).backward()
    missing = [k for k, p in model.named_parameters()
               if p.grad is None or not np.isfinite(p.grad.numpy()).all()]
    assert not missing, f"no (finite) gradient for {missing}"
    return y


@pytest.fixture(scope="module")
def paper_alexnet():
    mt.manual_seed(0)
    return AlexNet()


@pytest.fixture(scope="module")
def zfnet():
    mt.manual_seed(0)
    return ZFNet()


# --- AlexNet ---------------------------------------------------------------------------------

def test_alexnet_parameter_count_is_the_papers(paper_alexnet):
    # 60,965,224: the paper's "60 million parameters"
    assert n_params(paper_alexnet) == 60_965_224
    convs = [m for m in paper_alexnet.features if isinstance(m, nn.Conv2d)]
    assert [n_params(c) for c in convs] == [34_944, 307_456, 885_120, 663_936, 442_624]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]  # the two-GPU split


def test_alexnet_shapes_and_gradients(paper_alexnet):
    x = mt.randn(1, 3, 227, 227)
    shapes = []
    h = x
    with mt.no_grad():
        for m in paper_alexnet.features:
            h = m(h)
            if isinstance(m, nn.MaxPool2d):
                shapes.append(h.shape[1:])
    assert shapes == [(96, 27, 27), (256, 13, 13), (256, 6, 6)]
    paper_alexnet.train()
    y = backward_all(paper_alexnet, x, 1000)
    assert y.shape == (1, 1000)


def test_alexnet_initialisation_is_the_papers(paper_alexnet):
    f, c = paper_alexnet.features, paper_alexnet.classifier
    assert [float(f[i].bias.numpy().mean()) for i in (0, 4, 8, 10, 12)] == [0, 1, 0, 1, 1]
    assert [float(c[i].bias.numpy().mean()) for i in (0, 3, 6)] == [1, 1, 0]
    assert abs(float(c[0].weight.numpy().std()) - 0.01) < 1e-3


def test_alexnet_eval_is_deterministic_and_train_drops_out(paper_alexnet):
    x = mt.randn(1, 3, 227, 227)
    with mt.no_grad():
        paper_alexnet.eval()
        a, b = paper_alexnet(x).numpy(), paper_alexnet(x).numpy()
        paper_alexnet.train()
        c = paper_alexnet(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_alexnet_rejects_the_wrong_input_size(paper_alexnet):
    with pytest.raises(ValueError, match=r"AlexNet.*227"):
        paper_alexnet(mt.zeros(1, 3, 224, 224))
    with pytest.raises(ValueError, match=r"AlexNet.*\(N, 3, 227, 227\).*\(1, 1, 227, 227\)"):
        paper_alexnet(mt.zeros(1, 1, 227, 227))


@pytest.mark.slow
def test_torchvision_alexnet_count_and_shape():
    model = alexnet()
    assert n_params(model) == 61_100_840  # torchvision's figure
    with mt.no_grad():
        assert model.eval()(mt.randn(1, 3, 224, 224)).shape == (1, 1000)
    with pytest.raises(ValueError, match="TorchvisionAlexNet"):
        model(mt.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="cannot be downloaded"):
        alexnet(weights="DEFAULT")


# --- ZFNet -----------------------------------------------------------------------------------

def test_zfnet_layer_table(zfnet):
    assert n_params(zfnet) == 62_357_608
    x = mt.randn(1, 3, 224, 224)
    shapes = []
    with mt.no_grad():
        for m in zfnet.features:
            x = m(x)
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
                shapes.append(x.shape[1:])
    # Figure 3 of the paper: 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 13 -> 6
    assert shapes == [(96, 110, 110), (96, 55, 55), (256, 26, 26), (256, 13, 13),
                      (384, 13, 13), (384, 13, 13), (256, 13, 13), (256, 6, 6)]
    assert zfnet.features[0].kernel_size == (7, 7) and zfnet.features[0].stride == (2, 2)


def test_zfnet_gradients_and_bad_input(zfnet):
    zfnet.train()
    assert backward_all(zfnet, mt.randn(1, 3, 224, 224), 1000).shape == (1, 1000)
    with pytest.raises(ValueError, match=r"ZFNet.*224"):
        zfnet(mt.zeros(1, 3, 227, 227))


# --- VGG -------------------------------------------------------------------------------------

# torchvision's num_params, checked against torchvision 0.29
VGG_PARAMS = {"A": 132_863_336, "B": 133_047_848, "D": 138_357_544, "E": 143_667_240}
VGG_BN_PARAMS = {"A": 132_868_840, "B": 133_053_736, "D": 138_365_992, "E": 143_678_248}
CLASSIFIER = (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)


@pytest.mark.parametrize("cfg", "ABDE")
def test_vgg_configurations_count_like_the_paper(cfg):
    # the convolutional part only (the 124M-parameter classifier is the same for all four)
    assert n_params(make_layers(cfgs[cfg])) + CLASSIFIER == VGG_PARAMS[cfg]
    convs = sum(isinstance(v, int) for v in cfgs[cfg])
    assert convs + 3 == {"A": 11, "B": 13, "D": 16, "E": 19}[cfg]
    # batch norm adds a weight and a bias per channel
    bn = n_params(make_layers(cfgs[cfg], batch_norm=True)) - n_params(make_layers(cfgs[cfg]))
    assert VGG_PARAMS[cfg] + bn == VGG_BN_PARAMS[cfg]


def test_vgg_features_with_batch_norm_train_and_eval():
    # the convolutional part of VGG11_BN (the classifier is plain Linear + Dropout)
    features = make_layers(cfgs["A"], batch_norm=True)
    model = nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))
    y = backward_all(model, mt.randn(2, 3, 32, 32), 10)  # 32 -> 1 after five pools
    assert y.shape == (2, 10)
    assert int(features[1].num_batches_tracked.item()) == 1
    model.eval()
    with mt.no_grad():
        one = model(mt.ones(1, 3, 32, 32)).numpy()
        two = model(mt.ones(2, 3, 32, 32)).numpy()
    np.testing.assert_allclose(one[0], two[1], rtol=1e-4, atol=1e-6)  # eval: running stats


@pytest.mark.slow
def test_vgg11_bn_forward_backward_small_input():
    model = VGG11_BN(num_classes=10, in_channels=1)
    assert n_params(model) == VGG_BN_PARAMS["A"] - 4096 * 990 - 990 - 2 * 64 * 9
    y = backward_all(model, mt.randn(2, 1, 32, 32), 10)  # 32 -> 1 -> adaptive 7x7
    assert y.shape == (2, 10)
    with pytest.raises(ValueError, match=r"VGG.*>= 32"):
        model(mt.zeros(1, 1, 16, 16))


@pytest.mark.slow
@pytest.mark.parametrize("build, expected", [
    (VGG11, VGG_PARAMS["A"]), (VGG13, VGG_PARAMS["B"]), (VGG16, VGG_PARAMS["D"]),
    (VGG19, VGG_PARAMS["E"]), (VGG13_BN, VGG_BN_PARAMS["B"]), (VGG16_BN, VGG_BN_PARAMS["D"]),
    (VGG19_BN, VGG_BN_PARAMS["E"])])
def test_vgg_full_models(build, expected):
    model = build()
    assert n_params(model) == expected
    with mt.no_grad():
        assert model.eval()(mt.randn(1, 3, 224, 224)).shape == (1, 1000)


# --- NiN -------------------------------------------------------------------------------------

def test_nin_counts_shapes_and_gradients():
    model = NiN()
    assert n_params(model) == 966_986
    assert not any(isinstance(m, nn.Linear) for m in model.modules())  # no FC layer
    y = backward_all(model, mt.randn(2, 3, 32, 32), 10)
    assert y.shape == (2, 10)
    with mt.no_grad():
        assert model.eval()(mt.randn(1, 3, 48, 40)).shape == (1, 10)  # any size: global pooling
    with pytest.raises(ValueError, match="NiN"):
        model(mt.zeros(1, 1, 32, 32))


def test_nin_learns_a_fixed_batch():
    mt.manual_seed(1)
    model = NiN(num_classes=4, dropout=0.0)
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((4, 3, 12, 12)).astype(np.float32))
    target = mt.tensor(np.arange(4))
    opt = optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(10):
        loss = F.cross_entropy(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # slow to start: the last mlpconv has a ReLU before the global pooling, as the paper's model
    assert min(losses[-3:]) < 0.9 * losses[0]
