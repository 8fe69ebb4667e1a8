"""Make the guide's pictures (docs/figures/*.png) from the bundled data.

    python docs/figures/make_figures.py                  # trains LeNet-5 with the train command
    python docs/figures/make_figures.py --run runs/train  # or uses a finished run's folder

Needs matplotlib (``pip install matplotlib``). The training pictures come from one run of
``python -m minitorch_cnn.train`` (LeNet-5 on the MNIST sample shipped in the package): its
metrics file gives the curves, its checkpoint the first layer's filters and the feature maps of
one test digit. The receptive-field pictures need no training.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import minitorch_cnn as mt
from minitorch_cnn import viz

HERE = os.path.dirname(os.path.abspath(__file__))


def receptive_field_pictures():
    viz.plot_receptive_field([("conv 3x3", 3, 1)] * 3,
                             os.path.join(HERE, "receptive_field_3x3.png"),
                             title="three stacked 3x3 convolutions see 7 pixels (two see 5)")
    dilated = viz.receptive_fields([(f"3x3 d{d}", 3, 1, d) for d in (1, 1, 2, 4, 8, 16, 1)])
    plain = viz.receptive_fields([("3x3", 3, 1)] * 7)
    pooled = viz.receptive_fields([("3x3", 3, 1), ("pool", 2, 2)] * 3 + [("3x3", 3, 1)])
    viz.plot_receptive_field_growth(
        {"dilated context module (Yu & Koltun)": dilated, "plain 3x3 stack": plain,
         "3x3 conv + 2x2 pool, alternating": pooled},
        os.path.join(HERE, "receptive_field_growth.png"),
        title="receptive field against depth")


def train(out, epochs):
    command = [sys.executable, "-m", "minitorch_cnn.train", "--model", "lenet5-relu",
               "--epochs", str(epochs), "--seed", "0", "--out", out]
    print("running:", " ".join(command))
    subprocess.run(command, check=True)


def _find(run, patterns, what):
    for pattern in patterns:
        found = sorted(glob.glob(os.path.join(run, pattern)))
        if found:
            return found[-1]
    raise FileNotFoundError(f"no {what} in {run} (looked for {', '.join(patterns)})")


def training_pictures(run):
    metrics = _find(run, ["metrics.csv", "metrics.json", "*.csv", "*.json"], "metrics file")
    viz.plot_training_curves(metrics, os.path.join(HERE, "training_curves.png"),
                             title="LeNet-5 on the bundled MNIST sample")
    from minitorch_cnn.models import LeNet5
    checkpoint = _find(run, ["model.npz", "last.npz", "*.npz"], "checkpoint")
    model = LeNet5(variant="relu")
    model.load_state_dict(viz.load_state(checkpoint))
    model.eval()
    name, conv = viz.first_conv(model)
    viz.plot_filters(conv.weight, os.path.join(HERE, "lenet5_filters.png"), cols=6,
                     title=f"LeNet-5's {len(conv.weight)} learned first-layer filters (5x5)")
    x, label = viz.sample_digit(0)
    with mt.no_grad():
        maps = conv(x)
    viz.plot_feature_maps(maps, os.path.join(HERE, "lenet5_feature_maps.png"), cols=6,
                          image=x[0, 0], title=f"the first layer's {maps.shape[1]} feature maps "
                                               f"of a test digit ({label})")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a finished run's folder (default: train one now)")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    receptive_field_pictures()
    if args.run:
        training_pictures(args.run)
    else:
        with tempfile.TemporaryDirectory() as out:
            train(out, args.epochs)
            training_pictures(out)
    print("written:", ", ".join(sorted(os.path.basename(p)
                                       for p in glob.glob(os.path.join(HERE, "*.png")))))


if __name__ == "__main__":
    main()
