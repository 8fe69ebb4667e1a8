"""Deep Compression: magnitude pruning and its masks under every optimizer, k-means weight
sharing and its centroid gradients, canonical Huffman coding, the .mtc file and the
``compress`` command."""
import os
import re

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import compress, optim
from minitorch_cnn.compress import reparam
from minitorch_cnn.models import registry
from minitorch_cnn.nn import functional as F

OPTIMIZERS = [
    ("sgd", lambda p: optim.SGD(p, lr=0.1)),
    ("sgd-momentum-wd", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1)),
    ("sgd-nesterov", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                         weight_decay=0.01)),
    ("sgd-dampening-maximize", lambda p: optim.SGD(p, lr=0.01, momentum=0.5, dampening=0.3,
                                                   maximize=True)),
    ("adam", lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1)),
    ("adam-amsgrad", lambda p: optim.Adam(p, lr=0.01, amsgrad=True)),
    ("adamw", lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    ("rmsprop", lambda p: optim.RMSprop(p, lr=0.01, weight_decay=0.1)),
    ("rmsprop-centered-momentum", lambda p: optim.RMSprop(p, lr=0.01, momentum=0.9,
                                                          centered=True)),
]


def _lenet():
    mt.manual_seed(0)
    return registry.create("lenet5-relu")


def _batch(n=4):
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((n, 1, 28, 28)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 10, n))
    return x, y


def _train(model, opt, steps=3):
    x, y = _batch()
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def _weights(model):
    return {f"{n}.weight": m.weight.numpy() for n, m in reparam.weight_layers(model)}


# --- pruning ----------------------------------------------------------------------------------
def test_prune_magnitude_removes_the_smallest_fraction():
    model = _lenet()
    before = _weights(model)
    masks = compress.prune_magnitude(model, 0.75)
    assert set(masks) == set(before)
    for key, mask in masks.items():
        w = before[key]
        assert mask.sum() == w.size - round(0.75 * w.size)
        assert np.abs(w[~mask]).max() <= np.abs(w[mask]).min()
        np.testing.assert_array_equal(_weights(model)[key], np.where(mask, w, 0))


def test_prune_magnitude_per_layer_and_again():
    model = _lenet()
    masks = compress.prune_magnitude(model, {"classifier.1": 0.5, "features.3.weight": 0.2})
    assert set(masks) == {"classifier.1.weight", "features.3.weight"}
    assert masks["classifier.1.weight"].mean() == 0.5
    more = compress.prune_magnitude(model, 0.9, layers=["classifier.1"])
    assert more["classifier.1.weight"].mean() == pytest.approx(0.1)
    assert not (more["classifier.1.weight"] & ~masks["classifier.1.weight"]).any()


@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_pruned_weights_stay_zero_under_every_optimizer(name, make):
    model = _lenet()
    masks = compress.prune_magnitude(model, 0.8)
    before = _weights(model)
    _train(model, make(model.parameters()), steps=4)
    after = _weights(model)
    for key, mask in masks.items():
        assert (after[key][~mask] == 0).all(), key
        assert not np.array_equal(after[key][mask], before[key][mask]), key
    compress.remove_masks(model)
    _train(model, make(model.parameters()), steps=1)  # plain again: pruned weights may move
    assert any((_weights(model)[k][~m] != 0).any() for k, m in masks.items())


def test_remove_masks_keeps_the_outputs():
    model = _lenet()
    compress.prune_magnitude(model, 0.5)
    x, _ = _batch()
    expected = model(x).numpy()
    compress.remove_masks(model)
    assert all(reparam.info(m) is None for _, m in reparam.weight_layers(model))
    np.testing.assert_array_equal(model(x).numpy(), expected)


def test_sensitivity_scan_and_model_untouched():
    model = _lenet()
    x, y = _batch(8)
    before = _weights(model)
    scan = compress.sensitivity(model, [(x, y)], [0.0, 0.5, 0.99])
    assert set(scan) == set(before)
    for curve in scan.values():
        assert [a for a, _ in curve] == [0.0, 0.5, 0.99]
        assert all(0.0 <= acc <= 1.0 for _, acc in curve)
    base = (model(x).numpy().argmax(1) == y.numpy()).mean()
    assert all(curve[0][1] == base for curve in scan.values())
    for key, w in _weights(model).items():
        np.testing.assert_array_equal(w, before[key])


@pytest.mark.parametrize("amount", [-0.1, 1.0, 1.5, {"classifier.1": 1.0}])
def test_prune_bad_amount(amount):
    with pytest.raises(ValueError, match="amount"):
        compress.prune_magnitude(_lenet(), amount)


