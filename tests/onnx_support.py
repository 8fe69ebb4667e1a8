"""Shared by the ONNX tests: small members of every zoo model family, and the round trip
through ONNX Runtime."""
from functools import partial

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models as M
from minitorch_cnn import nn

NARROW = ((4, 4), (8, 8), (8, 8, 8), (8, 8, 8), (8, 8, 8))  # VGG16's layout, 64x thinner

# name -> (builder, (C, H, W), slow): a small member of each model of the zoo
SMALL = {
    "LeNet5": (M.LeNet5, (1, 28, 28), False),
    "lenet5-relu": (partial(M.LeNet5, variant="relu"), (1, 28, 28), False),
    "NiN": (M.NiN, (3, 32, 32), False),
    "DilatedContextNet": (partial(M.DilatedContextNet, 4), (4, 20, 20), False),
    "HighwayNet": (M.HighwayNet, (1, 28, 28), False),
    "HighwayConvNet": (partial(M.HighwayConvNet, channels=8), (3, 16, 16), False),
    "resnet18": (partial(M.resnet18, num_classes=10), (3, 32, 32), False),
    "DenseNet": (partial(M.DenseNet, 8, (2, 2, 2, 2), 16, num_classes=10),
                 (3, 32, 32), False),
    "MobileNetV1": (partial(M.MobileNetV1, 10, width_mult=0.25), (3, 32, 32), False),
    "MobileNetV2": (partial(M.MobileNetV2, 10, width_mult=0.25), (3, 32, 32), False),
    "ShuffleNetV1": (partial(M.ShuffleNetV1, num_classes=10), (3, 32, 32), False),
    "ShuffleNetV2": (partial(M.ShuffleNetV2, (2, 2, 2), (8, 16, 32, 64, 64), 10),
                     (3, 32, 32), False),
    "squeezenet1_0": (partial(M.squeezenet1_0, num_classes=10), (3, 32, 32), False),
    "squeezenet1_1": (partial(M.squeezenet1_1, num_classes=10), (3, 32, 32), False),
    "googlenet": (partial(M.googlenet, num_classes=10), (3, 64, 64), False),
    "SegNet": (partial(M.SegNet, stages=NARROW), (3, 32, 32), False),
    "DeconvNet": (partial(M.DeconvNet, stages=NARROW, fc_channels=8), (3, 224, 224), False),
    "UNet": (partial(M.UNet, base_channels=2), (1, 188, 188), False),
    "ResNet50": (partial(M.ResNet50, num_classes=10), (3, 32, 32), True),
    "resnext50_32x4d": (partial(M.resnext50_32x4d, num_classes=10), (3, 32, 32), True),
    "TorchvisionAlexNet": (partial(M.TorchvisionAlexNet, num_classes=10), (3, 64, 64), True),
    "InceptionV2": (partial(M.InceptionV2, num_classes=10), (3, 64, 64), True),
    "InceptionV3": (partial(M.InceptionV3, num_classes=10), (3, 75, 75), True),
    "InceptionV4": (partial(M.InceptionV4, num_classes=10), (3, 75, 75), True),
    "InceptionResNetV2": (partial(M.InceptionResNetV2, num_classes=10), (3, 75, 75), True),
    "GoogLeNet": (partial(M.GoogLeNet, num_classes=10), (3, 224, 224), True),
    "SPPNet": (partial(M.SPPNet, num_classes=10), (3, 100, 100), True),
    "DeepFace": (partial(M.DeepFace, num_classes=10, input_size=72), (3, 72, 72), True),
    "vgg11_bn": (partial(M.vgg11_bn, num_classes=10), (3, 32, 32), True),
    "AlexNet": (partial(M.AlexNet, num_classes=10), (3, 227, 227), True),
    "ZFNet": (partial(M.ZFNet, num_classes=10), (3, 224, 224), True),
    "AlexNetTwoTower": (partial(M.AlexNetTwoTower, num_classes=10, devices=("cpu", "cpu")),
                        (3, 227, 227), True),
    # without its decoder: at inference the decoder reads the capsule picked by an argmax in
    # NumPy, which a graph cannot express (export says so: test_onnx_export)
    "CapsNet": (partial(M.CapsNet, width=0.125, reconstruction=False), (1, 28, 28), False),
}


def lively(model, seed=0):
    """Give ``model`` weights and batch-norm statistics that keep the signal alive through
    deep stacks (the zoo's small paper initialisations let it fade to a constant at small
    inputs, which would make a comparison of outputs vacuous)."""
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        if p.ndim >= 2 and name.endswith("weight"):
            fan_in = int(np.prod(p.shape[1:])) if p.ndim != 6 else int(np.prod(p.shape[3:]))
            p.data[...] = rng.normal(0, np.sqrt(2.0 / fan_in), p.shape)
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.data[...] = rng.uniform(-0.1, 0.1, buf.shape)
        elif name.endswith("running_var"):
            buf.data[...] = rng.uniform(0.5, 1.5, buf.shape)
    return model.eval()


def run_ort(path, *inputs, names=None):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = names or [i.name for i in session.get_inputs()]
    return session.run(None, {n: np.asarray(x) for n, x in zip(names, inputs)})


def assert_rel_close(got, want, rtol=1e-4):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    scale = max(float(np.abs(want).max()), 1e-30)
    err = float(np.abs(got - want).max()) / scale
    assert err < rtol, f"relative error {err:.2e} >= {rtol}"


def roundtrip(model, x, path, trace_batch=1, rtol=1e-4, **export_kwargs):
    """Export ``model`` traced on the first ``trace_batch`` samples of ``x``, run the file in
    ONNX Runtime on all of ``x`` (so a dynamic batch is exercised) and compare."""
    pytest.importorskip("onnxruntime")
    model.eval()
    mt.onnx.export(model, x[:trace_batch], str(path), **export_kwargs)
    with mt.no_grad():
        out = model(x)
    want = (out[0] if hasattr(out, "_fields") else out).numpy()  # a named tuple: its first
    got = run_ort(path, x.numpy())[0]
    assert_rel_close(got, want, rtol)
    return want


class Lambda(nn.Module):
    """A model whose forward is ``fn(self, x)`` (layers given as keyword arguments)."""

    def __init__(self, fn, **layers):
        super().__init__()
        self.fn = fn
        for name, layer in layers.items():
            setattr(self, name, layer)

    def forward(self, x):
        return self.fn(self, x)
