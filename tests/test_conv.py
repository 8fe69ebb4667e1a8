"""conv2d, conv_transpose2d and their layers: naive loops, gradcheck over the options, both col
layouts, the chunked path, devices, bad input, and PyTorch as the oracle."""
import math

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from minitorch_cnn.ops import conv_im2col as conv_ops
from minitorch_cnn import threads
from minitorch_cnn.ops import conv_chunks
from helpers import assert_close, make


# --- naive loops: the expectations --------------------------------------------------------------
def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    """Direct definition; ``padding`` is (top, bottom, left, right)."""
    (sy, sx), (dy, dx) = stride, dilation
    pt, pb, pl, pr = padding
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    oh = (h + pt + pb - dy * (kh - 1) - 1) // sy + 1
    ow = (wd + pl + pr - dx * (kw - 1) - 1) // sx + 1
    y = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        chans = slice(oc // og * cg, oc // og * cg + cg)
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, chans, i * sy:i * sy + dy * (kh - 1) + 1:dy,
                           j * sx:j * sx + dx * (kw - 1) + 1:dx]
                y[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
        if b is not None:
            y[:, oc] += b[oc]
    return y


def naive_conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation):
    """Each input pixel scatters a weighted kernel into the output."""
    (sy, sx), (ph, pw), (ay, ax), (dy, dx) = stride, padding, output_padding, dilation
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    oh = (h - 1) * sy - 2 * ph + dy * (kh - 1) + ay + 1
    ow = (wd - 1) * sx - 2 * pw + dx * (kw - 1) + ax + 1
    full = np.zeros((n, og * groups, oh + 2 * ph + sy + dy * kh, ow + 2 * pw + sx + dx * kw))
    cg = c // groups
    for ch in range(c):
        outs = slice(ch // cg * og, ch // cg * og + og)
        for i in range(h):
            for j in range(wd):
                for p in range(kh):
                    for q in range(kw):
                        full[:, outs, i * sy + p * dy, j * sx + q * dx] += \
                            x[:, ch, i, j][:, None] * w[ch, :, p, q]
    y = full[:, :, ph:ph + oh, pw:pw + ow]
    return y + (0 if b is None else b[None, :, None, None])


def _pad4(padding, kernel, dilation):
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    if padding == "valid":
        return (0, 0, 0, 0)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return (ph, ph, pw, pw)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# (N, C, H, W), O, (kh, kw), stride, padding, dilation, groups
CASES = [
    ((2, 3, 7, 7), 4, (3, 3), 1, 0, 1, 1),
    ((1, 2, 6, 7), 3, (3, 3), 1, 1, 1, 1),
    ((1, 2, 5, 5), 2, (1, 1), 1, 0, 1, 1),
    ((1, 2, 9, 9), 2, (5, 5), 2, 2, 1, 1),
    ((1, 1, 13, 12), 2, (11, 11), 4, 1, 1, 1),
    ((1, 2, 8, 9), 3, (2, 3), (2, 1), (1, 0), 1, 1),
    ((2, 2, 9, 8), 2, (3, 3), 1, 2, 2, 1),
    ((1, 4, 6, 6), 4, (3, 3), 2, 1, 1, 2),
    ((1, 4, 7, 5), 6, (3, 2), 1, "same", 1, 2),
    ((1, 3, 6, 7), 3, (3, 3), 1, 1, 1, 3),  # depthwise
    ((1, 2, 7, 7), 4, (3, 3), 2, 1, (1, 2), 2),  # depthwise with multiplier 2
    ((1, 2, 6, 5), 2, (2, 3), 1, "same", (2, 1), 1),
    ((1, 2, 5, 6), 2, (3, 3), 1, "valid", 1, 1),
]


def _inputs(rng, case, device="cpu", dtype=np.float64, bias=True):
    shape, o, kernel, *_, groups = case
    x = make(rng, *shape, device=device, dtype=dtype)
    w = make(rng, o, shape[1] // groups, *kernel, device=device, dtype=dtype)
    b = make(rng, o, device=device, dtype=dtype) if bias else None
    return x, w, b


def _naive(case, x, w, b):
    _, _, kernel, stride, padding, dilation, groups = case
    return naive_conv2d(x.numpy(), w.numpy(), None if b is None else b.numpy(), _pair(stride),
                        _pad4(padding, kernel, _pair(dilation)), _pair(dilation), groups)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_naive_loop(case, rng):
    x, w, b = _inputs(rng, case)
    _, _, _, stride, padding, dilation, groups = case
    y = F.conv2d(x, w, b, stride, padding, dilation, groups)
    assert_close(y, _naive(case, x, w, b), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_gradcheck(case, rng):
    x, w, b = _inputs(rng, case)
    _, _, _, stride, padding, dilation, groups = case
    mt.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), (x, w, b))


def _conv_and_grads(arrays, gy, pointwise):
    x, w, b = (mt.tensor(a, requires_grad=True) for a in arrays)
    y = F.conv2d(x, w[:, :, :1, :1] if pointwise else w, b, padding=0 if pointwise else 1,
                 groups=2)
    (y * mt.tensor(gy[pointwise])).sum().backward()
    return [y.numpy()] + [t.grad.numpy() for t in (x, w, b)]


@pytest.mark.parametrize("kmajor_below", [0, 10**9])
@pytest.mark.parametrize("workspace_mib", [256, 1e-5])
@pytest.mark.parametrize("in_threads", [True, False])
def test_col_layouts_chunks_and_threads_agree(kmajor_below, workspace_mib, in_threads, rng,
                                              monkeypatch):
    """Sample-major and K-major col, whole batch and one sample per chunk, chunks in worker
    threads or in order, 3x3 and 1x1 kernels: the same results."""
    arrays = [rng.standard_normal(s) for s in ((3, 4, 8, 7), (6, 2, 3, 3), (6,))]
    gy = {False: rng.standard_normal((3, 6, 8, 7)), True: rng.standard_normal((3, 6, 8, 7))}
    with monkeypatch.context() as m:  # the reference: sample-major, one chunk, in order
        m.setattr(threads, "_pool", False)
        m.setattr(conv_ops, "_KMAJOR_BELOW", 0)
        expected = {pw: _conv_and_grads(arrays, gy, pw) for pw in (False, True)}
    assert_close(expected[False][0], naive_conv2d(*arrays, (1, 1), (1, 1, 1, 1), (1, 1), 2),
                 rtol=1e-10, atol=1e-10)
    monkeypatch.setattr(conv_ops, "_KMAJOR_BELOW", kmajor_below)
    if not in_threads:
        monkeypatch.setattr(threads, "_pool", False)
    with mt.set_workspace_mib(workspace_mib):
        assert len(conv_chunks.chunks(3, 4 * 9 * 56 * 8)) == (3 if workspace_mib < 1 else 1)
        for pointwise in (False, True):
            for got, want in zip(_conv_and_grads(arrays, gy, pointwise), expected[pointwise]):
                assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_set_workspace_mib_and_chunks():
    cpu = mt.Device("cpu")
    before = mt.get_workspace_mib()
    buf = conv_chunks.workspace(np, cpu, np.float32, 10)
    assert conv_chunks.workspace(np, cpu, np.float32, 5).base is buf.base  # kept and reused
    with mt.set_workspace_mib(64):
        assert conv_chunks.workspace(np, cpu, np.float32, 5).base is not buf.base  # released
        assert mt.get_workspace_mib() == 64 and len(conv_chunks.chunks(10, 10 * 2**20)) == 2
        assert conv_chunks.chunks(5, 1, parts=2) == [(0, 3), (3, 5)]
        assert conv_chunks.chunks(5, 2**20, mib=2) == [(0, 2), (2, 4), (4, 5)]
    assert mt.get_workspace_mib() == before
    for bad in (0, -1, "64", True):
        with pytest.raises(ValueError, match="positive"):
            mt.set_workspace_mib(bad)
    assert mt.get_workspace_mib() == before


def test_non_contiguous_inputs(rng):
    case = ((2, 3, 6, 5), 4, (3, 3), 1, 1, 1, 1)
    xt = make(rng, 2, 3, 5, 6)
    x = xt.transpose(2, 3)  # a view with swapped strides
    wt = make(rng, 4, 3, 3, 3)
    w = wt.transpose(2, 3)
    y = F.conv2d(x, w, None, padding=1)
    assert_close(y, _naive(case, x, w, None), rtol=1e-10, atol=1e-10)
    y.sum().backward()
    expected = F.conv2d(mt.tensor(x.numpy()), mt.tensor(w.numpy()), None, padding=1)
    assert_close(y, expected.numpy())
    mt.gradcheck(lambda x, w: F.conv2d(x.transpose(2, 3), w.transpose(2, 3), padding=1),
                 (xt, wt))


def test_unbatched_input_and_module_shapes(rng):
    conv = nn.Conv2d(3, 8, 3, padding=1, dtype=mt.float64)
    x = make(rng, 3, 5, 5)
    y = conv(x)
    assert y.shape == (8, 5, 5)
    assert_close(y, conv(x.unsqueeze(0)).numpy()[0])


@pytest.mark.parametrize("kernel, groups", [(3, 1), (1, 1), (3, 2)])
def test_empty_batch(kernel, groups):
    x = mt.zeros(0, 2, 5, 5, requires_grad=True)
    w = mt.ones(4, 2 // groups, kernel, kernel, requires_grad=True)
    y = F.conv2d(x, w, padding=1, groups=groups)
    assert y.shape == (0, 4, 8 - kernel, 8 - kernel)
    y.sum().backward()
    assert x.grad.shape == x.shape and np.all(w.grad.numpy() == 0)


def test_alexnet_conv_shape_arithmetic(rng):
    """227 -conv 11/4-> 55; 27 -conv 5 p2-> 27; 13 -conv 3 p1-> 13 (Krizhevsky et al. 2012)."""
    x = mt.zeros(1, 3, 227, 227)
    assert nn.Conv2d(3, 96, 11, stride=4)(x).shape == (1, 96, 55, 55)
    assert nn.Conv2d(96, 256, 5, padding=2, groups=2)(mt.zeros(1, 96, 27, 27)).shape \
        == (1, 256, 27, 27)
    assert nn.Conv2d(256, 384, 3, padding=1)(mt.zeros(1, 256, 13, 13)).shape == (1, 384, 13, 13)


# --- conv_transpose2d ---------------------------------------------------------------------------
# (N, C, H, W), O, (kh, kw), stride, padding, output_padding, groups, dilation
T_CASES = [
    ((2, 3, 4, 5), 2, (2, 2), 2, 0, 0, 1, 1),
    ((1, 2, 4, 4), 3, (3, 3), 2, 1, 1, 1, 1),
    ((1, 4, 3, 4), 4, (3, 2), (2, 3), (1, 0), (1, 2), 2, 1),
    ((1, 2, 4, 3), 2, (3, 3), 1, 0, 1, 1, 2),
    ((1, 3, 5, 5), 3, (4, 4), 2, 1, 0, 3, 1),
]


def _t_inputs(rng, case, device="cpu", dtype=np.float64):
    shape, o, kernel, _, _, _, groups, _ = case
    return (make(rng, *shape, device=device, dtype=dtype),
            make(rng, shape[1], o // groups, *kernel, device=device, dtype=dtype),
            make(rng, o, device=device, dtype=dtype))


@pytest.mark.parametrize("case", T_CASES)
def test_conv_transpose2d_naive_and_gradcheck(case, rng):
    x, w, b = _t_inputs(rng, case)
    _, _, _, stride, padding, output_padding, groups, dilation = case
    y = F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    expected = naive_conv_transpose2d(x.numpy(), w.numpy(), b.numpy(), _pair(stride),
                                      _pair(padding), _pair(output_padding), groups,
                                      _pair(dilation))
    assert_close(y, expected, rtol=1e-10, atol=1e-10)
    mt.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, output_padding,
                                                    groups, dilation), (x, w, b))


def test_conv_transpose2d_is_the_adjoint_of_conv2d(rng):
    x, w = make(rng, 2, 4, 9, 8), make(rng, 6, 2, 3, 3)
    y = F.conv2d(x, w, stride=2, padding=1, groups=2)
    gy = make(rng, *y.shape)
    back = F.conv_transpose2d(gy, w, stride=2, padding=1, output_padding=(0, 1), groups=2)
    assert back.shape == x.shape
    assert np.isclose((y * gy).sum().item(), (x * back).sum().item())


def test_conv_transpose2d_module(rng):
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, dtype=mt.float64)
    assert up.weight.shape == (4, 2, 3, 3) and up.bias.shape == (2,)
    x = make(rng, 1, 4, 5, 5)
    assert up(x).shape == (1, 2, 9, 9)
    assert up(x, output_size=(10, 10)).shape == (1, 2, 10, 10)
    with pytest.raises(ValueError, match="not reachable"):
        up(x, output_size=(12, 12))
    fan_in = 2 * 9  # PyTorch takes fan_in from weight.shape[1] for transposed convs too
    assert np.abs(up.bias.numpy()).max() <= 1 / math.sqrt(fan_in)
    assert "output_padding" not in repr(up) and "stride=(2, 2)" in repr(up)


