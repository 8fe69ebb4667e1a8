"""CapsNet and its layers: the paper's parameter counts, the capsule layers against plain
formulas, masking by label vs by length, the loss, bad input, and a short training run."""
import csv

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn, optim
from minitorch_cnn.models import CapsNet, registry
from minitorch_cnn.models.capsnet import unit_range
from minitorch_cnn.summary import summary
from helpers import assert_close, make, n_params


def test_parameter_counts_are_the_papers():
    assert n_params(CapsNet()) == 8_215_568
    assert n_params(CapsNet(reconstruction=False)) == 6_804_224
    small = CapsNet.small()
    assert n_params(small) == 2_117_072 and n_params(small, skip="decoder") == 705_728
    assert n_params(registry.create("capsnet-small")) == 2_117_072
    assert registry.input_size("capsnet") == registry.input_size("capsnet-small") == (1, 28, 28)


def test_primary_capsules_layout(rng):
    layer = nn.PrimaryCapsules(3, capsule_channels=2, capsule_dim=4, kernel_size=3, stride=2)
    layer.double()
    x = make(rng, 2, 3, 7, 7, requires_grad=False)
    u = layer(x)
    conv = layer.conv(x).numpy()                                  # (2, 8, 3, 3)
    expected = conv.reshape(2, 2, 4, 9).transpose(0, 1, 3, 2).reshape(2, 18, 4)
    assert_close(u, F.squash(mt.tensor(expected)).numpy())
    assert (np.linalg.norm(u.numpy(), axis=-1) < 1).all()


def test_routing_capsules_predictions_and_gradcheck(rng):
    layer = nn.RoutingCapsules(5, 3, 2, 4, iterations=2).double()
    u = make(rng, 2, 5, 3)
    w = layer.weight.numpy()                                      # (5, 2, 4, 3)
    u_hat = np.einsum("ijdk,nik->nijd", w, u.numpy())
    assert_close(layer(u), F.dynamic_routing(mt.tensor(u_hat), 2).numpy(), rtol=1e-12)
    mt.gradcheck(lambda x, weight: layer(x), [u, layer.weight])
    with pytest.raises(ValueError, match=r"RoutingCapsules: expected capsules of shape "
                                         r"\(N, 5, 3\), got \(2, 5, 4\)"):
        layer(mt.zeros(2, 5, 4))


def test_masking_by_label_and_by_length(rng):
    model = CapsNet.small(image_size=25).eval()
    nn.init.normal_(model.digit_caps.weight, 0.0, 1.0)  # long capsules: distinct images
    x = mt.tensor(rng.uniform(0, 1, (4, 1, 25, 25)).astype(np.float32))
    by_length = model(x)
    assert by_length.lengths.shape == (4, 10) and by_length.reconstructions.shape == (4, 625)
    np.testing.assert_array_equal(by_length.masked_by, by_length.lengths.numpy().argmax(1))
    target = (by_length.masked_by + 1) % 10                        # never the longest
    by_label = model(x, target)
    np.testing.assert_array_equal(by_label.masked_by, target)
    assert_close(by_label.lengths, by_length.lengths.numpy())
    # the decoder sees only the chosen capsule: zeroing the others changes nothing
    v = by_label.capsules.numpy()
    only = np.zeros_like(v)
    only[np.arange(4), target] = v[np.arange(4), target]
    assert_close(by_label.reconstructions, model.decoder(mt.tensor(only.reshape(4, -1))).numpy(),
                 rtol=1e-5)
    assert not np.allclose(by_label.reconstructions.numpy(), by_length.reconstructions.numpy())
    # the loss always reconstructs the target's capsule, decoding again when needed
    assert_close(model.loss(by_length, x, target), model.loss(by_label, x, target).item(),
                 rtol=1e-6)
    images = unit_range(x).reshape(4, -1)
    sse = ((by_label.reconstructions.numpy() - images) ** 2).sum(1).mean()
    expected = F.margin_loss(by_label.lengths, target).item() + 0.0005 * sse
    assert_close(model.loss(by_label, x, target), expected, rtol=1e-5)
    assert model.class_scores(by_label) is by_label.lengths


