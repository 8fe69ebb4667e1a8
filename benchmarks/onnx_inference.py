"""Inference latency of ResNet-18, MobileNetV2 and LeNet-5 at batch 1 and 32: this package vs
ONNX Runtime (CPU, on the graph ``mt.onnx.export`` writes) vs PyTorch, in one run::

    python -m benchmarks.onnx_inference [--repeat 5] [--threads 2] [--models resnet18 ...]

ONNX Runtime is also timed at each graph-optimization level (none, basic: constant folding and
Conv+BatchNorm folding, extended: Conv/Gemm+activation fusion, all: the NCHWc blocked layout),
which splits its lead into those parts, and our forward is split by op (``Function`` class)
from one traced call. The PyTorch side runs in a child process (``benchmarks/torch_side.py``
says why) and needs torchvision for the two ImageNet models; without it the column is "-".
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from .harness import median_ms

MODELS = {"resnet18": (3, 224, 224), "mobilenet_v2": (3, 224, 224), "LeNet5": (1, 28, 28)}
LEVELS = ("DISABLE_ALL", "ENABLE_BASIC", "ENABLE_EXTENDED", "ENABLE_ALL")


def _torch_model(torch, name):
    if name == "LeNet5":  # the classic LeNet-5 of minitorch_cnn.models.LeNet5
        t = torch.nn
        return t.Sequential(t.Conv2d(1, 6, 5, padding=2), t.Sigmoid(), t.AvgPool2d(2),
                            t.Conv2d(6, 16, 5), t.Sigmoid(), t.AvgPool2d(2), t.Flatten(),
                            t.Linear(400, 120), t.Sigmoid(), t.Linear(120, 84), t.Sigmoid(),
                            t.Linear(84, 10))
    import torchvision
    return getattr(torchvision.models, name)(weights=None)


def torch_side(name, batch, repeat, threads):
    import torch
    torch.set_num_threads(threads)
    try:
        model = _torch_model(torch, name).eval()
    except ImportError:
        return None
    x = torch.randn(batch, *MODELS[name])
    with torch.inference_mode():
        return median_ms(lambda: model(x), repeat)


def _torch_ms(name, batch, repeat, threads):
    out = subprocess.run([sys.executable, "-m", "benchmarks.onnx_inference", "--torch-side",
                          name, str(batch), "--repeat", str(repeat), "--threads", str(threads)],
                         capture_output=True, text=True)
    if out.returncode:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["ms"]


def _op_split(mt, model, x):
    """Seconds spent in each Function class during one forward (from a patched apply)."""
    from minitorch_cnn import autograd
    spent = collections.Counter()
    original = autograd.Function.__dict__["apply"]

    def timed(cls, *args, **params):
        start = time.perf_counter()
        try:
            return original.__func__(cls, *args, **params)
        finally:
            spent[cls.__name__] += time.perf_counter() - start

    autograd.Function.apply = classmethod(timed)
    try:
        with mt.no_grad():
            model(x)
    finally:
        autograd.Function.apply = original
    total = sum(spent.values())
    return {k: round(100 * v / total) for k, v in spent.most_common(4)}


def run(names, batches, repeat, threads):
    import onnxruntime as ort

    import minitorch_cnn as mt
    from minitorch_cnn.models import registry
    rows = []
    folder = tempfile.mkdtemp(prefix="onnx-bench-")
    for name in names:
        mt.manual_seed(0)
        model = registry.create(name).eval()
        path = os.path.join(folder, f"{name}.onnx")
        mt.onnx.export(model, mt.randn(1, *MODELS[name]), path)
        sessions = {}
        for level in LEVELS:
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
            options.graph_optimization_level = getattr(ort.GraphOptimizationLevel,
                                                       f"ORT_{level}")
            sessions[level] = ort.InferenceSession(path, options,
                                                   providers=["CPUExecutionProvider"])
        for batch in batches:
            x = mt.randn(batch, *MODELS[name])
            feed = {"input": x.numpy()}
            with mt.no_grad():
                ours = median_ms(lambda: model(x), repeat)
            ort_ms = {level: median_ms(lambda s=s: s.run(None, feed), repeat)
                      for level, s in sessions.items()}
            row = {"model": name, "batch": batch, "ours_ms": ours, "ort_ms": ort_ms,
                   "torch_ms": _torch_ms(name, batch, repeat, threads),
                   "ours_by_op_percent": _op_split(mt, model, x)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def _ms(v):
    return "-" if v is None else f"{v:.2f}" if v < 10 else f"{v:.1f}"


def table(rows):
    lines = ["| model | batch | ours ms | ORT ms | torch ms | ours / ORT | ours / torch | "
             "ORT none / basic / extended / all ms | ours by op |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        o, t = r["ort_ms"], r["torch_ms"]
        vs_torch = "-" if t is None else f"{r['ours_ms'] / t:.2f}"
        levels = " / ".join(_ms(o[level]) for level in LEVELS)
        split = ", ".join(f"{k.removesuffix('Fn')} {v}%"
                          for k, v in r["ours_by_op_percent"].items())
        lines.append(f"| {r['model']} | {r['batch']} | {_ms(r['ours_ms'])} | "
                     f"{_ms(o['ENABLE_ALL'])} | {_ms(t)} | "
                     f"{r['ours_ms'] / o['ENABLE_ALL']:.1f} | {vs_torch} | {levels} | {split} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.onnx_inference", description=__doc__)
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 32])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=2, help="ORT's and torch's threads")
    p.add_argument("--json", help="also write the rows to this file")
    p.add_argument("--torch-side", nargs=2, metavar=("MODEL", "BATCH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.torch_side:
        name, batch = args.torch_side
        print(json.dumps({"ms": torch_side(name, int(batch), args.repeat, args.threads)}))
        return
    rows = run(args.models, args.batches, args.repeat, args.threads)
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
