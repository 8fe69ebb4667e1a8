"""The shared-buffer dense block (ops/dense_concat.py, Pleiss et al. 2017): the same forward,
gradients and running statistics as the plain ``cat`` block, gradchecked, on tiny shapes."""
import copy

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import kernels
from minitorch_cnn.models.densenet import DenseNet, _DenseBlock
from minitorch_cnn.ops.dense_concat import BottleneckInputFn, CatIntoFn, FeatureBuffer
from helpers import make


def _plain_block(block, x):
    """The block as it was: a fresh cat per layer, norm1 and relu1 as modules."""
    features = [x]
    for layer in block.values():
        h = mt.cat(features, dim=1) if len(features) > 1 else features[0]
        h = layer.conv1(layer.relu1(layer.norm1(h)))
        features.append(layer.dropout(layer.conv2(layer.relu2(layer.norm2(h)))))
    return mt.cat(features, dim=1)


def _block(dtype, momentum=0.1):
    mt.manual_seed(0)
    block = _DenseBlock(3, 4, bn_size=2, growth_rate=3, drop_rate=0.0,
                        memory_efficient=True).to(dtype=dtype).train()
    for m in block.modules():
        if isinstance(m, mt.nn.BatchNorm2d):
            m.momentum = momentum
            m.weight.data[...] = np.linspace(0.5, 1.5, m.num_features)
            m.bias.data[...] = np.linspace(-0.2, 0.3, m.num_features)
    return block


@pytest.mark.parametrize("dtype, momentum", [(np.float32, 0.1), (np.float64, None)])
def test_shared_buffer_block_equals_the_cat_block(dtype, momentum):
    block = _block(dtype, momentum)
    plain = copy.deepcopy(block)
    rng = np.random.default_rng(0)
    x = make(rng, 2, 4, 5, 5, dtype=dtype)
    x2 = mt.tensor(x.data.copy(), requires_grad=True)
    for _ in range(2):  # twice: the running statistics and num_batches_tracked move alike
        out, ref = block(x), _plain_block(plain, x2)
        np.testing.assert_array_equal(out.data, ref.data)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(mt.tensor(g))
        ref.backward(mt.tensor(g))
    np.testing.assert_allclose(x.grad.data, x2.grad.data, rtol=1e-6, atol=1e-7)
    for (name, a), (_, b) in zip(block.named_parameters(), plain.named_parameters()):
        np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-6, atol=1e-7, err_msg=name)
    for (name, a), (_, b) in zip(block.named_buffers(), plain.named_buffers()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_layer_inputs_are_views_of_one_buffer(monkeypatch):
    seen, forward = [], BottleneckInputFn.forward

    def spy(ctx, x, *args, **kwargs):
        seen.append(x)
        return forward(ctx, x, *args, **kwargs)
    monkeypatch.setattr(BottleneckInputFn, "forward", staticmethod(spy))
    out = _block(np.float32)(make(np.random.default_rng(1), 2, 4, 5, 5, dtype=np.float32))
    assert out.shape == (2, 13, 5, 5) and out.data.base is not None
    # layer 1 reads the block's input; layers 2 and 3 read 7 and 10 channels of the output's
    # memory, without a copy
    assert [h.shape[1] for h in seen] == [4, 7, 10]
    assert all(h.base is out.data.base for h in seen[1:])


def test_dense_block_gradcheck_float64():
    block = _block(np.float64)
    x = make(np.random.default_rng(2), 2, 4, 3, 3)
    assert mt.gradcheck(lambda t: block(t), [x])


def test_bottleneck_input_on_a_strided_view_gradcheck_and_equality():
    rng = np.random.default_rng(3)
    rest = mt.tensor(rng.standard_normal((3, 2, 4, 4)))
    bw, bb, w = make(rng, 5), make(rng, 5), make(rng, 6, 5, 1, 1)

    def fn(x, bw, bb, w):  # x: 5 of the buffer's 7 channels, not contiguous as a whole
        view = CatIntoFn.apply(x, rest, buffer=FeatureBuffer(7))[:, :5]
        assert not view.data.flags.c_contiguous and view.data.base is not None
        return BottleneckInputFn.apply(view, bw, bb, w, eps=1e-5)
    x = make(rng, 3, 5, 4, 4)
    assert mt.gradcheck(fn, [x, bw, bb, w])
    F = mt.nn.functional
    ref = F.conv2d(F.relu(F.batch_norm(x, None, None, bw, bb, training=True)), w)
    np.testing.assert_allclose(fn(x, bw, bb, w).data, ref.data, rtol=1e-12, atol=1e-12)


def test_cat_into_gradient_is_each_inputs_slice():
    rng = np.random.default_rng(4)
    a, b = make(rng, 2, 3, 2, 2), make(rng, 2, 1, 2, 2)
    buf = FeatureBuffer(4)
    out = CatIntoFn.apply(a, b, buffer=buf)
    np.testing.assert_array_equal(out.data, np.concatenate([a.data, b.data], axis=1))
    g = rng.standard_normal(out.shape)
    out.backward(mt.tensor(g))
    np.testing.assert_array_equal(a.grad.data, g[:, :3])
    np.testing.assert_array_equal(b.grad.data, g[:, 3:])


def test_feature_buffer_refuses_a_different_prefix_or_overflow():
    rng = np.random.default_rng(5)
    a, b, c = (make(rng, 1, 2, 2, 2) for _ in range(3))
    buf = FeatureBuffer(4)
    CatIntoFn.apply(a, b, buffer=buf)
    with pytest.raises(ValueError, match="extend those already written"):
        CatIntoFn.apply(c, b, buffer=buf)
    with pytest.raises(ValueError, match=r"expected a feature of shape \(1, C, 2, 2\)"):
        CatIntoFn.apply(a, b, c, buffer=buf)


def test_densenet_zero_batch_and_eval_use_plain_cat():
    model = DenseNet(4, (2, 2), 8, num_classes=3, memory_efficient=True).train()
    x = mt.zeros(0, 3, 32, 32, requires_grad=True)
    out = model(x)
    out.sum().backward()
    assert out.shape == (0, 3) and x.grad.shape == x.shape
    model.eval()
    with mt.no_grad():
        assert model(mt.randn(1, 3, 32, 32)).shape == (1, 3)


def test_memory_efficient_is_off_by_default_as_in_torchvision(monkeypatch):
    from minitorch_cnn.models import densenet
    made = []
    monkeypatch.setattr(densenet, "FeatureBuffer",
                        lambda channels: made.append(channels) or FeatureBuffer(channels))
    for flag in (False, True):
        DenseNet(4, (2, 2), 8, num_classes=3, memory_efficient=flag).train()(
            mt.randn(2, 3, 32, 32))
        assert bool(made) == flag


@pytest.mark.oracle
@pytest.mark.parametrize("memory_efficient", [False, True])
def test_tiny_densenet_training_step_equals_torchvisions(torch, memory_efficient):
    tv = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    theirs = tv.models.DenseNet(4, (2, 3), 8, num_classes=3).double().train()
    ours = DenseNet(4, (2, 3), 8, num_classes=3, memory_efficient=memory_efficient).to(
        dtype=np.float64).train()
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((2, 3, 32, 32))
    out = ours(mt.tensor(x))
    expected = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-10)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad.data, p.grad.numpy(), rtol=1e-7, atol=1e-9,
                                   err_msg=name)
    state = ours.state_dict()
    for name, v in theirs.state_dict().items():
        np.testing.assert_allclose(state[name].numpy(), v.numpy(), rtol=1e-9, err_msg=name)