# --- modules ------------------------------------------------------------------------------------
def test_conv2d_module_parameters_and_init():
    conv = nn.Conv2d(64, 128, 3, padding=1, groups=2)
    assert conv.weight.shape == (128, 32, 3, 3) and conv.bias.shape == (128,)
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(32 * 9)  # kaiming_uniform_(a=sqrt(5)) = uniform(+-1/sqrt(fan_in))
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound and abs(w.mean()) < 0.02 * bound
    assert np.abs(b).max() <= bound
    assert conv.weight.dtype == mt.float32
    assert repr(conv) == "Conv2d(64, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), " \
                         "groups=2)"
    assert nn.Conv2d(3, 4, (1, 2), bias=False).bias is None


def test_module_construction_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(6, 4, 3, groups=4)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    assert nn.Conv2d(3, 4, 4, padding="same")(mt.zeros(1, 3, 7, 6)).shape == (1, 4, 7, 6)
    with pytest.raises(ValueError, match="padding"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")


# --- devices ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [CASES[7], CASES[10]])
def test_conv2d_on_every_device(device, case, rng):
    x, w, b = _inputs(rng, case, device=device)
    _, _, _, stride, padding, dilation, groups = case
    y = F.conv2d(x, w, b, stride, padding, dilation, groups)
    assert y.device == mt.Device(device)
    assert_close(y, _naive(case, x, w, b), rtol=1e-10, atol=1e-10)
    y.sum().backward()
    cpu = [mt.tensor(t.numpy(), requires_grad=True) for t in (x, w, b)]
    F.conv2d(*cpu, stride, padding, dilation, groups).sum().backward()
    for t, c in zip((x, w, b), cpu):
        assert_close(t.grad, c.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_on_every_device(device, rng):
    x, w, b = _t_inputs(rng, T_CASES[1], device=device)
    y = F.conv_transpose2d(x, w, b, 2, 1, 1)
    y.sum().backward()
    cpu = [mt.tensor(t.numpy(), requires_grad=True) for t in (x, w, b)]
    assert_close(y, F.conv_transpose2d(*cpu, 2, 1, 1).numpy(), rtol=1e-10, atol=1e-10)
    F.conv_transpose2d(*cpu, 2, 1, 1).sum().backward()
    for t, c in zip((x, w, b), cpu):
        assert_close(t.grad, c.grad.numpy(), rtol=1e-10, atol=1e-10)


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape, kwargs, error, match", [
    ((3, 8), (4, 3, 3, 3), {}, ValueError, r"conv2d: expected a 4-D input .* \(3, 8\)"),
    ((1, 3, 8, 8), (4, 3, 3), {}, ValueError, r"conv2d: expected a 4-D weight"),
    ((1, 2, 8, 8), (4, 3, 3, 3), {}, ValueError,
     r"conv2d: expected an input of shape \(N, 3, H, W\) .* got \(1, 2, 8, 8\)"),
    ((1, 6, 8, 8), (5, 3, 3, 3), {"groups": 2}, ValueError, r"divisible by groups=2"),
    ((1, 6, 8, 8), (6, 3, 3, 3), {"groups": 0}, ValueError, r"groups must be a positive"),
    ((1, 3, 2, 8), (4, 3, 3, 3), {}, ValueError, r"kernel \(3, 3\) .* larger than the padded"),
    ((1, 3, 4, 8), (4, 3, 3, 3), {"dilation": 2}, ValueError, r"larger than the padded"),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"stride": 0}, ValueError, r"stride must be at least 1"),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"padding": -1}, ValueError, r"padding must be at least 0"),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"padding": "full"}, ValueError, r"'same' or 'valid'"),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"padding": "same", "stride": 2}, ValueError, r"stride 1"),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"stride": 1.5}, TypeError, r"stride must be an int"),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"bias": (3,)}, ValueError, r"bias of shape \(4,\)"),
])
def test_conv2d_bad_input(x_shape, w_shape, kwargs, error, match):
    kwargs = dict(kwargs)
    bias = mt.zeros(*kwargs.pop("bias")) if "bias" in kwargs else None
    with pytest.raises(error, match=match):
        F.conv2d(mt.zeros(*x_shape), mt.zeros(*w_shape), bias, **kwargs)


