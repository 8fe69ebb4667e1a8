"""Degenerate but legal inputs, as PyTorch treats them (issue #24), each class tested over the
whole namespace so that the next member is caught too:

- a zero-size batch flows forward and backward through every layer of ``nn`` and every model
  of the zoo (one per architecture file);
- 0-d inputs through every activation and element-wise loss;
- every loss reduction's backward is finite when its denominator is zero (PyTorch's 0);
- cross_entropy against class probabilities, with weights and label smoothing (oracle);
- dropout(p=1) (tests/test_dropout.py).
"""
import inspect

import numpy as np
import pytest

from helpers import make

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from minitorch_cnn.models import registry

# every module of nn: a tiny instance and its input with a batch of 0 (N, C, H, W = 0, 4, 6, 6)
IMAGE = (0, 4, 6, 6)
ZERO_BATCH = {
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(3), IMAGE),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d((4, 3)), IMAGE),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True), IMAGE),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), (0, 4)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(4), IMAGE),
    "ChannelShuffle": (lambda: nn.ChannelShuffle(2), IMAGE),
    "Conv2d": (lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2), IMAGE),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 2, 3, stride=2), IMAGE),
    "Dropout": (lambda: nn.Dropout(0.5), IMAGE),
    "Dropout2d": (lambda: nn.Dropout2d(0.5), IMAGE),
    "ELU": (nn.ELU, IMAGE),
    "Flatten": (nn.Flatten, IMAGE),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), IMAGE),
    "Identity": (nn.Identity, IMAGE),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(4, affine=True), (0, 4, 5)),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
                       IMAGE),
    "LayerNorm": (lambda: nn.LayerNorm((6, 6)), IMAGE),
    "LeakyReLU": (nn.LeakyReLU, IMAGE),
    "Linear": (lambda: nn.Linear(6, 3), IMAGE),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3), IMAGE),
    "LocallyConnected2d": (lambda: nn.LocallyConnected2d(4, 2, 6, 3), IMAGE),
    "LogSoftmax": (lambda: nn.LogSoftmax(1), IMAGE),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, 2, 1, dilation=1, ceil_mode=True), IMAGE),
    "ReLU": (nn.ReLU, IMAGE),
    "ReLU6": (nn.ReLU6, IMAGE),
    "Sequential": (lambda: nn.Sequential(nn.Conv2d(4, 2, 3), nn.ReLU()), IMAGE),
    "Sigmoid": (nn.Sigmoid, IMAGE),
    "Softmax": (lambda: nn.Softmax(1), IMAGE),
    "SpatialPyramidPooling2d": (lambda: nn.SpatialPyramidPooling2d((1, 2)), IMAGE),
    "Tanh": (nn.Tanh, IMAGE),
    "Upsample": (lambda: nn.Upsample(scale_factor=2), IMAGE),
    "SyncBatchNorm": (lambda: nn.SyncBatchNorm(4), IMAGE),  # no process group: batch norm
    "PrimaryCapsules": (lambda: nn.PrimaryCapsules(4, 2, 3, kernel_size=3, stride=1), IMAGE),
    "RoutingCapsules": (lambda: nn.RoutingCapsules(5, 3, 2, 4), (0, 5, 3)),
}
# modules called with more than one input, and losses: tested below
SPECIAL = {"MaxUnpool2d", "GraphConv", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "L1Loss", "MSELoss", "NLLLoss", "LSTM", "LSTMCell", "Embedding"}
NO_FORWARD = {"Module", "ModuleList", "ModuleDict"}  # containers that are not called


def _modules():
    return sorted(n for n, v in vars(nn).items() if inspect.isclass(v) and issubclass(v, nn.Module))


def _backward_is_zero(params, *inputs):
    for t in (*params, *inputs):
        assert t.grad is not None and t.grad.shape == t.shape
        assert not t.grad.numpy().any()


