"""Zoo II, the torchvision families: DenseNet, SqueezeNet, MobileNet v1/v2, ShuffleNet v1/v2.

Parameter counts against torchvision's (and the papers'), output shapes and gradients on
reduced configurations (the full nets are slow on a shared 2-core machine), and, with
torchvision installed (``/tmp/tv/bin/python -m pytest -m oracle``), state-dict keys and shapes
equal to torchvision's and the same logits with the same weights.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from minitorch_cnn.models import (DenseNet, DenseNet121, MobileNetV1, MobileNetV2, ShuffleNetV1,
                                  ShuffleNetV2, SqueezeNet1_0, densenet121, densenet161,
                                  densenet169, densenet201, mobilenet_v2, shufflenet_v2_x0_5,
                                  shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0,
                                  squeezenet1_0, squeezenet1_1)
from helpers import n_params

TORCHVISION = {  # parameters, each checked against torchvision 0.29
    densenet121: 7_978_856, densenet161: 28_681_000, densenet169: 14_149_480,
    densenet201: 20_013_928, squeezenet1_0: 1_248_424, squeezenet1_1: 1_235_496,
    mobilenet_v2: 3_504_872, shufflenet_v2_x0_5: 1_366_792, shufflenet_v2_x1_0: 2_278_604,
    shufflenet_v2_x1_5: 3_503_624, shufflenet_v2_x2_0: 7_393_996,
}

# small members of each family, for shapes, gradients and oracle tests: (ours, torchvision's)
TINY = {
    "densenet": (lambda: DenseNet(8, (2, 2, 2, 2), 16, num_classes=10),
                 lambda tv: tv.DenseNet(8, (2, 2, 2, 2), 16, num_classes=10)),
    "mobilenet_v2": (lambda: MobileNetV2(10, width_mult=0.25),
                     lambda tv: tv.MobileNetV2(10, width_mult=0.25)),
    "shufflenet_v2": (lambda: ShuffleNetV2((2, 2, 2), (8, 16, 32, 64, 64), 10),
                      lambda tv: tv.ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 64], 10)),
    "squeezenet1_1": (lambda: squeezenet1_1(num_classes=10),
                      lambda tv: tv.squeezenet1_1(num_classes=10)),
}


def backward_all(model, x, num_classes):
    """Cross-entropy backward; every parameter must get a finite gradient."""
    model.zero_grad()
    y = model(x)
    F.cross_entropy(y, mt.tensor(np.arange(x.shape[0]) % num_classes)).backward()
    missing = [k for k, p in model.named_parameters()
               if p.grad is None or not np.isfinite(p.grad.numpy()).all()]
    assert not missing, f"no (finite) gradient for {missing}"
    return y


@pytest.mark.parametrize("build", list(TORCHVISION), ids=lambda f: f.__name__)
def test_parameter_counts_equal_torchvision(build):
    assert n_params(build()) == TORCHVISION[build]


def test_paper_names_and_counts():
    assert n_params(DenseNet121()) == 7_978_856
    assert n_params(SqueezeNet1_0()) == 1_248_424      # the paper: 1.25 M
    assert n_params(MobileNetV1()) == 4_231_976        # the paper: 4.2 M
    assert n_params(MobileNetV1(width_mult=0.5)) == 1_331_592  # the paper: 1.3 M
    assert n_params(ShuffleNetV1(groups=3)) == 1_864_728


def test_weights_argument_is_refused_with_a_pointer():
    with pytest.raises(ValueError, match="load_weights"):
        densenet121(weights="IMAGENET1K_V1")


@pytest.mark.parametrize("family", list(TINY))
def test_tiny_members_shapes_and_gradients(family):
    model = TINY[family][0]()
    y = backward_all(model, mt.randn(2, 3, 32, 32), 10)
    assert y.shape == (2, 10)


def test_mobilenet_v1_and_shufflenet_v1_shapes_and_gradients():
    for model in (MobileNetV1(10, width_mult=0.25), ShuffleNetV1(10, groups=8)):
        assert backward_all(model, mt.randn(2, 3, 32, 32), 10).shape == (2, 10)


def test_bad_input_names_the_model_and_the_sizes_that_work():
    with pytest.raises(ValueError, match=r"DenseNet: expected an input of shape \(N, 3, H, W\) "
                                         r"with H, W >= 29, got \(1, 3, 28, 28\)"):
        DenseNet(4, (1, 1, 1, 1), 8)(mt.randn(1, 3, 28, 28))
    with pytest.raises(ValueError, match=r"SqueezeNet: .* H, W >= 17, got \(1, 3, 16, 40\)"):
        squeezenet1_1()(mt.randn(1, 3, 16, 40))
    for model in (MobileNetV2(width_mult=0.25), ShuffleNetV2((1, 1, 1), (8, 8, 8, 8, 8))):
        with pytest.raises(ValueError, match=rf"{type(model).__name__}: expected an input of "
                                             r"shape \(N, 3, H, W\), got \(1, 1, 32, 32\)"):
            model(mt.randn(1, 1, 32, 32))


def test_densenet_concatenates_growth_rate_channels():
    model = DenseNet(8, (3, 2), 16, num_classes=10)
    block = model.features.denseblock1
    with mt.no_grad():
        out = block(mt.randn(1, 16, 8, 8))
    assert out.shape == (1, 16 + 3 * 8, 8, 8)
    assert model.features.transition1.conv.out_channels == (16 + 3 * 8) // 2
    assert model.num_features == 20 + 2 * 8


def test_mobilenet_v2_blocks():
    model = MobileNetV2()
    blocks = list(model.features)[1:-1]
    assert len(blocks) == 17 and sum(b.use_res_connect for b in blocks) == 10
    # a linear bottleneck: the projection is not followed by a ReLU6
    assert isinstance(list(blocks[1].conv)[-1], nn.BatchNorm2d)
    assert model.last_channel == 1280


def test_shufflenet_units_shuffle_and_split():
    model = ShuffleNetV2((2, 2, 2), (8, 16, 32, 64, 64), 10)
    unit = model.stage2[1]
    x = mt.randn(1, 16, 4, 4)
    with mt.no_grad():
        y = unit(x).numpy()
    # stride 1: the kept half lands on the even channels after the shuffle of 2 groups
    np.testing.assert_array_equal(y[:, 0::2], x.numpy()[:, :8])
    with pytest.raises(ValueError, match="groups must be one of"):
        ShuffleNetV1(groups=5)


def test_squeezenet_fire_module_widths():
    fire = squeezenet1_0().features[3]
    with mt.no_grad():
        assert fire(mt.randn(1, 96, 5, 5)).shape == (1, 128, 5, 5)


def test_small_densenet_learns_a_fixed_batch():
    model = DenseNet(4, (1, 1), 8, num_classes=3)
    x, target = mt.randn(6, 3, 16, 16), mt.tensor(np.arange(6) % 3)
    losses = []
    for _ in range(15):
        model.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        losses.append(loss.item())
        with mt.no_grad():
            for p in model.parameters():
                p.data -= 0.1 * p.grad.data
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.slow
@pytest.mark.parametrize("build", [densenet121, mobilenet_v2, shufflenet_v2_x1_0,
                                   squeezenet1_0], ids=lambda f: f.__name__)
def test_full_models_at_224(build):
    model = build().eval()
    with mt.no_grad():
        assert model(mt.randn(1, 3, 224, 224)).shape == (1, 1000)


# --- torchvision as the oracle ----------------------------------------------------------------

def _randomise_batch_norm(torch, model):
    """Non-trivial running statistics and affine parameters, so that eval mode is tested."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


