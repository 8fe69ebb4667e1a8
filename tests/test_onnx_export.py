"""ONNX export: every zoo model and every op family round-trips through ONNX Runtime within
1e-4 relative (float32), traced at batch 1 and run at batch 2 or 3 (dynamic batch); what
cannot be expressed fails with a ValueError naming the layer. Skipped without onnx and
onnxruntime (``pip install -e ".[onnx]"``)."""
import inspect

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import autograd, nn
from minitorch_cnn.models import registry
from onnx_support import SMALL, Lambda, lively, roundtrip, run_ort

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if slow else n
                                  for n, (_, _, slow) in SMALL.items()])
def test_zoo_model_round_trip(name, tmp_path):
    build, shape, _ = SMALL[name]
    mt.manual_seed(0)
    model = lively(build())
    x = mt.randn(2, *shape)
    want = roundtrip(model, x, tmp_path / "m.onnx")
    assert np.ptp(want, axis=0).max() > 1e-3 * np.abs(want).max()  # the samples differ


def _model_classes(factory):
    """The zoo classes a registry factory builds: itself, or those its module defines."""
    if inspect.isclass(factory):
        return {factory}
    module = inspect.getmodule(factory)
    return {c for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, nn.Module) and c.__module__ == module.__name__
            and not c.__name__.startswith("_")}


def test_every_registered_model_has_a_round_trip_case():
    covered = set()
    for build, _, _ in SMALL.values():
        covered |= _model_classes(getattr(build, "func", build))
    for name in registry.names():
        if name.endswith("..."):
            continue
        classes = _model_classes(registry.entry(name).factory)
        assert classes & covered, f"{name}: no round-trip case builds any of {classes}"


def test_file_is_checked_with_named_initializers_and_symbolic_batch(tmp_path):
    model = lively(mt.models.LeNet5())
    proto = mt.onnx.export(model, mt.randn(1, 1, 28, 28), str(tmp_path / "lenet.onnx"))
    loaded = onnx.load(str(tmp_path / "lenet.onnx"))
    onnx.checker.check_model(loaded)
    assert loaded.opset_import[0].version == 17 and proto.graph.input[0].name == "input"
    names = {t.name for t in loaded.graph.initializer}
    assert {k for k, _ in model.named_parameters()} <= names
    assert loaded.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    x = mt.randn(3, 1, 28, 28)
    with mt.no_grad():
        np.testing.assert_allclose(run_ort(tmp_path / "lenet.onnx", x.numpy())[0],
                                   model(x).numpy(), rtol=1e-4, atol=1e-6)


