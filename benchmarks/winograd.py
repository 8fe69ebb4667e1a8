"""Winograd F(2x2, 3x3) and F(4x4, 3x3) (``minitorch_cnn/ops/winograd.py``): their float32
error on the zoo's 3x3 layers, and their speed against im2col + GEMM, in one run::

    python -m benchmarks.winograd error [--batch 1]
    python -m benchmarks.winograd speed [--repeat 9] [--threads 2]
    python -m benchmarks.winograd small [--repeat 9] [--threads 2]

``error``: for each stride-1 3x3 layer shape of VGG-16 and ResNet-18/50 (224x224 input; batch 1
at full size: the error of a tile does not depend on the batch), He-initialised weights
(normal, std sqrt(2 / (9 C))) and ReLU-like inputs (relu of a standard normal; the first VGG
layer gets the normal itself, as an image), the float32 forward and input gradient (upstream
gradient standard normal) of im2col, F(2x2) and F(4x4) against a float64 im2col of the same
float32 numbers: ``max |err| / max |ref|`` and ``||err|| / ||ref||``.

``speed``: forward, and forward + input gradient, of im2col (``ops.conv.conv_forward``,
``conv_backward`` with need_w=False) and of F(2x2), F(4x4), float32, on the benchmark layers;
the variants are interleaved within each repeat (the machine may be shared) and the medians and
the ratios im2col / Winograd (> 1: Winograd is faster) are printed. ``small``: the forward
the same way on small batches of small maps, where the filter transform does not amortise
(what ``winograd.choose_m``'s F(2x2)/F(4x4) thresholds come from).
"""
import argparse
import statistics
import time

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn.ops import conv, winograd

CPU = mt.device("cpu")

# (name, C, O, H = W) of the stride-1 3x3 layers (ResNet-50's 3x3 bottleneck layers have the
# same shapes as ResNet-18's)
ZOO_LAYERS = [
    ("vgg16 conv1_1", 3, 64, 224), ("vgg16 conv1_2", 64, 64, 224),
    ("vgg16 conv2_1", 64, 128, 112), ("vgg16 conv2_2", 128, 128, 112),
    ("vgg16 conv3_1", 128, 256, 56), ("vgg16 conv3_2/3", 256, 256, 56),
    ("vgg16 conv4_1", 256, 512, 28), ("vgg16 conv4_2/3", 512, 512, 28),
    ("vgg16 conv5_x", 512, 512, 14),
    ("resnet layer1", 64, 64, 56), ("resnet layer2", 128, 128, 28),
    ("resnet layer3", 256, 256, 14), ("resnet layer4", 512, 512, 7),
]
# beyond the zoo: where the rule's bound on C comes from, and raw 0..255 pixels into conv1_1
EXTRA_LAYERS = [("wider", 1024, 256, 14), ("wider", 2048, 256, 7),
                ("conv1_1 0..255", 3, 64, 224)]
# (name, N, C, O, H = W) of the benchmark layers (benchmarks/cases/conv.py)
SMALL_LAYERS = [(1, 512, 7), (8, 512, 7), (16, 512, 7), (32, 512, 7), (1, 256, 14),
                (4, 256, 14), (8, 256, 14), (1, 128, 28), (1, 64, 28), (1, 64, 56)]
SPEED_LAYERS = [("vgg 3x3", 8, 64, 128, 112), ("resnet 3x3", 32, 64, 64, 56),
                ("late 3x3", 32, 512, 512, 7)]


def _geometry(h):
    return conv.conv_geometry("conv2d", (h, h), (3, 3), (1, 1), (1, 1), (1, 1))


def _errors(got, ref):
    err = got.astype(np.float64) - ref
    return np.abs(err).max() / np.abs(ref).max(), np.linalg.norm(err) / np.linalg.norm(ref)


