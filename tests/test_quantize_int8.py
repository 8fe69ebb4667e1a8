"""int8 inference of whole models (``compress.quantize_int8``): activations stay int8 from one
quantized layer to the next (``QTensor``), pooling / ReLU / residual adds run on the codes, the
CPU, CUDA (simulator) and NumPy-reference kernels give the same model output bit for bit, and
models with layers that are not quantized still run."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import kernels
from minitorch_cnn.compress import quantize_int8
from minitorch_cnn.compress.qmodules import QuantResidual
from minitorch_cnn.compress.qtensor import QTensor, is_int8, to_int8
from minitorch_cnn.models import registry

nn = mt.nn


def _tiny_net():
    """A chain with every int8 op: conv + BN + ReLU, max pool, grouped conv with
    padding='same', avg pool, a ResNet basic block, adaptive avg pool, flatten, linear."""
    from minitorch_cnn.models.resnet import BasicBlock
    mt.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(3, 2, 1), nn.Conv2d(4, 4, 3, padding="same", groups=2),
                        nn.ReLU(), nn.AvgPool2d(2, padding=1), BasicBlock(4, 4),
                        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3))
    net[1].running_mean.data[...] = np.linspace(-0.1, 0.1, 4)
    net[1].running_var.data[...] = np.linspace(0.5, 1.5, 4)
    return net.eval()


def _relative_error(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def test_activations_stay_int8_between_layers():
    net, x = _tiny_net(), mt.randn(2, 3, 9, 9)
    q = quantize_int8(net, [x])
    seen = []
    for module in list(q)[1:]:
        if not isinstance(module, nn.Identity):
            module.register_forward_pre_hook(lambda m, args: seen.append(is_int8(args[0])))
    with mt.no_grad():
        out = q(x)
    assert len(seen) == 7 and all(seen)  # every layer after the first got int8 codes
    assert type(out) is mt.Tensor and out.dtype == np.float32
    assert isinstance(q[7], QuantResidual)
    with mt.no_grad():
        assert _relative_error(out.numpy(), net(x).numpy()) < 0.1


@pytest.mark.parametrize("implementation", ["reference", pytest.param("cuda", marks=[
    pytest.mark.cudasim])])
def test_model_output_is_bit_exact_across_kernels(implementation):
    net, x = _tiny_net(), mt.randn(2, 3, 9, 9)
    q = quantize_int8(net, [x])
    with mt.no_grad():
        cpu = q(x).numpy()
        if implementation == "reference":
            with kernels.use("reference"):
                other = q(x).numpy()
        else:
            if not mt.cuda.is_available():
                pytest.skip("no cuda device or simulator")
            on_gpu = quantize_int8(net, [x], device="cuda")
            assert on_gpu[0].w_wide.device.type == "cuda"
            other = on_gpu(x.to("cuda")).numpy()
    np.testing.assert_array_equal(other, cpu)


def test_qtensor_reads_as_its_float_value():
    x = mt.randn(2, 3, 4, 5)
    t = to_int8(x, (0.02, 3))
    assert isinstance(t, QTensor) and t.q.shape == (2, 4, 5, 3)  # channels-last codes
    assert t.shape == (2, 3, 4, 5) and t.size(1) == 3 and t.numel() == 120
    flat = t.flatten(1)
    assert is_int8(flat) and flat.shape == (2, 60)
    expected = (np.clip(np.floor(x.numpy() / 0.02 + 0.5) + 3, -128, 127) - 3) * np.float32(0.02)
    np.testing.assert_allclose(flat.numpy(), expected.reshape(2, -1), rtol=1e-6)
    assert is_int8(t.view(2, -1))
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)  # now a float tensor
    assert not is_int8(t)
    t.data[...] = 0  # a change through data is kept
    assert (t + 1).numpy().max() == 1


def test_models_with_float_layers_still_run():
    mt.manual_seed(0)
    classic = registry.create("lenet5").eval()  # sigmoid (not quantized) and average pooling
    x = mt.randn(8, 1, 28, 28)
    q = quantize_int8(classic, [x])
    with mt.no_grad():
        assert _relative_error(q(x).numpy(), classic(x).numpy()) < 0.05
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.GroupNorm(2, 4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 2)).eval()
    x = mt.randn(3, 1, 6, 6)
    with mt.no_grad():
        assert _relative_error(quantize_int8(net, [x])(x).numpy(), net(x).numpy()) < 0.05


def test_fused_activations_are_applied_or_refused():
    """A model after ``nn.utils.fuse`` holds its ReLUs inside the convs (``Conv2d.activation``):
    the int8 copy applies them; a fused ReLU6, which int8 layers have not, is refused."""
    mt.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 3),
                        nn.Flatten()).eval()
    x = mt.randn(4, 3, 9, 9)
    fused = mt.nn.utils.fuse(net, x[:1])
    assert fused.fused_activations
    with mt.no_grad():
        assert _relative_error(quantize_int8(fused, [x])(x).numpy(), net(x).numpy()) < 0.05
    six = mt.nn.utils.fuse(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU6()).eval(), x[:1])
    with pytest.raises(ValueError, match="quantize_int8: 0 has a fused relu6"):
        quantize_int8(six, [x])


def test_resnet18_int8_is_close_to_float():
    mt.manual_seed(0)
    model = registry.create("resnet18", num_classes=10).eval()
    x = mt.randn(2, 3, 32, 32)
    q = quantize_int8(model, [x])
    assert sum(isinstance(m, QuantResidual) for m in q.modules()) == 8
    with mt.no_grad():
        out, ref = q(x).numpy(), model(x).numpy()
    assert type(q(x)) is mt.Tensor
    assert _relative_error(out, ref) < 0.15


def test_quantize_percentile_and_wrong_device():
    net, x = _tiny_net(), mt.randn(2, 3, 9, 9)
    q = quantize_int8(net, [x], method="percentile", percentile=99.0)
    with mt.no_grad():
        assert _relative_error(q(x).numpy(), net(x).numpy()) < 0.2
    with pytest.raises(ValueError):
        quantize_int8(net, [x], device="tpu")
