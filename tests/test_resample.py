"""F.interpolate (nearest, bilinear with align_corners), F.pad's reflect/replicate/circular
modes and Conv2d(padding_mode=...): gradients checked numerically, values against PyTorch."""
import pytest

import minitorch_cnn as mt
from helpers import assert_close, make

F = mt.nn.functional

RESIZES = [dict(size=(7, 4), mode="nearest"), dict(scale_factor=2, mode="nearest"),
           dict(scale_factor=(1.5, 0.5), mode="nearest"),
           dict(size=(7, 9), mode="bilinear", align_corners=False),
           dict(size=(7, 9), mode="bilinear", align_corners=True),
           dict(size=(2, 3), mode="bilinear", align_corners=False),  # downsampling
           dict(scale_factor=2.5, mode="bilinear"),
           dict(size=1, mode="bilinear", align_corners=True)]
PADS = [((1, 2), "reflect"), ((2, 1, 1, 2), "reflect"), ((3, 0, 2, 4), "replicate"),
        ((2, 2, 1, 3), "circular"), ((4, 1), "circular")]


def _ids(cases):
    return [" ".join(f"{k}={v}" for k, v in c.items()) if isinstance(c, dict) else f"{c[1]} {c[0]}"
            for c in cases]


@pytest.mark.parametrize("kwargs", RESIZES, ids=_ids(RESIZES))
def test_interpolate_gradcheck(kwargs, rng, device):
    x = make(rng, 2, 2, 4, 5, device=device)
    assert mt.gradcheck(lambda t: F.interpolate(t, **kwargs), x)


@pytest.mark.parametrize("pad,mode", PADS, ids=_ids(PADS))
def test_pad_modes_gradcheck(pad, mode, rng, device):
    x = make(rng, 2, 3, 4, 5, device=device)
    assert mt.gradcheck(lambda t: F.pad(t, pad, mode=mode), x)


@pytest.mark.oracle
@pytest.mark.parametrize("kwargs", RESIZES, ids=_ids(RESIZES))
def test_interpolate_matches_torch(kwargs, torch, rng):
    a = rng.standard_normal((2, 3, 4, 5))
    gy_shape = torch.nn.functional.interpolate(torch.tensor(a), **kwargs).shape
    gy = rng.standard_normal(tuple(gy_shape))
    x, t = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = F.interpolate(x, **kwargs), torch.nn.functional.interpolate(t, **kwargs)
    assert_close(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    assert_close(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize("pad,mode", PADS, ids=_ids(PADS))
def test_pad_modes_match_torch(pad, mode, torch, rng):
    a = rng.standard_normal((2, 3, 5) if len(pad) == 2 else (2, 3, 4, 5))  # as torch takes them
    x, t = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = F.pad(x, pad, mode=mode), torch.nn.functional.pad(t, pad, mode=mode)
    assert_close(y, ty.detach().numpy(), rtol=0, atol=0)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    assert_close(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "zeros"])
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("padding,kernel", [(1, 3), (2, 3), ((1, 2), (3, 5)), ("same", 4)])
def test_conv2d_padding_mode_matches_torch(mode, padding, kernel, torch, rng):
    theirs = torch.nn.Conv2d(2, 3, kernel, padding=padding, padding_mode=mode).double()
    ours = mt.nn.Conv2d(2, 3, kernel, padding=padding, padding_mode=mode).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    a = rng.standard_normal((2, 2, 6, 7))
    x, t = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = ours(x), theirs(t)
    assert_close(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert_close(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_upsample_layer_and_bad_input():
    x = mt.randn(1, 2, 3, 3)
    assert mt.nn.Upsample(scale_factor=2)(x).shape == (1, 2, 6, 6)
    assert mt.nn.Upsample(size=(4, 5), mode="bilinear")(x).shape == (1, 2, 4, 5)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners is only for"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="mode must be"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.interpolate(mt.randn(2, 3), size=4)
    with pytest.raises(ValueError, match="reflect padding must be smaller"):
        F.pad(x, (3, 3, 0, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode must be 'constant'"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        mt.nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding_mode must be one of zeros"):
        mt.nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