def test_every_module_is_listed():
    """A new module of nn needs its zero-batch case here."""
    missing = set(_modules()) - set(ZERO_BATCH) - SPECIAL - NO_FORWARD
    assert not missing, f"add a zero-batch case for {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(ZERO_BATCH))
@pytest.mark.parametrize("training", [True, False])
def test_zero_batch_through_every_module(name, training, rng):
    make_module, shape = ZERO_BATCH[name]
    module = make_module().train(training)
    x = make(rng, *shape, dtype=np.float32)
    y = module(x)
    assert y.shape[0] == 0 and y.numel() == 0
    y.sum().backward()
    _backward_is_zero(list(module.parameters()), x)


def test_zero_batch_through_the_recurrent_and_embedding_layers(rng):
    lstm = nn.LSTM(5, 4, num_layers=2, batch_first=True)
    x = make(rng, 0, 3, 5, dtype=np.float32)
    out, (h, c) = lstm(x)
    assert out.shape == (0, 3, 4) and h.shape == c.shape == (2, 0, 4)
    (out.sum() + h.sum() + c.sum()).backward()
    _backward_is_zero(list(lstm.parameters()), x)
    cell = nn.LSTMCell(5, 4)
    h, c = cell(make(rng, 0, 5, dtype=np.float32))
    assert h.shape == c.shape == (0, 4)
    embedding = nn.Embedding(10, 3)
    y = embedding(mt.tensor(np.zeros((0, 2), np.int64)))
    assert y.shape == (0, 2, 3)
    y.sum().backward()
    assert not embedding.weight.grad.numpy().any()


def test_zero_batch_keeps_running_statistics(rng):
    """An empty batch leaves the running statistics as they were (PyTorch's)."""
    bn = nn.BatchNorm2d(4)
    bn(make(rng, *IMAGE, dtype=np.float32))
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert bn.num_batches_tracked.item() == 1


def test_zero_batch_unpool_and_graph_conv(rng):
    x = make(rng, *IMAGE, dtype=np.float32)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    out = nn.MaxUnpool2d(2)(y, idx)
    assert out.shape == IMAGE
    gc = nn.GraphConv(3, 2)
    h = make(rng, 0, 3, dtype=np.float32)
    z = gc(h, mt.tensor(np.zeros((2, 0), np.int64)))
    assert z.shape == (0, 2)
    z.sum().backward()
    _backward_is_zero(list(gc.parameters()), h)


# one model per architecture file of the zoo, at its paper's input size (a batch of 0 costs
# nothing to run; the big ones are slow to build)
MODELS = ["LeNet5", "NiN", "HighwayNet", "HighwayConvNet", "MobileNetV1", "MobileNetV2",
          "ShuffleNetV1", "ShuffleNetV2", "SqueezeNet1_1", "resnet18", "ResNeXt50_32x4d",
          "DenseNet121", "GoogLeNet", "InceptionV2", "InceptionV3", "InceptionV4",
          "InceptionResNetV2", "AlexNet", "TorchvisionAlexNet", "ZFNet", "SPPNet", "VGG11_BN",
          "DeepFace", "DilatedContextNet", "DeconvNet", "SegNet", "UNet", "capsnet-small",
          "AlexNetTwoTower"]
SLOW = {"ResNeXt50_32x4d", "AlexNet", "ZFNet", "SPPNet", "VGG11_BN", "DeconvNet",
        "AlexNetTwoTower"}  # > 3 s


def test_models_cover_every_architecture_file():
    files = {inspect.getmodule(registry.entry(n).factory).__name__ for n in registry.names()
             if ":" not in n}
    covered = {inspect.getmodule(registry.entry(n).factory).__name__ for n in MODELS}
    assert files == covered, f"add a model of {sorted(files - covered)}"


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in MODELS])
def test_zero_batch_through_every_model(name):
    model = registry.create_for_data(name, num_classes=5, in_channels=registry.input_size(
        name)[0]) if registry.accepts_in_channels(name) else registry.create(name)
    model.train()
    x = mt.zeros(0, *registry.input_size(name), requires_grad=True)
    out = model(x)
    outs = out if isinstance(out, (tuple, list)) else [out]
    loss = sum(o.sum() for o in outs)
    loss.backward()
    assert all(o.shape[0] == 0 for o in outs)
    params = [p for p in model.parameters() if p.grad is not None]
    assert params and all(not p.grad.numpy().any() for p in params)
    assert x.grad is not None and x.grad.shape == x.shape


