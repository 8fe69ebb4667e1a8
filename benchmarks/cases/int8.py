"""int8 vs float32 inference (``compress.quantize_int8``) of LeNet-5 and ResNet-18, side by
side with PyTorch's own int8 path (torch.ao FX quantization, fbgemm) on the same weights.

Each case is one forward pass (no backward: int8 models only infer). Compare the int8 and
float32 rows of one side in the same run; the machine's load moves absolute times.
"""
import numpy as np

from ..harness import Case

LENET_BATCH, RESNET_BATCH = 256, 2


def _model(name):
    import minitorch_cnn as mt
    from minitorch_cnn.models import registry
    mt.manual_seed(0)
    model = registry.create(name)
    return model.eval()


def _input(name):
    shape = (LENET_BATCH, 1, 28, 28) if name == "lenet5-relu" else (RESNET_BATCH, 3, 224, 224)
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _ours(name, int8):
    def build(device):
        import minitorch_cnn as mt
        from minitorch_cnn.compress import quantize_int8
        model, x = _model(name), mt.tensor(_input(name))
        if int8:
            model = quantize_int8(model, [x])

        def step():
            with mt.no_grad():
                model(x)
        return step
    return build


def _torch_lenet(torch):
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def _torch_resnet18(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            widths = [64, 128, 256, 512]
            for i, w in enumerate(widths):
                cin = widths[max(i - 1, 0)]
                setattr(self, f"layer{i + 1}", nn.Sequential(Block(cin, w, 1 if i == 0 else 2),
                                                            Block(w, w, 1)))
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))
    return ResNet18()


def _theirs(name, int8):
    def build(torch):
        model = (_torch_lenet if name == "lenet5-relu" else _torch_resnet18)(torch)
        ours = list(_model(name).state_dict().values())  # same order, LeNet's names differ
        model.load_state_dict({k: torch.tensor(np.asarray(v.numpy()))
                               for k, v in zip(model.state_dict(), ours)})
        model.eval()
        x = torch.tensor(_input(name))
        if int8:
            from torch.ao.quantization import get_default_qconfig_mapping
            from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
            torch.backends.quantized.engine = "fbgemm"
            prepared = prepare_fx(model, get_default_qconfig_mapping("fbgemm"), (x,))
            with torch.no_grad():
                prepared(x)
            model = convert_fx(prepared)

        def step():
            with torch.no_grad():
                model(x)
        return step
    return build


CASES = [Case(f"{label} inference {kind} (batch {batch})", "int8", 0,
              _ours(name, kind == "int8"), _theirs(name, kind == "int8"))
         for name, label, batch in (("lenet5-relu", "LeNet-5", LENET_BATCH),
                                    ("resnet18", "ResNet-18", RESNET_BATCH))
         for kind in ("float32", "int8")]
