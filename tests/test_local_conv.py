"""The locally-connected layer (DeepFace): unshared filters, weight (OH, OW, O, C, kh, kw)."""
import math

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from minitorch_cnn.kernels.cpu import local_conv as cpu_local
from minitorch_cnn.kernels.cuda import local_conv as cuda_local
from minitorch_cnn.kernels.reference import local_conv as ref_local
from minitorch_cnn.ops import conv_chunks
from helpers import assert_close, make


def out_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def naive_local_conv(x, w, b, s, p):
    """y[n, o, i, j] = b[o, i, j] + sum_{c, a, e} w[i, j, o, c, a, e] x_pad[n, c, i s + a, j s + e]
    """
    oh, ow, o, c, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    y = np.zeros((x.shape[0], o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            for f in range(o):
                for ch in range(c):
                    for a in range(kh):
                        for e in range(kw):
                            y[:, f, i, j] += w[i, j, f, ch, a, e] * xp[:, ch, i * s[0] + a,
                                                                        j * s[1] + e]
    return y if b is None else y + b


def naive_conv(x, kernel, s, p):
    """A plain convolution (cross-correlation), kernel (O, C, kh, kw), by loops."""
    o, c, kh, kw = kernel.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh, ow = (xp.shape[2] - kh) // s[0] + 1, (xp.shape[3] - kw) // s[1] + 1
    y = np.zeros((x.shape[0], o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * s[0]:i * s[0] + kh, j * s[1]:j * s[1] + kw]
            for f in range(o):
                y[:, f, i, j] = (patch * kernel[f]).sum(axis=(1, 2, 3))
    return y


CASES = [  # (N, C, H, W), O, (kh, kw), stride, padding, bias
    ((2, 3, 6, 7), 4, (3, 3), (1, 1), (0, 0), True),
    ((2, 2, 7, 6), 3, (3, 2), (2, 1), (1, 0), True),
    ((1, 3, 5, 5), 2, (1, 1), (2, 2), (1, 1), False),
    ((2, 2, 6, 6), 2, (4, 4), (2, 3), (2, 1), True),
]


def _make_case(rng, shape, o, k, s, p, bias, device="cpu"):
    oh, ow = out_size(shape[2], k[0], s[0], p[0]), out_size(shape[3], k[1], s[1], p[1])
    x = make(rng, *shape, device=device)
    w = make(rng, oh, ow, o, shape[1], *k, device=device)
    b = make(rng, o, oh, ow, device=device) if bias else None
    return x, w, b


@pytest.mark.parametrize("shape, o, k, s, p, bias", CASES)
def test_forward_against_loops(rng, device, shape, o, k, s, p, bias):
    x, w, b = _make_case(rng, shape, o, k, s, p, bias, device)
    y = F.local_conv2d(x, w, b, s, p)
    assert_close(y, naive_local_conv(x.numpy(), w.numpy(), None if b is None else b.numpy(),
                                     s, p))


@pytest.mark.parametrize("shape, o, k, s, p, bias", [
    ((1, 2, 5, 5), 2, (3, 3), (1, 1), (0, 0), True),
    ((1, 2, 6, 5), 2, (3, 2), (2, 1), (1, 0), True),
    ((1, 2, 4, 4), 1, (1, 1), (2, 2), (1, 1), False),
    ((1, 1, 6, 6), 2, (4, 4), (2, 3), (2, 1), True),
])
def test_gradcheck(rng, shape, o, k, s, p, bias):
    x, w, b = _make_case(rng, shape, o, k, s, p, bias)
    inputs = [x, w] + ([b] if bias else [])
    assert mt.gradcheck(lambda x, w, *b: F.local_conv2d(x, w, b[0] if b else None, s, p),
                        inputs)


def test_gradcheck_on_each_device_and_non_contiguous(rng, device):
    x = make(rng, 1, 2, 3, 3, device=device).permute(0, 1, 3, 2)  # a view, not contiguous
    w, b = make(rng, 2, 2, 1, 2, 2, 2, device=device), make(rng, 1, 2, 2, device=device)
    assert mt.gradcheck(lambda x, w, b: F.local_conv2d(x, w, b, (1, 2), (0, 1)), [x, w, b])


def test_equal_filters_make_a_convolution(rng):
    """Chainer's metamorphic test: the same filter at every position is a convolution."""
    x = make(rng, 2, 3, 7, 8)
    kernel = rng.uniform(-1, 1, (4, 3, 3, 2))
    for s, p in (((1, 1), (0, 0)), ((2, 1), (1, 1))):
        oh, ow = out_size(7, 3, s[0], p[0]), out_size(8, 2, s[1], p[1])
        w = mt.tensor(np.broadcast_to(kernel, (oh, ow) + kernel.shape).copy())
        assert_close(F.local_conv2d(x, w, None, s, p), naive_conv(x.numpy(), kernel, s, p))


@pytest.mark.parametrize("impl", [cpu_local,
                                  pytest.param(cuda_local, marks=pytest.mark.cudasim)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_reference(rng, impl, dtype):
    if impl is cuda_local and not mt.cuda.is_available():
        pytest.skip("no cuda device")
    x = rng.standard_normal((2, 3, 5, 6)).astype(dtype)
    for args in [(3, 2, 1, 2, 1, 0, 5, 3), (2, 2, 2, 2, 1, 1, 3, 4)]:
        col = impl.local_unfold_fwd(x, *args)
        assert col.dtype == dtype
        assert_close(col, ref_local.local_unfold_fwd(x, *args))
        out = np.full_like(col, np.nan)
        assert impl.local_unfold_fwd(x, *args, out=out) is out
        assert_close(out, col)
        gcol = rng.standard_normal(col.shape).astype(dtype)
        assert_close(impl.local_unfold_bwd(gcol, 3, 5, 6, *args),
                     ref_local.local_unfold_bwd(gcol, 3, 5, 6, *args), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("need", ["both", "x", "w"])
def test_batch_chunks_agree_with_one_chunk(rng, need):
    """A workspace cap below one sample's patches: one chunk per sample, same results."""
    x, w, b = make(rng, 3, 2, 6, 5), make(rng, 3, 3, 4, 2, 3, 3), make(rng, 4, 3, 3)
    x.requires_grad, w.requires_grad = need != "w", need != "x"

    def run():
        x.grad = w.grad = None
        y = F.local_conv2d(x, w, b, 2, 1)
        (y * y).sum().backward()
        return y.numpy(), *(None if g is None else g.numpy() for g in (x.grad, w.grad))
    y1, gx1, gw1 = run()
    with mt.set_workspace_mib(1e-5):
        assert len(conv_chunks.chunks(3, 9 * 18 * 8)) == 3  # (L = 3x3) x (K = 2x3x3) float64
        y3, gx3, gw3 = run()
    assert_close(y3, y1)
    for ours, one_chunk in ((gx3, gx1), (gw3, gw1)):
        assert (ours is None) == (one_chunk is None)
        if ours is not None:
            assert_close(ours, one_chunk)
    mt.gradcheck(lambda x, w: F.local_conv2d(x, w, b, 2, 1), (x, w))


def test_module(rng):
    layer = nn.LocallyConnected2d(3, 4, (7, 6), (3, 2), stride=(2, 1), padding=1)
    assert layer.out_size == (4, 7)
    assert layer.weight.shape == (4, 7, 4, 3, 3, 2) and layer.bias.shape == (4, 4, 7)
    n_params = sum(p.numel() for p in layer.parameters())
    assert n_params == 4 * 7 * 4 * 3 * 3 * 2 + 4 * 4 * 7
    bound = 1 / math.sqrt(3 * 3 * 2)
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.8 * bound
    assert list(layer.state_dict()) == ["weight", "bias"]
    x = make(rng, 2, 3, 7, 6, dtype=np.float32)
    y = layer(x)
    assert y.shape == (2, 4, 4, 7)
    y.sum().backward()
    assert layer.weight.grad.shape == layer.weight.shape and layer.bias.grad is not None
    with pytest.raises(ValueError, match=r"LocallyConnected2d.*\(N, 3, 7, 6\)"):
        layer(make(rng, 2, 3, 8, 6))
    assert nn.LocallyConnected2d(2, 2, 5, 3, bias=False).bias is None


@pytest.mark.slow
def test_deepface_l4_parameter_count():
    """DeepFace L4: 16 filters 9x9x16 on a 63x63x16 map -> 55x55x16."""
    layer = nn.LocallyConnected2d(16, 16, 63, 9, dtype=mt.float32)
    assert layer.out_size == (55, 55)
    assert layer.weight.numel() == 55 * 55 * 16 * 16 * 9 * 9 == 62_726_400
    assert layer.bias.numel() == 16 * 55 * 55


@pytest.mark.parametrize("call, message", [
    (lambda x, w: F.local_conv2d(x[0], w), "4-D"),
    (lambda x, w: F.local_conv2d(x, w[0]), "6-D"),
    (lambda x, w: F.local_conv2d(x, w, stride=2), r"is for a \(4, 5\) output.*gives \(2, 3\)"),
    (lambda x, w: F.local_conv2d(x, w, padding=1), r"gives \(6, 7\)"),
    (lambda x, w: F.local_conv2d(mt.zeros(1, 2, 6, 7), w), "expects 3 input channels"),
    (lambda x, w: F.local_conv2d(x, w, mt.zeros(2, 5, 4)), "bias of shape"),
    (lambda x, w: F.local_conv2d(mt.zeros(1, 3, 2, 2), w), "larger than the padded input"),
    (lambda x, w: F.local_conv2d(x, w, stride=0), "stride"),
])
def test_bad_input(call, message):
    x, w = mt.zeros(1, 3, 6, 7), mt.zeros(4, 5, 2, 3, 3, 3)
    with pytest.raises(ValueError, match=message):
        call(x, w)


@pytest.mark.oracle
@pytest.mark.parametrize("shape, o, k, s, p, bias", CASES)
def test_oracle_unfold_einsum(torch, rng, shape, o, k, s, p, bias):
    """torch has no locally-connected layer; its usual emulation is unfold + einsum."""
    x, w, b = _make_case(rng, shape, o, k, s, p, True)
    x, w, b = (mt.tensor(t.numpy().astype(np.float32), requires_grad=True) for t in (x, w, b))
    tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
    oh, ow = w.shape[:2]
    cols = torch.nn.functional.unfold(tx, k, padding=p, stride=s)  # (N, C kh kw, L)
    ty = torch.einsum("nkl,lok->nol", cols, tw.reshape(oh * ow, o, -1))
    ty = ty.reshape(shape[0], o, oh, ow) + tb
    y = F.local_conv2d(x, w, b, s, p)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    (y * mt.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    assert_close(y, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        assert_close(ours.grad, theirs.grad.numpy(), rtol=1e-4, atol=1e-5)