@pytest.mark.parametrize("impl", ["reference", "cpu",
                                  pytest.param("cuda", marks=pytest.mark.cudasim)])
def test_norm_affine_kernels_write_in_place(rng, impl):
    if impl == "cuda" and not mt.cuda.is_available():
        pytest.skip("no CUDA device or simulator")
    x, gy = rng.standard_normal((2, 4, 6)).astype(np.float32)  # rows (4, 6) each
    center, a, b, p, q = rng.standard_normal((5, 4))
    affine, affine_bwd = (kernels.load(k, impl) for k in ("norm_affine", "norm_affine_bwd"))
    want_y, want_gx = affine(x, center, a, b), affine_bwd(gy, x, center, a, p, q)
    y = x.copy()
    assert affine(y, center, a, b, out=y) is y
    g = gy.copy()
    assert affine_bwd(g, x, center, a, p, q, out=g) is g
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(g, want_gx)


@pytest.mark.parametrize("device", ["cpu", pytest.param(
    "cuda", marks=[pytest.mark.cudasim, pytest.mark.slow])])  # (about 15 s on the simulator)
def test_shared_buffer_block_on_each_device_equals_the_cat_block_on_the_cpu(device):
    if device == "cuda" and not mt.cuda.is_available():
        pytest.skip("no CUDA device or simulator")
    block = _block(np.float32)
    plain = copy.deepcopy(block)
    x = make(np.random.default_rng(7), 2, 4, 2, 2, dtype=np.float32)
    xd = mt.tensor(x.data.copy(), device=device, requires_grad=True)
    out, ref = block.to(device)(xd), _plain_block(plain, x)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(out.cpu().numpy(), ref.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xd.grad.cpu().numpy(), x.grad.data, rtol=1e-4, atol=1e-5)
