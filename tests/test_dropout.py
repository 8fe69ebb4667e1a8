"""Dropout: identity cases, kept fraction and preserved mean, reproducibility, channel masks,
gradients through the kept units only, bad p."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from helpers import assert_close, make


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_identity_for_p0_and_eval(fn, device, rng):
    x = make(rng, 2, 3, 4, 4, device=device)
    assert fn(x, p=0.0) is x
    assert fn(x, p=0.7, training=False) is x
    module = (nn.Dropout if fn is F.dropout else nn.Dropout2d)(0.7).eval()
    assert module(x) is x


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_kept_fraction_scale_and_mean(p, device):
    x = mt.ones(400, 500, dtype=np.float64, device=device) * 3.0
    y = F.dropout(x, p).numpy()
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 4 * np.sqrt(p * (1 - p) / y.size)
    assert_close(y[kept], np.full(kept.sum(), 3.0 / (1 - p)))
    assert abs(y.mean() - 3.0) < 4 * 3.0 * np.sqrt(p / (1 - p) / y.size)  # E[y] = x


def test_same_seed_same_mask_and_fresh_masks(device):
    x = mt.ones(64, 64, device=device)
    mt.manual_seed(123)
    a, b = F.dropout(x).numpy(), F.dropout(x).numpy()
    mt.manual_seed(123)
    a2, b2 = F.dropout(x).numpy(), F.dropout(x).numpy()
    assert_close(a, a2)
    assert_close(b, b2)
    assert (a != b).any()


def test_gradient_flows_only_through_kept_units(rng):
    x = make(rng, 50, 40)
    y = F.dropout(x, 0.5)
    gy = rng.standard_normal(x.shape)
    y.backward(mt.tensor(gy))
    kept = y.numpy() != 0
    assert_close(x.grad, np.where(kept, gy * 2.0, 0.0))


def test_gradcheck_with_a_fixed_mask(rng):
    x = make(rng, 3, 4, 2, 2)
    for fn in (F.dropout, F.dropout2d):
        def f(t, fn=fn):
            mt.manual_seed(7)  # the same mask for every evaluation of the central differences
            return fn(t, 0.4)
        mt.gradcheck(f, [x])


@pytest.mark.parametrize("shape", [(6, 8, 5, 5), (6, 8, 7)])
def test_dropout2d_zeroes_whole_channels(shape, device):
    x = mt.ones(*shape, device=device)
    y = F.dropout2d(x, 0.5).numpy().reshape(shape[0], shape[1], -1)
    per_channel = y[:, :, :1]
    assert np.isin(per_channel, [0.0, 2.0]).all()
    assert (y == per_channel).all()  # each channel all-zero or all-kept
    assert 0 < (per_channel == 0).sum() < shape[0] * shape[1]


def test_float32_mask(rng):
    x = make(rng, 8, 8, dtype=np.float32)
    y = F.dropout(x, 0.3)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_bad_p_and_shapes(rng):
    x = make(rng, 2, 3, 4, 4)
    for p in (-0.1, 1.0001, 1.5):
        with pytest.raises(ValueError, match=rf"dropout: .* must lie in \[0, 1\], got {p}"):
            F.dropout(x, p)
        with pytest.raises(ValueError, match="dropout2d: dropout probability"):
            F.dropout2d(x, p)
        with pytest.raises(ValueError, match="Dropout: dropout probability"):
            nn.Dropout(p)
    with pytest.raises(ValueError, match="dropout2d: expected .* got \\(2, 3\\)"):
        F.dropout2d(make(rng, 2, 3), 0.5)


def test_modules_respect_training_mode(rng):
    x = make(rng, 4, 3, 5, 5, requires_grad=False)
    model = nn.Sequential(nn.Dropout(0.5), nn.Dropout2d(0.5))
    assert (model(x).numpy() == 0).any()
    model.eval()
    assert_close(model(x), x.numpy())
    model.train()
    assert (model(x).numpy() == 0).any()
    assert repr(nn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"
    assert repr(nn.Dropout2d()) == "Dropout2d(p=0.5, inplace=False)"


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d, lambda x, p: nn.Dropout(p)(x),
                                lambda x, p: nn.Dropout2d(p)(x)])
def test_p_one_gives_zeros_in_training(rng, fn):
    """p = 1 drops everything: zeros and zero gradients in training (PyTorch's), no 1/0."""
    x = make(rng, 2, 3, 4, 4)
    y = fn(x, 1.0)
    y.sum().backward()
    assert not y.numpy().any() and not x.grad.numpy().any()
    assert np.isfinite(x.grad.numpy()).all()
    assert F.dropout(x, 1.0, training=False) is x
