"""ONNX import: ``mt.onnx.load`` gives a trainable Module with the outputs of ONNX Runtime (or
of the exporting framework) within 1e-4, and refuses malformed files with a ValueError before
building anything. The graphs are built here: by this package's exporter, by the ``onnx``
helper API, and by ``torch.onnx.export`` of a model defined here (skipped without torch)."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import nn
from onnx_support import SMALL, assert_rel_close, lively, run_ort

onnx = pytest.importorskip("onnx")
helper, numpy_helper = onnx.helper, onnx.numpy_helper


def _load_matches(model, x, path):
    mt.onnx.export(model, x[:1], str(path))
    loaded = mt.onnx.load(str(path))
    with mt.no_grad():
        assert_rel_close(loaded(x).numpy(), model(x).numpy())
    return loaded


@pytest.mark.parametrize("name", ["LeNet5", "resnet18", "MobileNetV2", "squeezenet1_1",
                                  "ShuffleNetV2", "googlenet", "DenseNet", "NiN",
                                  "SegNet", "DeconvNet"])
def test_exported_zoo_models_load_back(name, tmp_path):
    build, shape, _ = SMALL[name]
    mt.manual_seed(0)
    _load_matches(lively(build()), mt.randn(2, *shape), tmp_path / "m.onnx")


def _graph_file(path, nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              [numpy_helper.from_array(np.asarray(a), n) for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              ir_version=8)
    onnx.save(model, str(path))
    return model


def _info(name, shape):
    return helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape)


def test_standard_ops_match_onnx_runtime(tmp_path):
    """A graph of the ops torch and others emit (the flatten chain Shape/Gather/Unsqueeze/
    Concat/Reshape among them), imported and compared with ONNX Runtime."""
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 0, 1, 1], strides=[1, 1]),
        n("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["bn"], epsilon=1e-3),
        n("Clip", ["bn", "lo", "hi"], ["clip"]),
        n("LRN", ["clip"], ["lrn"], size=3, alpha=0.2, beta=0.75, bias=2.0),
        n("MaxPool", ["lrn"], ["mp"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        n("AveragePool", ["mp"], ["ap"], kernel_shape=[2, 2], pads=[1, 1, 1, 1],
          count_include_pad=1),
        n("Pad", ["ap", "pads", "padval"], ["pad"], mode="constant"),
        n("Sigmoid", ["pad"], ["sig"]), n("Tanh", ["pad"], ["tanh"]),
        n("Concat", ["sig", "tanh"], ["cat"], axis=1),
        n("Split", ["cat", "halves"], ["s0", "s1"], axis=1),
        n("Sub", ["s0", "s1"], ["sub"]), n("Div", ["sub", "two"], ["div"]),
        n("Transpose", ["div"], ["tr"], perm=[0, 1, 3, 2]),
        n("Dropout", ["tr"], ["drop"]), n("Identity", ["drop"], ["id"]),
        n("Shape", ["id"], ["shape"]),
        n("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.int64))),
        n("Gather", ["shape", "zero"], ["batch"], axis=0),
        n("Unsqueeze", ["batch", "axes0"], ["batch1"]),
        n("Concat", ["batch1", "minus1"], ["target"], axis=0),
        n("Reshape", ["id", "target"], ["flat"]),
        n("MatMul", ["flat", "m"], ["mm"]), n("Add", ["mm", "mb"], ["add"]),
        n("Mul", ["add", "add"], ["sq"]),
        n("Gemm", ["sq", "gw", "gb"], ["gemm"], transB=1, alpha=0.5),
        n("Softmax", ["gemm"], ["sm"], axis=-1),
        n("Relu", ["c"], ["r"]), n("GlobalAveragePool", ["r"], ["gap"]),
        n("Flatten", ["gap"], ["gflat"]),
        n("Slice", ["gflat", "st", "en", "ax"], ["sl"]),
        n("ReduceMean", ["sl"], ["rm"], axes=[1], keepdims=1),
        n("Cast", ["rm"], ["cast"], to=onnx.TensorProto.FLOAT),
        n("Add", ["sm", "cast"], ["y"]),
    ]
    inits = [("w", f32(4, 3, 3, 3)), ("b", f32(4)), ("g", f32(4)), ("beta", f32(4)),
             ("mean", f32(4) * 0.1), ("var", np.abs(f32(4)) + 0.5),
             ("lo", np.array(-1.0, np.float32)), ("hi", np.array(1.5, np.float32)),
             ("pads", np.array([0, 0, 1, 0, 0, 0, 0, 2], np.int64)),
             ("padval", np.array(0.25, np.float32)), ("halves", np.array([4, 4], np.int64)),
             ("two", np.array(2.0, np.float32)), ("axes0", np.array([0], np.int64)),
             ("minus1", np.array([-1], np.int64)), ("m", f32(4 * 7 * 6, 5)), ("mb", f32(5)),
             ("gw", f32(3, 5)), ("gb", f32(3)), ("st", np.array([1], np.int64)),
             ("en", np.array([np.iinfo(np.int64).max], np.int64)),
             ("ax", np.array([1], np.int64))]
    _graph_file(tmp_path / "g.onnx", nodes, [_info("x", ["N", 3, 9, 7])], [_info("y", ["N", 3])],
                inits)
    x = rng.standard_normal((2, 3, 9, 7)).astype(np.float32)
    model = mt.onnx.load(str(tmp_path / "g.onnx"))
    with mt.no_grad():
        got = model(mt.tensor(x)).numpy()
    pytest.importorskip("onnxruntime")
    assert_rel_close(got, run_ort(tmp_path / "g.onnx", x)[0])
    params = dict(model.named_parameters())
    assert {"w", "b", "g", "beta", "m", "mb", "gw", "gb"} <= set(params)
    assert {k for k, _ in model.named_buffers()} == {"mean", "var"}
    assert all(isinstance(p, nn.Parameter) for p in params.values())


def _fine_tune(model, x, target, steps=8):
    model.train()
    optimizer = mt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(p.grad is not None for p in model.parameters())
    return losses


def test_loaded_model_fine_tunes(tmp_path):
    mt.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(4 * 3 * 3, 3))
    x, target = mt.randn(6, 1, 8, 8), mt.tensor(np.arange(6) % 3)
    loaded = _load_matches(net.eval(), x, tmp_path / "m.onnx")
    before = loaded.state_dict()["1_running_mean"].numpy().copy()
    losses = _fine_tune(loaded, x, target)
    assert losses[-1] < 0.5 * losses[0]
    assert not np.allclose(loaded.state_dict()["1_running_mean"].numpy(), before)
    assert loaded.initializer_names["0_weight"] == "0.weight"


@pytest.mark.oracle
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torch_export_loads_matches_and_fine_tunes(tmp_path):
    torch = pytest.importorskip("torch")
    t = torch.nn

    class Net(t.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = t.Conv2d(3, 8, 3, padding=1), t.BatchNorm2d(8)
            self.pool, self.branch = t.MaxPool2d(3, 2, ceil_mode=True), t.Conv2d(8, 4, 1)
            self.up = t.ConvTranspose2d(12, 6, 3, stride=2, padding=1, output_padding=1)
            self.avg, self.fc = t.AvgPool2d(2), t.Linear(6 * 4 * 4, 10)
            self.bn1, self.drop = t.BatchNorm1d(10), t.Dropout(0.3)

        def forward(self, x):
            x = self.pool(torch.relu(self.bn(self.conv(x))))
            x = torch.cat([x, torch.sigmoid(self.branch(x))], 1)
            x = torch.flatten(self.avg(torch.tanh(self.up(x))), 1)
            return self.drop(self.bn1(self.fc(x)))

    torch.manual_seed(0)
    net = Net().eval()
    for m in (net.bn, net.bn1):
        m.running_mean.uniform_(-0.1, 0.1)
        m.running_var.uniform_(0.5, 1.5)
    x = torch.randn(4, 3, 9, 9)
    path = str(tmp_path / "torch.onnx")
    torch.onnx.export(net, (x[:2],), path, dynamo=False, opset_version=17,
                      input_names=["input"], dynamic_axes={"input": {0: "N"}})
    loaded = mt.onnx.load(path)
    with torch.no_grad():
        want = net(x).numpy()
    with mt.no_grad():
        assert_rel_close(loaded(mt.tensor(x.numpy())).numpy(), want)
    losses = _fine_tune(loaded, mt.tensor(x.numpy()), mt.tensor(np.arange(4) % 10))
    assert losses[-1] < losses[0]


# --- malformed files ------------------------------------------------------------------------
def _valid_file(tmp_path):
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    path = tmp_path / "ok.onnx"
    return mt.onnx.export(net, mt.randn(1, 1, 5, 5), str(path)), path


def test_not_protobuf(tmp_path):
    path = tmp_path / "text.onnx"
    path.write_bytes(b"this is not an ONNX model at all\n" * 3)
    with pytest.raises(ValueError, match="is not an ONNX model|holds no graph"):
        mt.onnx.load(str(path))


def test_truncated(tmp_path):
    _, path = _valid_file(tmp_path)
    data = path.read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.onnx"):
        mt.onnx.load(str(tmp_path / "cut.onnx"))


def test_wrong_opset(tmp_path):
    proto, _ = _valid_file(tmp_path)
    proto.opset_import[0].version = 3
    onnx.save(proto, str(tmp_path / "old.onnx"))
    with pytest.raises(ValueError, match="uses opset 3 of the default domain; supported: 11"):
        mt.onnx.load(str(tmp_path / "old.onnx"))


def test_missing_initializer(tmp_path):
    proto, _ = _valid_file(tmp_path)
    kept = [t for t in proto.graph.initializer if t.name != "0.weight"]
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(kept)
    onnx.save(proto, str(tmp_path / "missing.onnx"))
    with pytest.raises(ValueError, match=r"reads '0\.weight', which no initializer"):
        mt.onnx.load(str(tmp_path / "missing.onnx"))


def test_unsupported_ops_are_listed_together(tmp_path):
    n = helper.make_node
    _graph_file(tmp_path / "u.onnx", [n("Erf", ["x"], ["a"]), n("Relu", ["a"], ["b"]),
                                      n("HardSwish", ["b"], ["y"])],
                [_info("x", [1, 2])], [_info("y", [1, 2])])
    with pytest.raises(ValueError, match="does not support: Erf, HardSwish$"):
        mt.onnx.load(str(tmp_path / "u.onnx"))


def test_not_a_file(tmp_path):
    with pytest.raises(ValueError, match="is not a file"):
        mt.onnx.load(str(tmp_path / "absent.onnx"))


TORCHVISION = ["resnet18", "alexnet", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0",
               "googlenet", "vgg11"]


@pytest.mark.oracle
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_exports_load_and_match(name, tmp_path):
    """torchvision's models as ``torch.onnx.export`` writes them (BatchNorm statistics made
    non-trivial first), loaded and compared with torch at a batch other than the traced one."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    net = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    x = torch.randn(2, 3, 224, 224)
    path = str(tmp_path / f"{name}.onnx")
    torch.onnx.export(net, (x[:1],), path, dynamo=False, opset_version=17,
                      input_names=["input"], dynamic_axes={"input": {0: "N"}})
    with torch.no_grad():
        want = net(x).numpy()
    with mt.no_grad():
        assert_rel_close(mt.onnx.load(path)(mt.tensor(x.numpy())).numpy(), want)


def test_unpooling_graph_gives_the_same_input_gradient(tmp_path):
    """SegNet's MaxPool indices -> Mod -> ScatterElements chain, imported, backpropagates as
    the original max_unpool2d does."""
    build, shape, _ = SMALL["SegNet"]
    mt.manual_seed(0)
    model = lively(build())
    x = mt.randn(2, *shape)
    loaded = _load_matches(model, x, tmp_path / "segnet.onnx")
    grads = []
    for net in (model, loaded):
        xg = x.detach().requires_grad_()
        (net(xg) ** 2).mean().backward()
        grads.append(xg.grad.numpy())
    assert_rel_close(grads[1], grads[0])