# --- 0-d inputs -------------------------------------------------------------------------------
ACTIVATIONS = [F.relu, F.relu6, F.leaky_relu, F.elu, F.sigmoid, F.tanh,
               lambda x: F.softmax(x, 0), lambda x: F.log_softmax(x, 0),
               lambda x: F.dropout(x, 0.5), lambda x: x.exp(), lambda x: abs(x)]


@pytest.mark.parametrize("fn", ACTIVATIONS)
@pytest.mark.parametrize("value", [-0.7, 0.4])
def test_0d_activations(fn, value):
    x = mt.tensor(value, dtype=np.float64, requires_grad=True)
    y = fn(x)
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == () and np.isfinite(x.grad.item())


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_0d_elementwise_losses(fn, reduction):
    x = mt.tensor(0.3, dtype=np.float64, requires_grad=True)
    y = fn(x, mt.tensor(0.8, dtype=np.float64), reduction=reduction)
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == () and np.isfinite(x.grad.item())


# --- nan-safe reductions ----------------------------------------------------------------------
def _all_losses():
    """Every loss of F with a call on an empty batch (a zero denominator for "mean")."""
    def ints(*shape):
        return mt.tensor(np.zeros(shape, np.int64))
    empty = np.zeros((0, 3))
    return {
        "cross_entropy": lambda x, r: F.cross_entropy(x, ints(0), reduction=r),
        "cross_entropy_probs": lambda x, r: F.cross_entropy(x, mt.tensor(empty), reduction=r),
        "nll_loss": lambda x, r: F.nll_loss(x, ints(0), reduction=r),
        "mse_loss": lambda x, r: F.mse_loss(x, mt.tensor(empty), reduction=r),
        "l1_loss": lambda x, r: F.l1_loss(x, mt.tensor(empty), reduction=r),
        "binary_cross_entropy": lambda x, r: F.binary_cross_entropy(
            F.sigmoid(x), mt.tensor(empty), reduction=r),
        "binary_cross_entropy_with_logits": lambda x, r: F.binary_cross_entropy_with_logits(
            x, mt.tensor(empty), reduction=r),
        "margin_loss": lambda x, r: F.margin_loss(x, ints(0), reduction=r),
    }


def test_every_loss_is_listed():
    losses = {n for n in dir(F) if n.endswith(("_loss", "entropy", "_logits"))}
    assert losses <= set(_all_losses())


@pytest.mark.parametrize("name", sorted(_all_losses()))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_empty_batch_losses(name, reduction, rng):
    """mean over nothing is nan (PyTorch's), sum 0, none empty; the backward runs, warning-free,
    and gives an empty gradient."""
    x = make(rng, 0, 3)
    with np.errstate(all="raise"):
        y = _all_losses()[name](x, reduction)
        y.sum().backward() if reduction == "none" else y.backward()
    if reduction == "mean":
        assert np.isnan(y.item())
    elif reduction == "sum":
        assert y.item() == 0
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("fn, smoothing", [("cross_entropy", 0.0), ("cross_entropy", 0.2),
                                           ("nll_loss", 0.0)])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