def test_prune_nothing_to_prune_and_unknown_layer():
    with pytest.raises(ValueError, match="no Conv2d"):
        compress.prune_magnitude(mt.nn.Sequential(mt.nn.ReLU()), 0.5)
    with pytest.raises(ValueError, match="nope"):
        compress.prune_magnitude(_lenet(), 0.5, layers=["nope"])


# --- weight sharing ---------------------------------------------------------------------------
def _plain_kmeans(x, k, iterations=50):
    """Lloyd's algorithm written out: linear init, nearest centroid, mean of each cluster."""
    c = np.linspace(x.min(), x.max(), k)
    labels = None
    for _ in range(iterations):
        new = np.array([int(np.argmin(np.abs(c - v))) for v in x])
        if labels is not None and (new == labels).all():
            break
        labels = new
        for j in range(k):
            if (labels == j).any():
                c[j] = x[labels == j].mean()
    return c, labels


@pytest.mark.parametrize("k", [1, 3, 8])
def test_kmeans_matches_a_plain_reference(k):
    x = np.random.default_rng(k).standard_normal(300)
    centroids, labels = compress.kmeans(x, k)
    ref_c, ref_labels = _plain_kmeans(x, k)
    np.testing.assert_allclose(centroids, ref_c, rtol=1e-12)
    np.testing.assert_array_equal(labels, ref_labels)


def test_share_weights_default_bits_and_pruned_zeros():
    model = _lenet()
    masks = compress.prune_magnitude(model, 0.5)
    books = compress.share_weights(model)
    for name, layer in reparam.weight_layers(model):
        key = f"{name}.weight"
        bits = 8 if isinstance(layer, mt.nn.Conv2d) else 5
        assert len(books[key]) == min(2 ** bits, masks[key].sum())
        w = layer.weight.numpy()
        assert (w[~masks[key]] == 0).all()
        assert set(np.unique(w[masks[key]])) <= set(books[key].astype(np.float32))


def test_centroid_gradient_is_the_sum_of_its_weights_gradients():
    model = _lenet()
    compress.prune_magnitude(model, 0.5)
    compress.share_weights(model, bits=3)
    layer = model.classifier[1]
    plain = registry.create("lenet5-relu")
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.endswith("centroids")})
    x, y = _batch()
    F.cross_entropy(model(x), y).backward()
    F.cross_entropy(plain(x), y).backward()
    state = reparam.info(layer)
    g_w = plain.classifier[1].weight.grad.numpy()
    expected = np.bincount(state["indices"][state["mask"]], g_w[state["mask"]], minlength=8)
    np.testing.assert_allclose(layer.weight_centroids.grad.numpy(), expected, rtol=1e-4,
                               atol=1e-6)
    assert layer.weight.grad is None


@pytest.mark.parametrize("name,make", OPTIMIZERS[1:5], ids=[o[0] for o in OPTIMIZERS[1:5]])
def test_shared_training_moves_centroids_only(name, make):
    model = _lenet()
    masks = compress.prune_magnitude(model, 0.7)
    compress.share_weights(model, bits=(4, 3))
    before = {k: v.copy() for k, v in _weights(model).items()}
    _train(model, make(model.parameters()))
    model(_batch()[0])  # the dense weights follow the centroids on the next forward
    for name_, layer in reparam.weight_layers(model):
        key = f"{name_}.weight"
        w = layer.weight.numpy()
        assert len(np.unique(w[masks[key]])) <= (16 if "features" in key else 8)
        assert (w[~masks[key]] == 0).all()
        assert not np.array_equal(w, before[key])


@pytest.mark.parametrize("bits", [0, 17, 2.5, (8,), {"classifier.1": 20}])
def test_share_weights_bad_bits(bits):
    with pytest.raises(ValueError, match="bits"):
        compress.share_weights(_lenet(), bits=bits)


# --- Huffman ----------------------------------------------------------------------------------
@pytest.mark.parametrize("symbols", [
    [], [7], [3] * 1000, [0, 1], list(range(300)),
    np.random.default_rng(0).integers(0, 32, 5000),
    np.random.default_rng(1).geometric(0.05, 3000),   # long codes
    2 ** np.random.default_rng(2).integers(0, 40, 500),  # sparse, large symbols
])
def test_huffman_round_trip(symbols):
    symbols = np.asarray(symbols, np.int64)
    data = compress.huffman_encode(symbols)
    np.testing.assert_array_equal(compress.huffman_decode(data), symbols)