def test_fixed_batch_and_opset_choice(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    proto = mt.onnx.export(model, mt.randn(2, 2, 6, 6), str(tmp_path / "m.onnx"), opset=13,
                           dynamic_batch=False)
    assert proto.opset_import[0].version == 13
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    with pytest.raises(ValueError, match="opset must be one of"):
        mt.onnx.export(model, mt.randn(2, 2, 6, 6), str(tmp_path / "m.onnx"), opset=9)


# --- op families, tiny -----------------------------------------------------------------------
CASES = {
    "conv groups dilation stride": (
        lambda: nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (4, 9, 8)),
    "conv same even kernel": (lambda: nn.Conv2d(3, 4, 4, padding="same", bias=False), (3, 7, 6)),
    "depthwise": (lambda: nn.Conv2d(4, 8, 3, padding=1, groups=4), (4, 6, 6)),
    "conv transpose": (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                  output_padding=1, groups=2, dilation=2),
                       (4, 5, 4)),
    "max pool ceil dilation": (lambda: nn.MaxPool2d(3, 2, padding=1, dilation=2,
                                                    ceil_mode=True), (2, 10, 9)),
    "avg pool ceil include pad": (lambda: nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),
                                  (2, 8, 7)),
    "avg pool ceil exclude pad": (lambda: nn.AvgPool2d(3, 2, padding=1, ceil_mode=True,
                                                       count_include_pad=False), (2, 8, 7)),
    "avg pool divisor": (lambda: nn.AvgPool2d(2, 1, divisor_override=3), (2, 5, 5)),
    "adaptive avg bins": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 7, 5)),
    "adaptive avg upsampling": (lambda: nn.AdaptiveAvgPool2d(4), (2, 1, 3)),
    "adaptive max bins": (lambda: nn.AdaptiveMaxPool2d((3, 4)), (2, 7, 5)),
    "spatial pyramid": (lambda: nn.SpatialPyramidPooling2d((1, 2, 3)), (3, 7, 8)),
    "lrn pytorch alpha": (lambda: nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0), (7, 3, 3)),
    "lrn paper alpha": (lambda: nn.LocalResponseNorm(5, 5 * 1e-4, 0.75, 2.0), (7, 3, 3)),
    "lrn even size": (lambda: nn.LocalResponseNorm(4, 0.5, 0.75, 1.0), (7, 3, 3)),
    "lrn within channel": (lambda: nn.LocalResponseNorm(3, 0.5, 0.75, 1.0,
                                                        mode="within_channel"), (2, 5, 5)),
    "locally connected": (lambda: nn.LocallyConnected2d(3, 4, (7, 6), 3, stride=2, padding=1),
                          (3, 7, 6)),
    "channel shuffle": (lambda: nn.ChannelShuffle(3), (6, 2, 3)),
    "batch norm eval": (lambda: nn.BatchNorm2d(3), (3, 4, 4)),
    "batch norm batch stats": (lambda: nn.BatchNorm2d(3, track_running_stats=False),
                               (3, 4, 4)),
    "batch norm 1d": (lambda: nn.Sequential(nn.Flatten(), nn.BatchNorm1d(12)), (3, 2, 2)),
    "instance norm": (lambda: nn.InstanceNorm2d(3, affine=True), (3, 4, 5)),
    "group norm": (lambda: nn.GroupNorm(2, 4), (4, 3, 3)),
    "layer norm": (lambda: nn.LayerNorm((4, 5)), (3, 4, 5)),
    "activations": (lambda: nn.Sequential(nn.ELU(0.5), nn.LeakyReLU(0.2), nn.ReLU6(), nn.Tanh(),
                                          nn.Sigmoid()), (2, 3, 3)),
    "softmaxes": (lambda: Lambda(lambda m, x: F.softmax(x, 1) + F.log_softmax(x, -1)),
                  (3, 2, 2)),
    "tensor ops": (lambda: Lambda(lambda m, x: mt.cat([
        (x[:, 1:, ::2, None, -1] * 2 - 1).reshape(x.shape[0], -1),
        x.permute(0, 2, 3, 1).mean(axis=(1, 2)) / 3,
        x.sum(axis=1).amax(-1) ** 2 + x.var(axis=(1, 2, 3), keepdims=True)[:, :, 0, 0],
        (x.abs() + 1).log().exp().sqrt()[:, 0, 0, :].clip(0.1, 1.5),
        mt.stack([x[:, 0, 0, 0], -x[:, 0, 0, 1]], dim=1),
        mt.maximum(x, 0.2)[:, :, 0, 1] + mt.minimum(x, 0.3)[:, :, 0, 0],
        F.pad(x, (1, 0, 0, 1), value=0.5)[:, 0, :, 0],
        x[:, :1, :1, :1].expand(-1, 2, 1, 3).reshape(x.shape[0], -1),
        x[:, [0, 2], 0, 0],
        (x[:, :, 0, 0] * np.float64(0.5)).astype(np.float32) + 2 ** x[:, :, 1, 1],
    ], dim=1)), (3, 4, 5)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_op_round_trip(case, tmp_path):
    build, shape = CASES[case]
    mt.manual_seed(1)
    model = build().eval()
    roundtrip(model, mt.randn(3, *shape), tmp_path / "m.onnx")


def test_max_pool_indices_and_unpool(tmp_path):
    model = Lambda(lambda m, x: m.unpool(*m.pool(x), output_size=x.shape),
                   pool=nn.MaxPool2d(2, return_indices=True), unpool=nn.MaxUnpool2d(2))
    roundtrip(model, mt.randn(2, 3, 6, 7), tmp_path / "m.onnx")


def test_fused_model_keeps_its_activations(tmp_path):
    """``nn.utils.fuse`` moves ReLU / ReLU6 into the convolution (``Conv2d.activation``): the
    file must still apply them (as Relu / Clip nodes), or its outputs go negative."""
    mt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU6(),
                          nn.Conv2d(8, 4, 1)).eval()
    x = mt.randn(2, 3, 6, 6) * 30
    fused = mt.nn.utils.fuse(model, x[:1])
    assert len(fused.fused_activations) == 2
    with mt.no_grad():
        inner = fused[:5](x).numpy()
    assert inner.min() == 0 and inner.max() == 6  # both activations clip these inputs
    roundtrip(fused, x, tmp_path / "fused.onnx")
    roundtrip(Lambda(lambda m, x: m.net[:5](x), net=fused), x, tmp_path / "inner.onnx")