def _same_logits(torch, ours, theirs, size):
    theirs.eval()
    _randomise_batch_norm(torch, theirs)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    ours.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    with mt.no_grad():
        y = ours(mt.tensor(x)).numpy()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.oracle
@pytest.mark.parametrize("build", list(TORCHVISION), ids=lambda f: f.__name__)
def test_state_dict_keys_and_shapes_equal_torchvision(torch, build):
    tv = pytest.importorskip("torchvision")
    theirs = getattr(tv.models, build.__name__)().state_dict()
    ours = build().state_dict()
    assert list(ours) == list(theirs)
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


@pytest.mark.oracle
@pytest.mark.parametrize("family", list(TINY))
def test_tiny_members_give_torchvisions_logits(torch, family):
    tv = pytest.importorskip("torchvision")
    ours, theirs = TINY[family]
    _same_logits(torch, ours(), theirs(tv.models), 48)


@pytest.mark.oracle
@pytest.mark.slow
@pytest.mark.parametrize("name", ["densenet121", "mobilenet_v2", "shufflenet_v2_x1_0",
                                  "squeezenet1_0"])
def test_full_models_give_torchvisions_logits(torch, name):
    tv = pytest.importorskip("torchvision")
    import minitorch_cnn.models as zoo
    _same_logits(torch, getattr(zoo, name)(), getattr(tv.models, name)(), 64)
