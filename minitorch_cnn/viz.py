"""Pictures: training curves, first-layer filters, feature maps and receptive fields, as PNGs.

matplotlib is an optional extra (``pip install matplotlib``); it is imported only when a plot is
drawn, and its absence is a clear error that names the install command.

    python -m minitorch_cnn.viz curves runs/lenet5/metrics.csv --out curves.png
    python -m minitorch_cnn.viz filters --model LeNet5 --checkpoint runs/lenet5/checkpoint.npz
    python -m minitorch_cnn.viz features --model LeNet5 --checkpoint ... --image 3
    python -m minitorch_cnn.viz receptive-field --layers 3,3,3 --out rf.png
"""
import argparse
import csv
import json
import os
import sys

import numpy as np

MATPLOTLIB = 'pip install matplotlib (or pip install -e ".[plot]")'


def _plt():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"plotting needs matplotlib, an optional extra: {MATPLOTLIB}") \
            from None
    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt
    return plt


def _array(a):
    return a.numpy() if hasattr(a, "numpy") else np.asarray(a)


def _save(fig, out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return out


# --- training curves ----------------------------------------------------------------------------
def read_metrics(path):
    """A metrics file as {column: list of floats}: CSV with a header row, JSON as a list of
    per-epoch objects, an object of lists, or JSON lines. Errors name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"metrics file {path} does not exist")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        if path.endswith(".csv"):
            rows = list(csv.DictReader(text.splitlines()))
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = [json.loads(line) for line in text.splitlines() if line.strip()]
            if isinstance(data, dict) and isinstance(data.get("epochs"), list):
                data = data["epochs"]
            rows = data if isinstance(data, list) else [dict(zip(data, v))
                                                        for v in zip(*data.values())]
        columns = {}
        for row in rows:
            for key, value in row.items():
                if value not in (None, ""):
                    columns.setdefault(key, []).append(float(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"metrics file {path} is malformed ({exc}); expected a CSV with a "
                         "header row or JSON records of numbers per epoch") from None
    if not columns or not any("loss" in k or "acc" in k for k in columns):
        raise ValueError(f"metrics file {path} has no loss or accuracy columns (found: "
                         f"{sorted(columns) or 'nothing'})")
    return columns


def plot_training_curves(metrics, out, title=None):
    """Loss and accuracy against the epoch from a metrics file (or a read_metrics dict)."""
    columns = read_metrics(metrics) if isinstance(metrics, str) else metrics
    plt = _plt()
    n = max(len(v) for v in columns.values())
    epochs = columns.get("epoch", list(range(1, n + 1)))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, kind in zip(axes, ("loss", "acc")):
        for key, values in columns.items():
            if kind in key and "lr" not in key:
                ax.plot(epochs[-len(values):], values, marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.set_title("loss" if kind == "loss" else "accuracy")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    if title:
        fig.suptitle(title, y=1.02)
    return _save(fig, out)


# --- filters and feature maps -------------------------------------------------------------------
def _grid(tiles, cols):
    """Tiles (n, h, w[, 3]) in [0, 1] -> one image with a one-pixel gap (NaN: drawn blank)
    between tiles."""
    n, h, w = tiles.shape[:3]
    rows = -(-n // cols)
    image = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1) + tiles.shape[3:], np.nan)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        image[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = tile
    return image


def _normalize_each(a):
    lo = a.min(axis=tuple(range(1, a.ndim)), keepdims=True)
    hi = a.max(axis=tuple(range(1, a.ndim)), keepdims=True)
    return (a - lo) / np.where(hi > lo, hi - lo, 1)


def plot_filters(weight, out, title=None, cols=None):
    """A grid of a convolution's filters, weight (O, C, kh, kw): in colour when C == 3 (as the
    AlexNet paper's figure of its 96 first-layer kernels), else the channel mean in grey."""
    w = _array(weight)
    if w.ndim != 4:
        raise ValueError(f"plot_filters: expected a weight (O, C, kh, kw), got shape {w.shape}")
    tiles = w.transpose(0, 2, 3, 1) if w.shape[1] == 3 else w.mean(axis=1)
    cols = cols or int(np.ceil(np.sqrt(len(w) * 2)))
    plt = _plt()
    image = _grid(_normalize_each(tiles), cols)
    if w.shape[1] == 3:  # RGB: NaN gaps as white
        image = np.where(np.isnan(image), 1.0, image)
    rows = -(-len(w) // cols)
    fig, ax = plt.subplots(figsize=(min(12, 0.8 * cols + 0.5), min(12, 0.8 * rows + 0.7)))
    ax.imshow(image, cmap=None if w.shape[1] == 3 else "gray", interpolation="nearest")
    ax.axis("off")
    ax.set_title(title or f"{len(w)} filters {w.shape[2]}x{w.shape[3]}x{w.shape[1]}")
    return _save(fig, out)


def plot_feature_maps(maps, out, title=None, cols=8, image=None):
    """A grid of one image's feature maps, (C, H, W) or (1, C, H, W); the input image
    (C, H, W) or (H, W) is drawn first when given."""
    maps = _array(maps)
    maps = maps[0] if maps.ndim == 4 else maps
    if maps.ndim != 3:
        raise ValueError(f"plot_feature_maps: expected maps (C, H, W), got shape {maps.shape}")
    plt = _plt()
    cols = min(cols, len(maps))
    panels = 2 if image is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(3 * panels + 0.4 * cols, 3),
                             gridspec_kw={"width_ratios": [1, 2.5][-panels:]})
    axes = np.atleast_1d(axes)
    if image is not None:
        img = _array(image)
        img = img.transpose(1, 2, 0) if img.ndim == 3 and img.shape[0] == 3 else img.squeeze()
        axes[0].imshow(_normalize_each(img[None])[0], cmap="gray")
        axes[0].set_title("input")
        axes[0].axis("off")
    axes[-1].imshow(_grid(_normalize_each(maps), cols), cmap="viridis", interpolation="nearest")
    axes[-1].axis("off")
    axes[-1].set_title(title or f"{len(maps)} feature maps {maps.shape[1]}x{maps.shape[2]}")
    return _save(fig, out)


# --- receptive fields ---------------------------------------------------------------------------
def receptive_fields(layers):
    """[(name, rf, jump)] for a stack of layers given as (name, kernel, stride[, dilation]):
    rf_out = rf_in + (k - 1) * d * jump_in, jump_out = jump_in * s."""
    rf, jump, rows = 1, 1, []
    for name, k, s, *d in layers:
        rf, jump = rf + (k - 1) * (d[0] if d else 1) * jump, jump * s
        rows.append((name, rf, jump))
    return rows


def plot_receptive_field(layers, out, title=None):
    """The cone of one output unit through a stack of layers (name, kernel, stride[, dilation]),
    in one dimension: the units of every layer below that it depends on, highlighted."""
    plt = _plt()
    fields = receptive_fields(layers)
    rf, top_jump = fields[-1][1], fields[-1][2]
    # positions (in input pixels) of every unit of every level; the input holds three top units
    positions = [np.arange(rf + 2 * top_jump, dtype=float)]
    for _, k, s, *d in layers:
        span = (k - 1) * (d[0] if d else 1)
        below = positions[-1]
        count = (len(below) - span - 1) // s + 1
        positions.append(np.array([(below[u * s] + below[u * s + span]) / 2
                                   for u in range(count)]))
    cone = [{1}]                           # the middle unit on top, then downwards
    for _, k, s, *d in reversed(layers):
        cone.append({u * s + t * (d[0] if d else 1) for u in cone[-1] for t in range(k)})
    cone = cone[::-1]
    names = ["input"] + [f"{name}: rf {r}, jump {j}" for name, r, j in fields]
    fig, ax = plt.subplots(figsize=(max(6, 0.3 * len(positions[0])), 0.6 * len(names) + 0.8))
    for level, xs in enumerate(positions):
        for u, x in enumerate(xs):
            ax.add_patch(plt.Rectangle((x - 0.4, level - 0.3), 0.8, 0.6,
                                       color="tab:orange" if u in cone[level] else "0.85"))
        ax.text(-1, level, names[level], ha="right", va="center", fontsize=9)
    ax.set_xlim(-0.6, len(positions[0]) - 0.4)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.axis("off")
    ax.set_title(title or f"one unit on top sees {rf} input pixels")
    return _save(fig, out)


def plot_receptive_field_growth(rows, out, title=None):
    """Receptive field against depth for several stacks: rows maps a label to
    [(name, rf, jump)] (receptive_fields's output, or summary rows' receptive_field)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for label, fields in rows.items():
        ax.plot(range(1, len(fields) + 1), [f[1] for f in fields], marker="o", label=label)
    ax.set_xlabel("layer")
    ax.set_ylabel("receptive field (pixels)")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title or "receptive field growth")
    return _save(fig, out)


# --- command line -------------------------------------------------------------------------------
def load_state(path):
    """The model's state dict in a file written by ``mt.save``: a bare state dict, or a training
    checkpoint holding one under "model"."""
    from .serialization import load
    state = load(path)
    for key in ("model", "model_state", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            return state[key]
    return state


def _model(name, checkpoint):
    """The model of ``checkpoint`` (the one its stored spec names; a ``name`` contradicting it
    is an error), or ``name`` (default LeNet5) untrained or with a file's bare weights."""
    from .models import registry
    from .models import spec
    if not checkpoint:
        return registry.create(name or "LeNet5").eval()
    model = spec.build(spec.resolve(checkpoint, name))
    model.load_state_dict(load_state(checkpoint))
    return model.eval()


def first_conv(model):
    """(name, module) of the model's first Conv2d."""
    for name, module in model.named_modules():
        if type(module).__name__ == "Conv2d":
            return name, module
    raise ValueError(f"{type(model).__name__} has no Conv2d layer")


def sample_digit(index=0):
    """(image (1, 1, 28, 28) in [0, 1], label) from the bundled MNIST sample's test split."""
    from .data import MNISTSample
    from .tensor import Tensor
    image, label = MNISTSample(train=False)[index]
    image = np.asarray(_array(image), dtype=np.float32)
    if image.dtype == np.uint8 or image.max() > 1.5:
        image = image / 255.0
    return Tensor(image.reshape(1, 1, *image.shape[-2:])), int(label)


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
    p = sub.add_parser("receptive-field", help="the receptive field of a stack of layers")
    p.add_argument("--layers", default="3,3,3",
                   help="kernel[/stride[/dilation]] per layer, comma separated")
    p.add_argument("--out", default="receptive_field.png")
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
    if args.what in ("filters", "features"):
        model = _model(args.model, args.checkpoint)
        args.model = model.model_spec["name"]
        name, conv = first_conv(model)
        if args.what == "filters":
            return plot_filters(conv.weight, args.out, title=f"{args.model} {name}")
        from .autograd import no_grad
        x, label = sample_digit(args.image)
        maps = []  # what the layer gives inside the whole model, taken with a forward hook
        with no_grad(), conv.register_forward_hook(lambda m, inputs, out: maps.append(out)):
            model.eval()(x)
        maps = maps[0]
        return plot_feature_maps(maps, args.out, image=x[0, 0],
                                 title=f"{args.model} {name} on a test digit ({label})")
    layers = []
    for i, spec in enumerate(args.layers.split(",")):
        k, s, d = (list(map(int, spec.split("/"))) + [1, 1])[:3]
        layers.append((f"layer {i + 1} ({k}x{k}/{s}" + (f", d{d})" if d > 1 else ")"), k, s, d))
    return plot_receptive_field(layers, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
