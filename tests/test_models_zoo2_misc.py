"""Zoo II, the rest: DeepFace, SPP-net, highway networks, Inception-v4 / Inception-ResNet-v2 and
the graph convolutional network."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from minitorch_cnn.models import (GCN, DeepFace, Highway, HighwayConvNet, HighwayNet,
                                  InceptionResNetV2, InceptionV4, SPPNet)
from minitorch_cnn.models.inception_v4 import block35, inception_a
from minitorch_cnn.nn.graph import GraphConv
from minitorch_cnn.ops.graph import gcn_norm, index_add
from helpers import assert_all_gradients, n_params


def sgd_losses(model, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = loss_fn()
        loss.backward()
        losses.append(loss.item())
        with mt.no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad.data
    return losses


# --- DeepFace ----------------------------------------------------------------------------------

def test_deepface_reduced_shapes_gradients_and_representation():
    model = DeepFace(num_classes=10, input_size=72)   # 72 -> 62 -> 31 -> 23 -> 15 -> 5 -> 1
    assert [m.out_size for m in (model.L4, model.L5, model.L6)] == [(15, 15), (5, 5), (1, 1)]
    x = mt.randn(2, 3, 72, 72)
    y = model(x)
    assert y.shape == (2, 10)
    F.cross_entropy(y, mt.tensor(np.array([0, 1]))).backward()
    assert_all_gradients(model)
    model.eval()
    with mt.no_grad():
        g = model.represent(x)
        raw = model.represent(x, normalize=False)
        logits = model(x)
    assert g.shape == (2, 4096) and (g.numpy() >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(g.numpy(), axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(logits.numpy(), model.F8(raw).numpy(), rtol=1e-6)


def test_deepface_locally_connected_layers_do_not_share_weights():
    model = DeepFace(num_classes=10, input_size=72)
    assert model.L4.weight.shape == (15, 15, 16, 16, 9, 9)   # one 9x9x16 bank per location
    assert model.C3.weight.shape == (16, 32, 9, 9)           # C3 sees C1's 32 channels
    # an L5-like layer (7x7 / 2 in the paper), gradchecked at a reduced size
    layer = nn.LocallyConnected2d(1, 2, 5, 3, stride=2).double()
    x = mt.tensor(np.random.default_rng(0).standard_normal((1, 1, 5, 5)), requires_grad=True)
    assert mt.gradcheck(lambda x, w, b: F.local_conv2d(x, w, b, 2, 0),
                        [x, layer.weight, layer.bias])


def test_deepface_rejects_bad_input():
    with pytest.raises(ValueError, match="DeepFace: input_size must be at least 71"):
        DeepFace(input_size=70)
    model = DeepFace(num_classes=10, input_size=72)
    with pytest.raises(ValueError, match=r"DeepFace: expected an input of shape "
                                         r"\(N, 3, 72, 72\), got \(1, 3, 80, 80\)"):
        model(mt.randn(1, 3, 80, 80))


@pytest.mark.slow
def test_deepface_paper_network():
    model = DeepFace()
    assert n_params(model) == 118_923_774   # the paper: "more than 120 million"
    assert model.L4.weight.numel() == 62_726_400
    assert [m.out_size for m in (model.L4, model.L5, model.L6)] == [(55, 55), (25, 25), (21, 21)]
    model.eval()
    with mt.no_grad():
        assert model(mt.randn(1, 3, 152, 152)).shape == (1, 4030)


# --- SPP-net -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sppnet():
    mt.manual_seed(0)
    return SPPNet(num_classes=10)


def test_sppnet_count(sppnet):
    # 77,037,672 with the 1000-way fc8; this one has 10 outputs
    assert n_params(sppnet) == 77_037_672 - (1000 - 10) * (4096 + 1)


def test_sppnet_takes_two_input_sizes(sppnet):
    sppnet.eval()
    lengths = []
    with mt.no_grad():
        for size in ((64, 64), (96, 80)):
            x = mt.randn(1, 3, *size)
            lengths.append(sppnet.spp(sppnet.features(x)).shape)
            assert sppnet(x).shape == (1, 10)
    assert lengths == [(1, 256 * 50)] * 2


def test_sppnet_gradients_and_bad_input(sppnet):
    sppnet.train()
    sppnet.zero_grad()
    F.cross_entropy(sppnet(mt.randn(2, 3, 48, 56)), mt.tensor(np.array([1, 2]))).backward()
    assert_all_gradients(sppnet)
    with pytest.raises(ValueError, match=r"SPPNet: expected .* H, W >= 39, got \(1, 3, 38, 64\)"):
        sppnet(mt.randn(1, 3, 38, 64))


@pytest.mark.slow
def test_sppnet_conv5_is_13x13_at_224(sppnet):
    with mt.no_grad():
        assert sppnet.features(mt.randn(1, 3, 224, 224)).shape == (1, 256, 13, 13)


# --- highway networks ----------------------------------------------------------------------------

def test_highway_layer_formula_and_negative_gate_bias():
    layer = Highway(6)
    np.testing.assert_array_equal(layer.gate.bias.numpy(), -2.0)
    x = mt.randn(4, 6)
    with mt.no_grad():
        y = layer(x).numpy()
    xs = x.numpy()
    h = np.maximum(xs @ layer.plain.weight.numpy().T + layer.plain.bias.numpy(), 0)
    t = 1 / (1 + np.exp(-(xs @ layer.gate.weight.numpy().T + layer.gate.bias.numpy())))
    np.testing.assert_allclose(y, h * t + xs * (1 - t), rtol=1e-5, atol=1e-6)


def test_highway_nets_shapes_gradients_and_learning():
    conv = HighwayConvNet(in_channels=3, num_classes=4, channels=4, depth=1, stages=2)
    y = conv(mt.randn(2, 3, 8, 8))
    assert y.shape == (2, 4)
    y.sum().backward()
    assert_all_gradients(conv)
    model = HighwayNet(in_features=20, num_classes=3, width=16, depth=10)
    x, target = mt.randn(12, 20), mt.tensor(np.arange(12) % 3)
    losses = sgd_losses(model, lambda: F.cross_entropy(model(x), target), 100, 0.5)
    assert_all_gradients(model)
    assert losses[-1] < 0.1 * losses[0]


# --- Inception-v4 and Inception-ResNet-v2 ---------------------------------------------------

def test_inception_counts():
    assert n_params(InceptionV4()) == 42_679_816
    assert n_params(InceptionResNetV2()) == 55_843_464


def test_inception_blocks_keep_their_grid():
    with mt.no_grad():
        assert inception_a()(mt.randn(1, 384, 5, 5)).shape == (1, 384, 5, 5)
        x = mt.randn(1, 320, 5, 5)
        block = block35()
        assert block(x).shape == (1, 320, 5, 5)
        assert block.scale == 0.17


@pytest.mark.slow
@pytest.mark.parametrize("build", [InceptionV4, InceptionResNetV2])
def test_inception_shapes_and_gradients(build):
    model = build(num_classes=10)
    y = model(mt.randn(2, 3, 75, 75))     # batch 2: the last maps are 1x1, BN needs two values
    assert y.shape == (2, 10)
    y.sum().backward()
    assert_all_gradients(model)
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, 3, H, W\) with "
                                         r"H, W >= 75"):
        model(mt.randn(1, 3, 74, 80))


# --- graph convolution --------------------------------------------------------------------------

EDGES = np.array([[0, 1, 1, 2, 2, 3, 0, 3], [1, 0, 2, 1, 3, 2, 3, 0]])


def test_graph_conv_equals_the_dense_formula():
    layer = GraphConv(3, 2).double()
    x = mt.tensor(np.random.default_rng(0).standard_normal((5, 3)))   # node 4 is isolated
    adjacency = np.eye(5)
    adjacency[EDGES[1], EDGES[0]] = 1
    deg = adjacency.sum(1)
    a_hat = adjacency / np.sqrt(deg[:, None] * deg[None, :])
    expected = a_hat @ x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(x, EDGES).numpy(), expected, rtol=1e-12)
    src, dst, coef = gcn_norm(EDGES, 5)
    assert len(src) == len(dst) == len(coef) == 8 + 5


def test_graph_conv_gradcheck_and_errors():
    layer = GraphConv(3, 2).double()
    x = mt.tensor(np.random.default_rng(1).standard_normal((4, 3)), requires_grad=True)
    assert mt.gradcheck(lambda x: layer(x, EDGES), [x])               # the layer itself
    assert mt.gradcheck(lambda x, w, b: F.relu(_graph_conv(x, w, b)), [x, layer.weight,
                                                                         layer.bias])
    with pytest.raises(ValueError, match=r"GraphConv: expected node features of shape "
                                         r"\(N, 3\), got \(4, 2\)"):
        layer(mt.randn(4, 2), EDGES)
    with pytest.raises(ValueError, match=r"gcn_norm: node indices must lie in \[0, 3\)"):
        layer(mt.randn(3, 3), EDGES)
    with pytest.raises(ValueError, match="index_add: expected 2 indices"):
        index_add(mt.randn(2, 3), np.array([0, 1, 1]), 3)


def _graph_conv(x, weight, bias):
    src, dst, coef = gcn_norm(EDGES, x.shape[0])
    return index_add((x @ weight.T)[src] * mt.tensor(coef[:, None]), dst, x.shape[0]) + bias


def _two_communities(rng, n=20):
    """A stochastic block model: two communities of n nodes, dense inside, sparse between."""
    labels = np.repeat([0, 1], n)
    same = labels[:, None] == labels[None, :]
    upper = np.triu(rng.random((2 * n, 2 * n)) < np.where(same, 0.3, 0.02), 1)
    src, dst = np.nonzero(upper | upper.T)
    return np.stack([src, dst]), labels


def test_gcn_learns_node_classes_from_a_few_labels():
    rng = np.random.default_rng(0)
    edges, labels = _two_communities(rng)
    x = mt.eye(40) if hasattr(mt, "eye") else mt.tensor(np.eye(40, dtype=np.float32))
    train = np.array([0, 1, 20, 21])          # two labelled nodes per community
    model = GCN(40, 2, hidden=16, dropout=0.0)
    target = mt.tensor(labels[train])
    losses = sgd_losses(model, lambda: F.cross_entropy(model(x, edges)[train], target), 100, 0.5)
    assert losses[-1] < 0.1 * losses[0]
    assert_all_gradients(model)
    with mt.no_grad():
        accuracy = (model(x, edges).numpy().argmax(1) == labels).mean()
    assert accuracy >= 0.9