def test_conv_bad_dtype_and_transposed_errors():
    with pytest.raises(TypeError, match="dtypes differ"):
        F.conv2d(mt.zeros(1, 3, 8, 8, dtype=mt.float64), mt.zeros(4, 3, 3, 3))
    x, w = mt.zeros(1, 4, 5, 5), mt.zeros(4, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected an input of shape "
                                         r"\(N, 4, H, W\)"):
        F.conv_transpose2d(mt.zeros(1, 3, 5, 5), w)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="empty output"):
        F.conv_transpose2d(mt.zeros(1, 4, 1, 1), w, padding=2)


# --- PyTorch as the oracle ----------------------------------------------------------------------
def _oracle(torch, ours_fn, theirs_fn, arrays, rtol, atol):
    """Outputs and gradients against torch's. In float32 the absolute tolerance is ``atol``
    times the largest magnitude (at least 1) of what is compared: Winograd F(4x4)'s error is
    bounded so (``ops/winograd.py``), not element by element (``pytest --conv-algorithm
    winograd4`` runs these tests with it)."""
    ours = [mt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours_fn(*ours), theirs_fn(*theirs)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(arrays[0].dtype)
    (y * mt.tensor(gy)).sum().backward()
    ty.backward(torch.tensor(gy))
    pairs = [(y, ty.detach().numpy())] + [(t.grad, tt.grad.numpy()) for t, tt in zip(ours, theirs)]
    for ours_value, expected in pairs:
        scale = max(1.0, float(np.abs(expected).max(initial=0))) if expected.dtype == np.float32 \
            else 1.0
        assert_close(ours_value, expected, rtol=rtol, atol=atol * scale)


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES + [((4, 16, 9, 9), 32, (3, 3), 1, 1, 1, 1),
                                          ((2, 8, 40, 40), 8, (3, 3), 1, 1, 1, 1),
                                          ((2, 8, 14, 14), 8, (3, 3), 2, 1, 1, 8)])
def test_conv2d_against_torch(torch, case, dtype, rng):
    shape, o, kernel, stride, padding, dilation, groups = case
    arrays = [rng.standard_normal(shape), rng.standard_normal((o, shape[1] // groups, *kernel)),
              rng.standard_normal(o)]
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    _oracle(torch, lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
            lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding, dilation,
                                                       groups),
            [a.astype(dtype) for a in arrays], **tol)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", T_CASES)
def test_conv_transpose2d_against_torch(torch, case, dtype, rng):
    shape, o, kernel, stride, padding, output_padding, groups, dilation = case
    arrays = [rng.standard_normal(shape), rng.standard_normal((shape[1], o // groups, *kernel)),
              rng.standard_normal(o)]
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    args = (stride, padding, output_padding, groups, dilation)
    _oracle(torch, lambda x, w, b: F.conv_transpose2d(x, w, b, *args),
            lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, *args),
            [a.astype(dtype) for a in arrays], **tol)
