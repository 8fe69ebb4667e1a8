"""The lower-case models against torchvision (oracle; skipped without torchvision): the same
``state_dict`` keys and shapes in the same order, and, with torchvision's randomly initialised
weights loaded, the same logits in eval mode; a batch-norm model in training mode (logits,
running statistics, gradients); weights exported to .npz / .safetensors files.

Run with the torchvision environment: ``/tmp/tv/bin/python -m pytest -m oracle tests/...``.
"""
import importlib.util
import pathlib
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import models
from minitorch_cnn.models import load_weights

pytestmark = pytest.mark.oracle
torchvision = pytest.importorskip("torchvision")

# (name, input size): small inputs where the architecture allows (adaptive pooling)
FAST = [("alexnet", 64), ("googlenet", 64), ("resnet18", 32), ("resnet50", 64)]
SLOW = [("inception_v3", 75), ("resnext50_32x4d", 64), ("vgg11", 32), ("vgg13", 32),
        ("vgg16", 32), ("vgg19", 32), ("vgg11_bn", 32), ("vgg13_bn", 32), ("vgg16_bn", 32),
        ("vgg19_bn", 32), ("resnet34", 32),
        ("resnet101", 32), ("resnet152", 32), ("resnext101_32x8d", 32)]


def torchvision_model(torch, name):
    torch.manual_seed(0)
    kwargs = {"init_weights": True} if name in ("googlenet", "inception_v3") else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(torchvision.models, name)(**kwargs)
    with torch.no_grad():  # batch-norm statistics and affines away from the identity
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model


def numpy_state(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def assert_logits_close(ours, theirs):
    theirs = np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())


def check_model(torch, name, size):
    theirs = torchvision_model(torch, name).eval()
    ours = getattr(models, name)()
    want = [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == want
    ours.load_state_dict(numpy_state(theirs))
    ours.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with mt.no_grad():
        assert_logits_close(ours(mt.tensor(x)).numpy(), expected)


@pytest.mark.parametrize("name, size", FAST)
def test_same_layout_and_logits(torch, name, size):
    check_model(torch, name, size)


@pytest.mark.slow
@pytest.mark.parametrize("name, size", SLOW)
def test_same_layout_and_logits_big(torch, name, size):
    check_model(torch, name, size)


def test_batch_norm_training_mode(torch):
    theirs = torchvision_model(torch, "resnet18").train()
    ours = models.resnet18()
    ours.load_state_dict(numpy_state(theirs))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 32, 32)).astype(np.float32)
    target = np.array([3, 1, 4, 1])
    y_t = theirs(torch.from_numpy(x))
    torch.nn.functional.cross_entropy(y_t, torch.from_numpy(target)).backward()
    y = ours(mt.tensor(x))
    F.cross_entropy(y, mt.tensor(target)).backward()
    assert_logits_close(y.numpy(), y_t.detach().numpy())
    state_t = dict(theirs.named_parameters())
    for key in ("conv1.weight", "layer1.0.bn1.weight", "layer4.1.conv2.weight", "fc.weight"):
        g_t = state_t[key].grad.numpy()
        g = dict(ours.named_parameters())[key].grad.numpy()
        np.testing.assert_allclose(g, g_t, rtol=1e-3, atol=1e-4 * np.abs(g_t).max())
    buffers_t = dict(theirs.named_buffers())
    for key, value in ours.named_buffers():  # running statistics and batch counters
        np.testing.assert_allclose(value.numpy(), buffers_t[key].numpy(), rtol=1e-4,
                                   atol=1e-6)


def test_weights_files_load(torch, tmp_path):
    path = pathlib.Path(__file__).resolve().parents[1] / "tools" / "export_torchvision_weights.py"
    spec = importlib.util.spec_from_file_location("export_torchvision_weights", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    x = np.random.default_rng(2).standard_normal((1, 3, 32, 32)).astype(np.float32)
    for suffix in (".npz", ".safetensors"):
        if suffix == ".safetensors":
            pytest.importorskip("safetensors")
        file = str(tmp_path / f"resnet18{suffix}")
        torch.manual_seed(3)
        tool.main(["resnet18", file])
        torch.manual_seed(3)
        theirs = torchvision.models.resnet18().eval()
        ours = load_weights(models.resnet18(), file).eval()
        with torch.no_grad():
            expected = theirs(torch.from_numpy(x)).numpy()
        with mt.no_grad():
            assert_logits_close(ours(mt.tensor(x)).numpy(), expected)
    with pytest.raises(ValueError, match="load_state_dict"):
        load_weights(models.resnet34(), file)  # not the same layout
    with pytest.raises(ValueError, match=r"\.npz or \.safetensors"):
        load_weights(models.resnet18(), str(tmp_path / "weights.pt"))
