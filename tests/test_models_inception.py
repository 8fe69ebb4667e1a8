"""The Inception family: GoogLeNet (the paper's and torchvision's), BN-Inception (v2), v3.

Parameter counts, the paper's channel tables, auxiliary heads in training mode only, the
0.3-weighted loss, every parameter receiving a gradient, and clear errors for bad input.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn.models import (GoogLeNet, GoogLeNetOutputs, InceptionOutputs, InceptionV2,
                                  InceptionV3, googlenet, googlenet_loss, inception_v3)
from helpers import assert_all_gradients, n_params


@pytest.fixture(scope="module")
def paper_googlenet():
    mt.manual_seed(0)
    return GoogLeNet()


# --- GoogLeNet -------------------------------------------------------------------------------

def test_googlenet_parameter_counts(paper_googlenet):
    assert n_params(paper_googlenet) == 13_378_280
    main = n_params(paper_googlenet, skip="aux")
    assert main == 6_998_552 == n_params(GoogLeNet(aux_logits=False))
    # "12 times fewer parameters than AlexNet" (60,965,224): the count gives 8.7
    assert 8 < 60_965_224 / main < 13
    # Table 1: the 5x5 branch of inception (3a) has 16 -> 32 filters of 5x5
    assert paper_googlenet.inception3a.branch3[1].conv.weight.shape == (32, 16, 5, 5)
    assert paper_googlenet.lrn1 is not None and paper_googlenet.conv1.bn is None


def test_googlenet_train_returns_aux_logits_and_eval_the_main_ones(paper_googlenet):
    x = mt.randn(1, 3, 224, 224)
    target = mt.tensor(np.array([3]))
    paper_googlenet.train().zero_grad()
    out = paper_googlenet(x)
    assert isinstance(out, GoogLeNetOutputs)
    assert [t.shape for t in out] == [(1, 1000)] * 3
    googlenet_loss(out, target).backward()
    assert_all_gradients(paper_googlenet)
    with mt.no_grad():
        y = paper_googlenet.eval()(x)
    assert isinstance(y, mt.Tensor) and y.shape == (1, 1000)


def test_googlenet_loss_weights_the_heads_by_0_3():
    rng = np.random.default_rng(0)
    logits = [mt.tensor(rng.standard_normal((4, 5)).astype(np.float32)) for _ in range(3)]
    target = mt.tensor(np.array([0, 1, 2, 4]))
    ce = [F.cross_entropy(t, target).item() for t in logits]
    combined = googlenet_loss(GoogLeNetOutputs(*logits), target).item()
    assert combined == pytest.approx(ce[0] + 0.3 * (ce[1] + ce[2]), rel=1e-6)
    assert googlenet_loss(logits[0], target).item() == pytest.approx(ce[0], rel=1e-6)
    pair = InceptionOutputs(logits[0], logits[1])
    assert googlenet_loss(pair, target, aux_weight=0.4).item() == pytest.approx(
        ce[0] + 0.4 * ce[1], rel=1e-6)


def test_googlenet_rejects_bad_input(paper_googlenet):
    with pytest.raises(ValueError, match=r"GoogLeNet.*224"):
        paper_googlenet(mt.zeros(1, 3, 227, 227))
    with pytest.raises(ValueError, match=r"GoogLeNet.*\(N, 3, 224, 224\)"):
        paper_googlenet(mt.zeros(1, 4, 224, 224))
    with pytest.raises(ValueError, match="variant"):
        GoogLeNet(variant="v2")


def test_torchvision_googlenet_layout():
    model = googlenet()
    assert n_params(model) == 13_004_888  # torchvision's figure
    assert n_params(model, skip="aux") == 6_624_904  # torchvision's num_params (no heads)
    assert model.inception3a.branch3[1].conv.weight.shape == (32, 16, 3, 3)  # its 3x3
    assert n_params(googlenet(aux_logits=False)) == 6_624_904
    x = mt.randn(1, 3, 64, 64)
    with mt.no_grad():
        y = model.eval()(x).numpy()
        model.transform_input = True
        z = model(x).numpy()
    assert y.shape == (1, 1000) and not np.array_equal(y, z)


# --- Inception v2 (BN-Inception) ------------------------------------------------------------

def test_inception_v2_table():
    model = InceptionV2(num_classes=10)
    assert n_params(InceptionV2()) == 11_285_224
    assert not any(type(m).__name__ == "LocalResponseNorm" for m in model.modules())
    x = mt.randn(1, 3, 64, 64)
    with mt.no_grad():
        model.eval()
        h = model.maxpool2(model.conv3(model.conv2(model.maxpool1(model.conv1(x)))))
        channels = []
        for block in model.blocks:
            h = block(h)
            channels.append(h.shape[1])
    # Figure 5 of the BN paper: 3a 256, 3b 320, 3c 576, 4a-4b 576, 4c-4d 608, 4e 1056, 5a-5b 1024
    assert channels == [256, 320, 576, 576, 576, 608, 608, 1056, 1024, 1024]
    assert h.shape[2:] == (2, 2)  # 64 / 32
    with pytest.raises(ValueError, match="InceptionV2"):
        model(mt.zeros(1, 3, 16, 16))


@pytest.mark.slow
def test_inception_v2_gradients():
    model = InceptionV2(num_classes=10)
    y = model(mt.randn(2, 3, 64, 64))
    F.cross_entropy(y, mt.tensor(np.array([1, 2]))).backward()
    assert y.shape == (2, 10)
    assert_all_gradients(model)


# --- Inception v3 ---------------------------------------------------------------------------

def test_inception_v3_counts_and_eval_shape():
    model = inception_v3()
    assert n_params(model) == 27_161_264  # torchvision's figure
    assert n_params(model, skip="AuxLogits") == 23_834_568
    assert model.Mixed_6b.branch7x7_2.conv.weight.shape == (128, 128, 1, 7)  # factorised 7x7
    with mt.no_grad():
        y = model.eval()(mt.randn(1, 3, 75, 75))
    assert isinstance(y, mt.Tensor) and y.shape == (1, 1000)
    model.train()
    with pytest.raises(ValueError, match=r"InceptionV3.*299"):
        model(mt.zeros(2, 3, 75, 75))  # the auxiliary head needs the 17x17 grid
    with pytest.raises(ValueError, match=r"InceptionV3.*75"):
        model.eval()(mt.zeros(1, 3, 64, 64))


@pytest.mark.slow
def test_inception_v3_gradients_without_the_head():
    model = InceptionV3(num_classes=10, aux_logits=False)
    assert model.AuxLogits is None
    y = model(mt.randn(2, 3, 75, 75))
    F.cross_entropy(y, mt.tensor(np.array([1, 2]))).backward()
    assert y.shape == (2, 10)
    assert_all_gradients(model)


@pytest.mark.slow
def test_inception_v3_training_with_the_head_at_299():
    model = InceptionV3(num_classes=10)
    out = model(mt.randn(2, 3, 299, 299))
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == out.aux_logits.shape == (2, 10)
    googlenet_loss(out, mt.tensor(np.array([1, 2])), aux_weight=0.4).backward()
    assert_all_gradients(model)