def test_all_ignored_mean_has_zero_gradient(fn, smoothing, shape, rng):
    """Every target ignored: the mean is 0 / 0 = nan in both engines; PyTorch's gradient is 0,
    not 0 * inf = nan."""
    x = make(rng, *shape)
    target = mt.tensor(np.full(shape[:1] + shape[2:], -100, np.int64))
    kw = {"label_smoothing": smoothing} if fn == "cross_entropy" else {}
    for weight in (None, mt.tensor(rng.uniform(0.5, 2, shape[1]))):
        x.grad = None
        y = getattr(F, fn)(x, target, weight, **kw)
        y.backward()
        assert np.isnan(y.item())
        assert (x.grad.numpy() == 0).all()


def test_mean_and_var_over_nothing():
    x = mt.zeros(0, 3, requires_grad=True, dtype=np.float64)
    with np.errstate(all="raise"):
        for op in ("mean", "var"):
            y = getattr(x, op)(0)
            assert y.shape == (3,) and np.isnan(y.numpy()).all()
            y.sum().backward()
            assert x.grad.shape == (0, 3)
    assert x.mean(1).shape == (0,) and x.max(1).values.shape == (0,) and x.sum().item() == 0
    with pytest.raises(ValueError, match="max: cannot reduce dimension 0 of size 0"):
        x.max(0)


# --- cross entropy with class probabilities ---------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_hot_probabilities_equal_class_indices(reduction, weighted, rng):
    """A one-hot probability target is the class-index loss (for "none" and "sum"; "mean"
    divides by the element count with probabilities, by the weights with indices)."""
    x = make(rng, 5, 4, 3)
    t = rng.integers(0, 4, (5, 3))
    one_hot = np.moveaxis(np.eye(4)[t], -1, 1)
    w = mt.tensor(rng.uniform(0.5, 2, 4)) if weighted else None
    for eps in (0.0, 0.3):
        soft = F.cross_entropy(x, mt.tensor(one_hot), w, reduction=reduction,
                               label_smoothing=eps)
        hard = F.cross_entropy(x, mt.tensor(t), w, reduction=reduction, label_smoothing=eps)
        np.testing.assert_allclose(soft.numpy(), hard.numpy(), rtol=1e-12)


def test_probability_targets_gradcheck(rng):
    x, w = make(rng, 3, 4, 2), mt.tensor(rng.uniform(0.5, 2, 4))
    p = rng.random((3, 4, 2))
    t = mt.tensor(p / p.sum(axis=1, keepdims=True), requires_grad=True)
    mt.gradcheck(lambda x, t: F.cross_entropy(x, t, w, label_smoothing=0.1), [x, t])
    mt.gradcheck(lambda x: F.cross_entropy(x, t, reduction="none"), [x])


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 4, 3, 2)])
def test_probability_targets_match_pytorch(torch, reduction, shape, rng):
    x = rng.uniform(-3, 3, shape)
    p = rng.random(shape)
    p /= p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    w = rng.uniform(0.5, 2, 4)
    for weight in (None, w):
        for eps in (0.0, 0.25):
            ours_x, ours_t = mt.tensor(x, requires_grad=True), mt.tensor(p, requires_grad=True)
            tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(p, requires_grad=True)
            ours = F.cross_entropy(ours_x, ours_t, None if weight is None else mt.tensor(w),
                                   reduction=reduction, label_smoothing=eps)
            theirs = torch.nn.functional.cross_entropy(
                tx, tt, None if weight is None else torch.tensor(w), reduction=reduction,
                label_smoothing=eps)
            np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
            ours.sum().backward()
            theirs.sum().backward()
            np.testing.assert_allclose(ours_x.grad.numpy(), tx.grad.numpy(), rtol=1e-10,
                                       atol=1e-14)
            np.testing.assert_allclose(ours_t.grad.numpy(), tt.grad.numpy(), rtol=1e-10,
                                       atol=1e-14)


def test_cross_entropy_loss_module_takes_probabilities(rng):
    x = make(rng, 3, 4)
    p = rng.random((3, 4))
    t = mt.tensor(p / p.sum(axis=1, keepdims=True))
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(x, t)
    np.testing.assert_allclose(loss.item(), F.cross_entropy(x, t, label_smoothing=0.1).item())