def test_huffman_is_optimal_on_a_skewed_source():
    symbols = np.repeat(np.arange(4), [800, 100, 50, 50])
    data = compress.huffman_encode(symbols)  # code lengths 1, 2, 3, 3: 1300 bits
    assert len(data) <= 1300 // 8 + 1 + 12


def test_huffman_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        compress.huffman_encode([1, -2])
    with pytest.raises(ValueError, match="integers"):
        compress.huffman_encode([0.5])
    data = compress.huffman_encode(np.arange(100) % 7)
    with pytest.raises(ValueError, match="truncated"):
        compress.huffman_decode(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        compress.huffman_decode(data[:1])


# --- the .mtc file ----------------------------------------------------------------------------
def _compressed(tmp_path, prune=0.8, bits=(5, 4)):
    model = _lenet()
    if prune:
        compress.prune_magnitude(model, prune)
    if bits:
        compress.share_weights(model, bits=bits)
    path = str(tmp_path / "m.mtc")
    return model, path, compress.save(model, path)


@pytest.mark.parametrize("prune,bits", [(0.8, (5, 4)), (0.0, (3, 3)), (0.995, (2, 2)),
                                        (0.6, None)])
def test_mtc_round_trip_gives_the_same_outputs(tmp_path, prune, bits):
    model, path, rows = _compressed(tmp_path, prune, bits)
    x, _ = _batch()
    model.eval()
    loaded = compress.load(path).eval()
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert sum(r[4] for r in rows) < os.path.getsize(path)
    if prune and bits:
        assert os.path.getsize(path) < 61706 * 4 / 10


def test_mtc_pruned_without_sharing(tmp_path):
    model = _lenet()
    compress.prune_magnitude(model, 0.9)
    path = str(tmp_path / "p.mtc")
    compress.save(model, path)
    x, _ = _batch()
    np.testing.assert_array_equal(compress.load(path)(x).numpy(), model(x).numpy())


def test_mtc_bad_files(tmp_path):
    _, path, _ = _compressed(tmp_path)
    data = open(path, "rb").read()
    for name, content, message in [("trunc.mtc", data[:len(data) // 2], "truncated"),
                                   ("foreign.mtc", b"PK\x03\x04" + data[4:], "not a .mtc"),
                                   ("flip.mtc", data[:40] + bytes([data[40] ^ 1]) + data[41:],
                                    "corrupt")]:
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            compress.load(str(bad))


def test_mtc_needs_a_registry_model(tmp_path):
    model = mt.nn.Sequential(mt.nn.Linear(4, 3))
    compress.prune_magnitude(model, 0.5)
    with pytest.raises(ValueError, match="model_spec"):
        compress.save(model, str(tmp_path / "x.mtc"))
    assert os.listdir(tmp_path) == []


# --- the command ------------------------------------------------------------------------------
def test_compress_command(tmp_path, capsys):
    from minitorch_cnn.__main__ import main
    model = _lenet()
    ckpt = str(tmp_path / "last.npz")
    mt.save({"model": model.state_dict(),
             "args": {"model": "lenet5-relu", "dataset": ["mnist-sample"], "limit": 64,
                      "test_limit": 40, "val_fraction": 0.0, "seed": 0}}, ckpt)
    out = str(tmp_path / "out")
    assert main(["compress", ckpt, "--prune", "0.9", "--bits", "4/3", "--finetune-epochs", "1",
                 "--prune-steps", "2", "--int8", "--out", out]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    size = os.path.getsize(os.path.join(out, "model.mtc"))
    m = re.fullmatch(r"compressed size: (\d+) bytes \(([\d.]+)x smaller\)", lines[-2])
    assert m and int(m.group(1)) == size
    assert float(m.group(2)) == pytest.approx(61706 * 4 / size, abs=0.06)
    assert re.fullmatch(r"test accuracy: before (0|1)\.\d+, after (0|1)\.\d+", lines[-1])
    assert any(line.startswith("classifier.1.weight") for line in lines)
    assert lines[-3].startswith("int8: test accuracy")


def test_compress_command_bad_arguments(tmp_path, capsys):
    from minitorch_cnn.__main__ import main
    ckpt = str(tmp_path / "last.npz")
    mt.save({"model": _lenet().state_dict(), "args": {"model": "lenet5-relu"}}, ckpt)
    assert main(["compress", ckpt, "--prune", "1.2", "--out", str(tmp_path)]) == 2
    assert "amount" in capsys.readouterr().err
    assert main(["compress", ckpt, "--bits", "x", "--out", str(tmp_path)]) == 2
    assert "--bits" in capsys.readouterr().err


# --- int8 -------------------------------------------------------------------------------------
def _trained_lenet():
    """LeNet-5 fitted for three passes over part of the bundled sample: its predictions are
    neither random nor on the fence (after one pass of 8 steps, 2-3% of them were, and which
    ones moved with the seeded initialisation)."""
    from minitorch_cnn import data
    from minitorch_cnn.data import transforms as T
    model = _lenet()
    tf = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    train = data.Subset(data.MNISTSample(train=True, transform=tf), range(512))
    test = data.Subset(data.MNISTSample(train=False, transform=tf), range(300))
    opt = optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(3):
        for x, y in data.DataLoader(train, 64, shuffle=True, seed=epoch):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    model.eval()
    return model, [x for x, _ in data.DataLoader(train, 64)][:4], data.DataLoader(test, 300)


@pytest.mark.parametrize("method", ["minmax", "percentile"])
def test_quantized_lenet_agrees_with_float(method):
    from minitorch_cnn.compress.quantize import quantize_int8
    model, calibration, test = _trained_lenet()
    q = quantize_int8(model, calibration, method=method)
    x, y = next(iter(test))
    with mt.no_grad():
        pf, pq = model(x).numpy().argmax(1), q(x).numpy().argmax(1)
    assert (pf == pq).mean() >= 0.99
    assert (pf == y.numpy()).mean() > 0.5  # trained: the agreement is not chance


def test_quantize_folds_batchnorm():
    from minitorch_cnn.compress.quantize import quantize_int8
    mt.manual_seed(0)
    net = mt.nn.Sequential(mt.nn.Conv2d(3, 8, 3, padding=1), mt.nn.BatchNorm2d(8),
                           mt.nn.ReLU(), mt.nn.Flatten(), mt.nn.Linear(8 * 6 * 6, 4))
    bn = net[1]
    bn.running_mean.data[...] = np.linspace(-0.2, 0.2, 8)
    bn.running_var.data[...] = np.linspace(0.5, 2.0, 8)
    net.eval()
    x = mt.randn(16, 3, 6, 6)
    q = quantize_int8(net, [x])
    assert isinstance(q[1], mt.nn.Identity) and isinstance(q[2], mt.nn.Identity)
    with mt.no_grad():
        ref, out = net(x).numpy(), q(x).numpy()
    assert np.abs(out - ref).max() < 0.05 * np.abs(ref).max()


def test_quantize_bad_calibration():
    from minitorch_cnn.compress.quantize import quantize_int8
    with pytest.raises(ValueError, match="calibration batch 0 of shape"):
        quantize_int8(_lenet(), [np.zeros((2, 3, 28, 28), np.float32)])
    with pytest.raises(ValueError, match="empty"):
        quantize_int8(_lenet(), [])


# --- structured filter pruning ----------------------------------------------------------------
def _conv_count(model):
    return [m.out_channels for m in model.modules() if isinstance(m, mt.nn.Conv2d)]


def test_prune_filters_lenet_counts():
    model = _lenet()
    small = compress.prune_filters(model, 0.5)
    assert _conv_count(small) == [3, 8] and _conv_count(model) == [6, 16]
    # conv1 3x(1*25)+3, conv2 8x(3*25)+8, fc1 120x(8*25)+120, the rest as before
    expected = 3 * 25 + 3 + 8 * 75 + 8 + 120 * 200 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    before, after = mt.summary(model, (1, 28, 28)), mt.summary(small, (1, 28, 28))
    assert after.total_params == expected
    assert after.total_macs < before.total_macs
    assert small(_batch()[0]).shape == (4, 10)
    assert not hasattr(small, "model_spec") and small.base_spec["name"] == "lenet5-relu"


def test_prune_filters_keeps_the_largest_l1_filters():
    model = _lenet()
    w = model.features[0].weight.numpy()
    small = compress.prune_filters(model, 0.5)
    keep = np.sort(np.argsort(-np.abs(w).sum(axis=(1, 2, 3)))[:3])
    np.testing.assert_array_equal(small.features[0].weight.numpy(), w[keep])
    w2 = model.features[3].weight.numpy()[:, keep]  # norms without the removed inputs
    keep2 = np.sort(np.argsort(-np.abs(w2).sum(axis=(1, 2, 3)))[:8])
    np.testing.assert_array_equal(small.features[3].weight.numpy(), w2[keep2])


def test_prune_filters_zero_amount_is_the_same_model():
    model = _lenet()
    x, _ = _batch()
    np.testing.assert_array_equal(compress.prune_filters(model, 0.0)(x).numpy(),
                                  model(x).numpy())


def test_prune_filters_bn_and_grouped_chain():
    nn = mt.nn
    mt.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.ReLU(),
                        nn.LocalResponseNorm(3), nn.Conv2d(8, 4, 3, padding=1, groups=2),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 5))
    small = compress.prune_filters(net, 0.5)
    assert _conv_count(small) == [4, 4, 2]
    assert small[1].num_features == 4 and small[11].in_features == 8
    assert small.eval()(mt.randn(2, 3, 8, 8)).shape == (2, 5)


def test_prune_filters_resnet_inside_blocks():
    mt.manual_seed(0)
    model = registry.create("resnet18", num_classes=10)
    small = compress.prune_filters(model, 0.5)
    blocks = [m for m in small.modules() if hasattr(m, "conv2") and hasattr(m, "bn2")]
    assert [b.conv1.out_channels for b in blocks] == [32] * 2 + [64] * 2 + [128] * 2 + [256] * 2
    assert [b.conv2.out_channels for b in blocks] == [64] * 2 + [128] * 2 + [256] * 2 + [512] * 2
    before, after = mt.summary(model, (3, 32, 32)), mt.summary(small, (3, 32, 32))
    assert after.total_params < 0.6 * before.total_params
    assert small.eval()(mt.randn(1, 3, 32, 32)).shape == (1, 10)


def test_prune_filters_bad_input():
    with pytest.raises(ValueError, match="amount"):
        compress.prune_filters(_lenet(), 1.0)
    with pytest.raises(ValueError, match="no conv layer"):
        compress.prune_filters(mt.nn.Sequential(mt.nn.Linear(3, 2)), 0.5)
    with pytest.raises(ValueError, match="not a chain"):
        compress.prune_filters(mt.nn.Sequential(mt.nn.Conv2d(1, 2, 3), mt.nn.GroupNorm(1, 2),
                                                mt.nn.Conv2d(2, 2, 3)), 0.5)


def test_quantize_a_pruned_away_filter():
    from minitorch_cnn.compress.quantize import quantize_int8
    mt.manual_seed(0)
    net = mt.nn.Sequential(mt.nn.Conv2d(1, 3, 3), mt.nn.ReLU(), mt.nn.Flatten(),
                           mt.nn.Linear(3 * 4 * 4, 2))
    net[0].weight.data[1] = 0
    x = mt.randn(4, 1, 6, 6)
    with np.errstate(all="raise"):
        q = quantize_int8(net, [x])
        out = q(x).numpy()
    assert np.isfinite(out).all()


def test_compress_command_reads_a_model_spec(tmp_path, capsys):
    from minitorch_cnn.__main__ import main
    model = _lenet()
    ckpt = str(tmp_path / "last.npz")
    mt.save({"model": model.state_dict(), "model_spec": model.model_spec,
             "args": {"dataset": ["mnist-sample"], "limit": 32, "test_limit": 20,
                      "val_fraction": 0.0}}, ckpt)
    out = str(tmp_path / "out")
    assert main(["compress", ckpt, "--prune", "0.5", "--finetune-epochs", "0", "--out", out]) == 0
    assert capsys.readouterr().out.splitlines()[-2].startswith("compressed size: ")
    assert compress.load(os.path.join(out, "model.mtc")).model_spec == model.model_spec


@pytest.mark.parametrize("name,shape", [("lenet5-relu", (3, 1, 28, 28)),
                                        ("resnet18", (1, 3, 32, 32))])
def test_mtc_round_trip_of_a_filter_pruned_model(tmp_path, name, shape):
    mt.manual_seed(0)
    kwargs = {"num_classes": 10} if name == "resnet18" else {}
    small = compress.prune_filters(registry.create(name, **kwargs), 0.5)
    assert not hasattr(small, "model_spec") and small.base_spec["name"] == name
    params = mt.summary(small, shape[1:]).total_params
    if name == "lenet5-relu":  # then magnitude pruning and weight sharing, as the command does
        compress.prune_magnitude(small, 0.5)
        compress.share_weights(small, bits=(4, 4))
    path = str(tmp_path / "small.mtc")
    compress.save(small, path)
    loaded = compress.load(path).eval()
    x = mt.randn(*shape)
    with mt.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), small.eval()(x).numpy())
    assert mt.summary(loaded, shape[1:]).total_params == params
