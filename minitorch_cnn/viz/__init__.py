"""Pictures: training curves, first-layer filters, feature maps and receptive fields, as PNGs.

matplotlib is an optional extra (``pip install matplotlib``); it is imported only when a plot is
drawn, and its absence is a clear error that names the install command.

    python -m minitorch_cnn.viz curves runs/lenet5/metrics.csv --out curves.png
    python -m minitorch_cnn.viz filters --model LeNet5 --checkpoint runs/lenet5/checkpoint.npz
    python -m minitorch_cnn.viz features --model LeNet5 --checkpoint ... --image 3
    python -m minitorch_cnn.viz receptive-field --layers 3,3,3 --out rf.png
    python -m minitorch_cnn.viz nas runs/nas-reinforce runs/nas-random --out nas.png
    python -m minitorch_cnn.viz reconstructions --model capsnet-small --checkpoint CKPT
    python -m minitorch_cnn.viz perturbations --model capsnet-small --checkpoint CKPT --image 3
"""
import argparse
import sys

import numpy as np

from .capsules import (PERTURBATIONS, capsule_perturbations, plot_capsule_perturbations,
                       plot_reconstructions, run_capsnet)
from .common import MATPLOTLIB, first_conv, load_state, model_from, sample_digit
from .figures import (plot_feature_maps, plot_filters, plot_receptive_field,
                      plot_receptive_field_growth, plot_training_curves, read_metrics,
                      receptive_fields)
from .nas import plot_nas_searches

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minitorch_cnn.viz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("curves", help="loss and accuracy curves from a metrics file")
    p.add_argument("metrics")
    p.add_argument("--out", default="curves.png")
    for what, help_text in [("filters", "the first convolution's filters of a model"),
                            ("features", "the first convolution's feature maps of a test digit "
                                         "of the bundled MNIST sample")]:
        p = sub.add_parser(what, help=help_text)
        p.add_argument("--model", help="a zoo model (default: the checkpoint's own model, "
                                        "LeNet5 without one)")
        p.add_argument("--checkpoint", help="a state dict or checkpoint written by mt.save")
        p.add_argument("--out", default=f"{what}.png")
        if what == "features":
            p.add_argument("--image", type=int, default=0, help="index in the test split")
    for what, help_text in [("reconstructions", "a CapsNet's reconstructions of test digits of "
                                                "the bundled MNIST sample"),
                            ("perturbations", "the CapsNet paper's Figure 4: a test digit's "
                                              "winning capsule perturbed, dimension by "
                                              "dimension, and decoded")]:
        p = sub.add_parser(what, help=help_text)
        p.add_argument("--model", default="capsnet-small")
        p.add_argument("--checkpoint", help="a state dict or checkpoint written by mt.save")
        p.add_argument("--out", default=f"{what}.png")
        if what == "reconstructions":
            p.add_argument("--images", type=int, default=8, help="the first N test digits")
        else:
            p.add_argument("--image", type=int, default=0, help="index in the test split")
    p = sub.add_parser("receptive-field", help="the receptive field of a stack of layers")
    p.add_argument("--layers", default="3,3,3",
                   help="kernel[/stride[/dilation]] per layer, comma separated")
    p.add_argument("--out", default="receptive_field.png")
    p = sub.add_parser("nas", help="best-so-far reward against trials of architecture searches")
    p.add_argument("folders", nargs="+", metavar="DIR", help="folders written by the nas command")
    p.add_argument("--out", default="nas.png")
    args = parser.parse_args(argv)
    try:
        print(_run(args))
    except (FileNotFoundError, ValueError, KeyError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

def _run(args):
    if args.what == "curves":
        return plot_training_curves(args.metrics, args.out)
    if args.what == "nas":
        return plot_nas_searches(args.folders, args.out)
    if args.what in ("filters", "features"):
        model = model_from(args.model, args.checkpoint)
        args.model = model.model_spec["name"]
        name, conv = first_conv(model)
        if args.what == "filters":
            return plot_filters(conv.weight, args.out, title=f"{args.model} {name}")
        from ..autograd import no_grad
        x, label = sample_digit(args.image)
        maps = []  # what the layer gives inside the whole model, taken with a forward hook
        with no_grad(), conv.register_forward_hook(lambda m, inputs, out: maps.append(out)):
            model.eval()(x)
        maps = maps[0]
        return plot_feature_maps(maps, args.out, image=x[0, 0],
                                 title=f"{args.model} {name} on a test digit ({label})")
    if args.what in ("reconstructions", "perturbations"):
        return run_capsnet(args)
    layers = []
    for i, spec in enumerate(args.layers.split(",")):
        k, s, d = (list(map(int, spec.split("/"))) + [1, 1])[:3]
        layers.append((f"layer {i + 1} ({k}x{k}/{s}" + (f", d{d})" if d > 1 else ")"), k, s, d))
    return plot_receptive_field(layers, args.out)