def test_pooling_indices_as_output(tmp_path):
    model = Lambda(lambda m, x: F.max_pool2d(x, 3, 2, 1, return_indices=True)[1].astype(
        np.float32))
    roundtrip(model, mt.randn(2, 2, 7, 6), tmp_path / "m.onnx")


def test_graph_convolution(tmp_path):
    mt.manual_seed(0)
    model = mt.models.GCN(6, 3, hidden=4).eval()
    edges = np.array([[0, 1, 1, 2, 3, 4, 2, 0], [1, 0, 2, 1, 4, 3, 0, 2]])
    x = mt.randn(5, 6)
    mt.onnx.export(model, (x, edges), str(tmp_path / "gcn.onnx"), dynamic_batch=False)
    with mt.no_grad():
        want = model(x, edges).numpy()
    np.testing.assert_allclose(run_ort(tmp_path / "gcn.onnx", x.numpy())[0], want, rtol=1e-4,
                               atol=1e-6)


# --- what cannot be exported ------------------------------------------------------------------
def test_dropout_in_training_mode_names_the_layer(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), Lambda(lambda m, x: F.dropout(x, 0.5,
                                                                         training=True)))
    with pytest.raises(ValueError, match=r"layer '1' \(DropoutFn\) cannot be exported: "
                                         r"dropout in training mode"):
        mt.onnx.export(model, mt.randn(2, 4), str(tmp_path / "m.onnx"))
    assert not (tmp_path / "m.onnx").exists()


class _SquareFn(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, gy):
        return gy


def test_unknown_function_names_the_layer(tmp_path):
    model = nn.Sequential(nn.ReLU(), Lambda(lambda m, x: _SquareFn.apply(x)))
    with pytest.raises(ValueError, match=r"layer '1' \(_SquareFn\) cannot be exported: no "
                                         r"ONNX converter"):
        mt.onnx.export(model, mt.randn(2, 4), str(tmp_path / "m.onnx"))
    assert autograd.Function.__dict__["apply"].__func__.__name__ == "apply"  # restored


def test_adaptive_max_indices_of_overlapping_bins_are_refused(tmp_path):
    model = Lambda(lambda m, x: F.adaptive_max_pool2d(x, 3, return_indices=True)[1].astype(
        np.float32), pool=nn.Identity())
    with pytest.raises(ValueError, match=r"AdaptiveMaxPool2dFn\) cannot be exported: the "
                                         r"argmax indices"):
        mt.onnx.export(model, mt.randn(1, 2, 7, 5), str(tmp_path / "m.onnx"))


def test_example_input_is_checked(tmp_path):
    with pytest.raises(TypeError, match="example_input"):
        mt.onnx.export(nn.ReLU(), np.zeros((1, 2)), str(tmp_path / "m.onnx"))


def test_outputs_computed_outside_the_ops_are_refused(tmp_path):
    """CapsNet's decoder reads the capsule an argmax in NumPy picked: a graph would freeze it."""
    pytest.importorskip("onnx")
    model = mt.models.CapsNet(width=0.125).eval()
    with pytest.raises(ValueError, match="CapsNet's output 'masked_by'"):
        mt.onnx.export(model, mt.randn(1, 1, 28, 28), str(tmp_path / "caps.onnx"))
    assert not (tmp_path / "caps.onnx").exists()
