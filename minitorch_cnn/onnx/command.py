"""The ``export`` command, and ``evaluate`` of an ``.onnx`` file (command-level code: it uses
``train``'s data pipeline).

``python -m minitorch_cnn export CKPT --out model.onnx [--input C H W]`` rebuilds the model of a
checkpoint through the registry (its ``model_spec`` when it has one, else the ``args`` it was
trained with, as ``evaluate`` does; ``--model`` for a bare state dict), loads the weights and
writes the ONNX file. The example input is ``--input`` or else one image of the training data
set (its size and channels as the model saw them), or the registry's input size.
"""
import argparse
import sys

import numpy as np

from .. import creation
from ..models import registry
from ..serialization import load as load_checkpoint


def _from_data(saved, model_name):
    """The model as ``train`` built it for its data set, and the (C, H, W) of that data."""
    from ..command_data import build_data
    config = argparse.Namespace(**(saved or {}))
    config.model = model_name or getattr(config, "model", None)
    config.dataset = getattr(config, "dataset", ["mnist-sample"])
    for key, default in (("image_size", None), ("augment", False), ("seed", 0), ("limit", 0),
                         ("val_fraction", 0.0)):
        setattr(config, key, getattr(config, key, default))
    config.test_limit = 1
    _, _, test_set, num_classes, channels = build_data(config)
    model = registry.create_for_data(config.model, num_classes, channels)
    return model, tuple(test_set[0][0].shape)


def _rebuild(path, model_name):
    """(model with the checkpoint's weights, (C, H, W) of its data or None). A bare state dict
    is tried on ``model_name`` as the registry builds it, then as ``train`` builds it for the
    bundled MNIST sample."""
    ckpt = load_checkpoint(path)
    full = isinstance(ckpt, dict) and isinstance(ckpt.get("model"), dict)
    state = ckpt["model"] if full else ckpt
    spec = ckpt.get("model_spec") if full else None
    saved = ckpt.get("args") if full else None
    if spec and not model_name:
        candidates = [lambda: (registry.create(spec["name"], **spec.get("kwargs", {})), None)]
    elif saved:
        candidates = [lambda: _from_data(saved, model_name)]
    elif model_name:
        candidates = [lambda: (registry.create(model_name), None),
                      lambda: _from_data(None, model_name)]
    else:
        raise ValueError(f"{path} is a bare state dict: say which model with --model")
    for i, build in enumerate(candidates):
        model, size = build()
        try:
            model.load_state_dict(state)
            return model, size
        except ValueError:
            if i == len(candidates) - 1:
                raise


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn export",
                                description="Write a checkpoint's model as an ONNX file "
                                            "(checked; runs in ONNX Runtime).")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--out", required=True, metavar="FILE.onnx")
    p.add_argument("--input", nargs=3, type=int, metavar=("C", "H", "W"),
                   help="input size (default: the checkpoint's data, else the model's own)")
    p.add_argument("--model", help="the registry name, for a bare state dict (model.npz)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--fixed-batch", action="store_true",
                   help="batch size fixed at 1 instead of symbolic")
    args = p.parse_args(argv)
    from .exporter import export
    try:
        model, size = _rebuild(args.checkpoint, args.model)
        size = tuple(args.input) if args.input else size or registry.input_size(
            model.model_spec["name"])
        if len(size) != 3 or min(size) < 1:
            raise ValueError(f"--input: expected positive C H W, got {size}")
        x = creation.tensor(np.zeros((1, *size), np.float32))
        proto = export(model.eval(), x, args.out, opset=args.opset,
                       dynamic_batch=not args.fixed_batch)
    except (ValueError, FileNotFoundError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.out}: {type(model).__name__}, input (N, {', '.join(map(str, size))}), "
          f"{len(proto.graph.node)} nodes, opset {args.opset}")
    return 0


def evaluate_onnx(args, build_data, run_epoch):
    """``evaluate FILE.onnx``: the graph imported by ``load`` on the test split of
    ``--dataset`` (default the bundled MNIST sample), resized to the graph's input size; grey
    images are repeated in three channels for a graph that takes RGB. CPU only: the graph's
    constants stay NumPy arrays."""
    from ..data import DataLoader
    from ..ops.functions import cat
    from .importer import load
    if str(args.device) != "cpu":
        raise ValueError(f"evaluate {args.checkpoint}: an imported ONNX graph runs on the CPU "
                         f"only, got --device {args.device}")
    model = load(args.checkpoint)
    dims = model.input_shape(0)
    config = argparse.Namespace(dataset=args.dataset or ["mnist-sample"], model="LeNet5",
                                augment=False, seed=0, limit=0, val_fraction=0.0,
                                test_limit=args.limit, image_size=None)
    if len(dims) == 4 and isinstance(dims[2], int) and dims[2] == dims[3]:
        config.image_size = dims[2]
    _, _, test_set, _, channels = build_data(config)
    if len(dims) == 4 and dims[1] == 3 and channels == 1:
        graph = model
        model = _GreyToRGB(graph, cat)
    loader = DataLoader(test_set, args.batch_size)
    loss, top1, top5 = run_epoch(model, loader, args.device, desc="test")
    print(f"{args.checkpoint}: {len(test_set)} test images, loss {loss:.4f}")
    print(f"top-1 accuracy: {top1:.4f}")
    print(f"top-5 accuracy: {top5:.4f}")
    return 0


class _GreyToRGB:
    """A callable model that repeats a one-channel batch three times before ``graph``."""

    def __init__(self, graph, cat):
        self.graph, self.cat = graph, cat

    def train(self, mode=True):
        self.graph.train(mode)
        return self

    def __call__(self, x):
        return self.graph(self.cat([x, x, x], axis=1))