def test_without_decoder_and_bad_input(rng):
    model = CapsNet(width=1 / 32, reconstruction=False)
    out = model(mt.zeros(2, 1, 28, 28))
    assert out.reconstructions is None and out.capsules.shape == (2, 10, 16)
    assert model.loss(out, None, [1, 2]).shape == ()
    with pytest.raises(ValueError, match=r"CapsNet: expected an input of shape \(N, 1, 28, 28\)"
                                         r", got \(2, 1, 32, 32\)"):
        model(mt.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"CapsNet: expected a target of shape \(2,\) of class"):
        CapsNet(width=1 / 32)(mt.zeros(2, 1, 28, 28), [0, 10])
    with pytest.raises(ValueError, match="margin_loss: target classes must be in"):
        model.loss(out, None, [0, 10])


def test_summary_handles_the_output():
    model = CapsNet(width=1 / 32)
    s = summary(model, (1, 28, 28))
    assert s.output_shape == (1, 10) and s.total_params == n_params(model)
    row, = (r for r in s.layers if r.type == "RoutingCapsules")
    assert row.output_shape == (1, 10, 16) and row.macs == model.digit_caps.weight.numel()


def test_short_training_reduces_the_loss(rng):
    model = CapsNet(width=1 / 16, image_size=25)
    x = mt.tensor(rng.uniform(0, 1, (8, 1, 25, 25)).astype(np.float32))
    t = mt.tensor(np.arange(8) % 4)
    opt = optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(8):
        loss = model.loss(model(x, t), x, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.slow
def test_train_and_evaluate_commands(tmp_path, capsys):
    """``train --model capsnet-small --shift 2`` learns on a few digits; evaluate reads it back."""
    from minitorch_cnn import train as train_cmd
    out = tmp_path / "caps"
    assert train_cmd.main(["--model", "capsnet-small", "--limit", "300", "--test-limit", "100",
                           "--epochs", "2", "--shift", "2", "--workers", "0",
                           "--out", str(out)]) == 0
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[1]["train_loss"]) < float(rows[0]["train_loss"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert float(last.split()[-1]) > 0.3  # chance is 0.1
    assert train_cmd.main(["evaluate", str(out / "last.npz")]) == 0
    top1 = capsys.readouterr().out.strip().splitlines()[-2]
    assert float(top1.split()[-1]) == pytest.approx(float(last.split()[-1]))


def test_capsule_perturbations_and_plots(rng, tmp_path):
    from minitorch_cnn import viz
    model = CapsNet(width=1 / 32)
    nn.init.normal_(model.digit_caps.weight, 0.0, 1.0)
    x = mt.tensor(rng.uniform(0, 1, (1, 1, 28, 28)).astype(np.float32))
    images, k = viz.capsule_perturbations(model, x)
    assert images.shape == (16, 11, 28, 28) and k == int(model(x).lengths.numpy().argmax())
    np.testing.assert_allclose(viz.PERTURBATIONS, np.linspace(-0.25, 0.25, 11))
    with mt.no_grad():  # the unperturbed column is the plain reconstruction
        plain = model(x).reconstructions.numpy().reshape(28, 28)
    for row in images[:, 5]:
        assert_close(row, plain, rtol=1e-5, atol=1e-6)
    assert not np.allclose(images[0, 0], images[0, 10])
    pytest.importorskip("matplotlib")
    for path in (viz.plot_capsule_perturbations(images, str(tmp_path / "p.png")),
                 viz.plot_reconstructions(images[0, :3], images[1, :3], str(tmp_path / "r.png"),
                                          labels=[1, 2, 3], predictions=[1, 2, 4])):
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_shift_augmentation_is_the_papers():
    """--shift 2: every training digit moved by at most 2 pixels each way, zero-padded; the
    validation and test digits untouched."""
    from minitorch_cnn import train as train_cmd
    args = train_cmd.parser().parse_args(["--shift", "2", "--limit", "50"])
    train, val, test, _, _ = train_cmd.build_data(args)
    crops = [t for t in train.dataset.transform.transforms if type(t).__name__ == "RandomCrop"]
    assert [(c.size, c.padding) for c in crops] == [((28, 28), 2)]
    assert not any(type(t).__name__ == "RandomCrop" for t in test.transform.transforms)
    plain = val.dataset[train.indices[0]][0].numpy()
    shifted = [train[0][0].numpy() for _ in range(20)]
    background = plain.min()
    offsets = set()
    for s in shifted:
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.allclose(np.roll(np.pad(plain, ((0, 0), (2, 2), (2, 2)),
                                               constant_values=background), (dy, dx), (1, 2))
                                [:, 2:30, 2:30], s)]
        assert found
        offsets.add(found[0])
    assert len(offsets) > 1