def error_table(batch):
    rng = np.random.default_rng(0)
    algos = ("im2col", "F(2x2)", "F(4x4)")
    print(f"{'':<30}" + "".join(f"{title:^27}" for title in (
        "forward max-rel", "forward L2-rel", "input grad max-rel")))
    print(f"{'layer':<18}{'C':>4}{'O':>4}{'H':>4}" + "".join(f"{a:>9}" for a in algos) * 3)
    for name, c, o, h in ZOO_LAYERS + EXTRA_LAYERS:
        x = rng.standard_normal((batch, c, h, h)).astype(np.float32)
        if "255" in name:
            x = rng.integers(0, 256, x.shape).astype(np.float32)
        elif c != 3:
            x = np.maximum(x, 0)
        w = (rng.standard_normal((o, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
        g = _geometry(h)
        gy = rng.standard_normal((batch, o, h, h)).astype(np.float32)
        x64, w64, gy64 = (a.astype(np.float64) for a in (x, w, gy))
        ref = conv.conv_forward(x64, w64, 1, g, CPU)
        gref, _ = conv.conv_backward(None, w64, gy64, 1, g, CPU, x.shape, True, False)
        fwd = [_errors(conv.conv_forward(x, w, 1, g, CPU), ref)]
        bwd = [_errors(conv.conv_backward(None, w, gy, 1, g, CPU, x.shape, True, False)[0],
                       gref)]
        for m in (2, 4):
            fwd.append(_errors(winograd.forward(x, w, g, m, CPU), ref))
            bwd.append(_errors(winograd.input_grad(gy, w, g, m, CPU, x.shape), gref))
        cells = [e for e, _ in fwd] + [l2 for _, l2 in fwd] + [e for e, _ in bwd]
        print(f"{name:<18}{c:>4}{o:>4}{h:>4}" + "".join(f"{e:>9.1e}" for e in cells),
              flush=True)


def _medians_ms(steps, repeat):
    """Median times (ms) of the steps, interleaved in a rotating order within each repeat."""
    times = {k: [] for k in steps}
    for step in steps.values():  # warm-up: compilation, workspaces
        step()
    for r in range(repeat):
        keys = list(steps)
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            t0 = time.perf_counter()
            steps[k]()
            times[k].append(time.perf_counter() - t0)
    return {k: 1e3 * statistics.median(v) for k, v in times.items()}


def small_table(repeat, n_threads):
    mt.set_num_threads(n_threads)
    rng = np.random.default_rng(0)
    print(f"forward, float32, {n_threads} threads, median of {repeat} interleaved runs (ms); "
          "ratio = im2col / winograd")
    for n, c, h in SMALL_LAYERS:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((c, c, 3, 3)) * 0.05).astype(np.float32)
        g = _geometry(h)
        ms = _medians_ms({"im2col": lambda: conv.conv_forward(x, w, 1, g, CPU),
                          "F2": lambda: winograd.forward(x, w, g, 2, CPU),
                          "F4": lambda: winograd.forward(x, w, g, 4, CPU)}, repeat)
        print(f"({n},{c},{h},{h})->{c} ({n * h * h} px): im2col {ms['im2col']:.1f}, F2 x"
              f"{ms['im2col'] / ms['F2']:.2f}, F4 x{ms['im2col'] / ms['F4']:.2f}, choose_m "
              f"{winograd.choose_m(w.shape, x.shape, x.dtype)}", flush=True)


def speed_table(repeat, n_threads):
    mt.set_num_threads(n_threads)
    rng = np.random.default_rng(0)
    print(f"float32, {n_threads} threads, median of {repeat} interleaved runs (ms); ratio = "
          "im2col / winograd")
    for name, n, c, o, h in SPEED_LAYERS:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((o, c, 3, 3)) * 0.05).astype(np.float32)
        gy = rng.standard_normal((n, o, h, h)).astype(np.float32)
        g = _geometry(h)
        steps = {
            "im2col fwd": lambda: conv.conv_forward(x, w, 1, g, CPU),
            "F2 fwd": lambda: winograd.forward(x, w, g, 2, CPU),
            "F4 fwd": lambda: winograd.forward(x, w, g, 4, CPU),
            "im2col fwd+gx": lambda: (conv.conv_forward(x, w, 1, g, CPU), conv.conv_backward(
                None, w, gy, 1, g, CPU, x.shape, True, False)),
            "F2 fwd+gx": lambda: (winograd.forward(x, w, g, 2, CPU),
                                  winograd.input_grad(gy, w, g, 2, CPU, x.shape)),
            "F4 fwd+gx": lambda: (winograd.forward(x, w, g, 4, CPU),
                                  winograd.input_grad(gy, w, g, 4, CPU, x.shape)),
        }
        ms = _medians_ms(steps, repeat)
        print(f"{name} ({n},{c},{h},{h})->{o}: " + ", ".join(
            f"{k} {v:.1f}" for k, v in ms.items()))
        for kind in ("fwd", "fwd+gx"):
            base = ms[f"im2col {kind}"]
            print(f"    {kind}: F2 x{base / ms[f'F2 {kind}']:.2f}, "
                  f"F4 x{base / ms[f'F4 {kind}']:.2f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.winograd", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["error", "speed", "small"])
    parser.add_argument("--batch", type=int, default=1, help="batch of the error table")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.what == "error":
        error_table(args.batch)
    elif args.what == "speed":
        speed_table(args.repeat, args.threads)
    else:
        small_table(args.repeat, args.threads)


if __name__ == "__main__":
    main()
