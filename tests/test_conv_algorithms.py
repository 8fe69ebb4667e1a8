"""Convolution algorithm selection (``mt.backends.benchmark``, ``conv_algorithms``) and the
conv + activation fusion of inference. The Winograd kernels themselves: test_winograd.py."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn.ops import conv_algorithms
from minitorch_cnn.ops.conv import conv2d_activation

from helpers import assert_close, make


def test_backends_benchmark_is_a_checked_switch():
    assert mt.backends.benchmark is False
    with pytest.raises(TypeError, match="mt.backends.benchmark"):
        mt.backends.benchmark = 1
    with pytest.raises(ValueError, match="one of"):
        with conv_algorithms.force("fft"):
            pass


@pytest.mark.parametrize("name", conv_algorithms.ALGORITHMS)
def test_every_algorithm_gives_the_same_convolution(rng, name):
    x, w, b = make(rng, 2, 3, 7, 9), make(rng, 4, 3, 3, 3), make(rng, 4)
    ref = F.conv2d(x, w, b, padding=1)
    ref.sum().backward()
    expected = [t.grad.numpy().copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    with conv_algorithms.force(name):
        y = F.conv2d(x, w, b, padding=1)
        y.sum().backward()
    assert_close(y.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    for t, e in zip((x, w, b), expected):
        assert_close(t.grad.numpy(), e, rtol=1e-10, atol=1e-12)


def test_benchmark_times_the_candidates_once_per_key(rng, request):
    if request.config.getoption("--conv-algorithm"):
        pytest.skip("an algorithm is forced (--conv-algorithm): nothing is timed")
    x, w = make(rng, 2, 3, 8, 8, requires_grad=False), make(rng, 4, 3, 3, 3, requires_grad=False)
    ref = F.conv2d(x, w, padding=1).numpy()
    before = conv_algorithms.chosen()
    mt.backends.benchmark = True
    try:
        y = F.conv2d(x, w, padding=1)
        table = conv_algorithms.chosen()
        F.conv2d(x, w, padding=1)
        assert conv_algorithms.chosen() == table
    finally:
        mt.backends.benchmark = False
    new = {k: v for k, v in table.items() if k not in before}
    assert len(new) == 1 and set(new.values()) <= set(conv_algorithms.ALGORITHMS)
    assert_close(y.numpy(), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "relu6"])
@pytest.mark.parametrize("groups", [1, 3])  # 3: the depthwise kernel
def test_conv_activation_is_the_activation_of_the_conv(rng, activation, groups):
    x = make(rng, 2, 3, 6, 6, low=-3, high=3)
    w, b = make(rng, 3, 3 // groups, 3, 3, low=-3, high=3), make(rng, 3)
    act = F.relu if activation == "relu" else F.relu6
    y = conv2d_activation(x, w, b, 1, 1, 1, groups, activation)
    assert_close(y.numpy(), act(F.conv2d(x, w, b, 1, 1, 1, groups)).numpy())
    raw = F.conv2d(x, w, b, 1, 1, 1, groups).numpy()
    assert np.min(np.abs(raw)) > 1e-4 and np.min(np.abs(raw - 6)) > 1e-4  # no kink in reach
    assert mt.gradcheck(lambda x, w, b: conv2d_activation(x, w, b, 1, 1, 1, groups,
                                                          activation), (x, w, b), eps=1e-6)


def test_conv_activation_refuses_unknown_names(rng):
    with pytest.raises(ValueError, match="activation must be"):
        conv2d_activation(make(rng, 1, 1, 3, 3), make(rng, 1, 1, 1, 1), activation="gelu")


def test_fuse_folds_the_activation_into_the_conv():
    nn = mt.nn
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Conv2d(8, 8, 3, groups=8), nn.ReLU6(),
                        nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Flatten())
    x = mt.randn(2, 3, 6, 6)
    for _ in range(2):  # running statistics that are not the identity
        net(x)
    fused = nn.utils.fuse(net, x)
    assert fused.fused_pairs == [("0", "1")]
    assert fused.fused_activations == [("0", "2"), ("3", "4"), ("5", "6")]
    assert [fused[i].activation for i in (0, 3, 5)] == ["relu", "relu6", "relu"]
    assert "activation='relu6'" in repr(fused[3])
    with mt.no_grad():
        assert_close(fused(x).numpy(), net.eval()(x).numpy(), rtol=1e-5, atol=1e-6)


def test_fuse_leaves_a_reused_activation():
    """ResNet's blocks call one ``self.relu`` three times: fusing one call into a conv and
    removing the module would drop the other two."""
    from minitorch_cnn.models import resnet18
    model = resnet18(num_classes=10)
    fused = mt.nn.utils.fuse(model, mt.randn(1, 3, 32, 32))
    assert ("conv1", "relu") in fused.fused_activations  # the stem's own relu, called once
    assert not any(".relu" in act for _, act in fused.fused_activations)
    assert not isinstance(fused.layer1[0].relu, mt.nn.Identity)
