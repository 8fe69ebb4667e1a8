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
import csv
import json
import os
import sys

import numpy as np

MATPLOTLIB = "pip install matplotlib"


def _plt():
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError(f"plotting needs matplotlib, an optional extra: {MATPLOTLIB}") \
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


# --- capsules (CapsNet, Sabour et al. 2017) ----------------------------------------------------
PERTURBATIONS = np.round(np.arange(-5, 6) * 0.05, 2)  # the paper's Figure 4: -0.25 .. 0.25


def capsule_perturbations(model, image, deltas=PERTURBATIONS):
    """The paper's Figure 4: (images (D, len(deltas), H, W), the winning class) decoded from
    ``image``'s (1, C, H, W) longest class capsule with each of its D dimensions in turn moved
    by each of ``deltas`` (the first channel when C > 1)."""
    from .autograd import no_grad
    from .tensor import Tensor
    with no_grad():
        out = model.eval()(image)
        k = int(out.lengths.numpy()[0].argmax())
        v = out.capsules.numpy()[0]                                   # (classes, D)
        d, m = v.shape[1], len(deltas)
        caps = np.repeat(v[None], d * m, axis=0).reshape(d, m, *v.shape)
        for i in range(d):
            caps[i, :, k, i] += deltas
        images = model.reconstruct(Tensor(caps.reshape(d * m, *v.shape)), np.full(d * m, k))
    side = image.shape[-1]
    return images.numpy().reshape(d, m, -1, image.shape[-2], side)[:, :, 0], k


def plot_capsule_perturbations(images, out, deltas=PERTURBATIONS, title=None):
    """A grid of ``capsule_perturbations``'s images: one row per capsule dimension, one column
    per perturbation."""
    images = _array(images)
    plt = _plt()
    d, m = images.shape[:2]
    fig, ax = plt.subplots(figsize=(0.55 * m + 1, 0.55 * d + 0.8))
    ax.imshow(_grid(images.reshape(d * m, *images.shape[2:]), m), cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    h, w = images.shape[2:]
    ax.set_xticks([(w + 1) * j + w / 2 for j in range(m)], [f"{x:+.2f}" for x in deltas],
                  fontsize=7, rotation=90)
    ax.set_yticks([(h + 1) * i + h / 2 for i in range(d)], [str(i) for i in range(d)],
                  fontsize=7)
    ax.set_xlabel("perturbation")
    ax.set_ylabel("capsule dimension")
    ax.set_title(title or "each dimension of the winning capsule perturbed, decoded")
    return _save(fig, out)


def plot_reconstructions(images, reconstructions, out, labels=None, predictions=None,
                         title=None):
    """Inputs (n, H, W) in the top row, their reconstructions (n, H, W) below, captioned with
    the label and the prediction when given."""
    images, reconstructions = _array(images), _array(reconstructions)
    plt = _plt()
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.6), squeeze=False)
    for i in range(n):
        for row, picture in ((0, images[i]), (1, reconstructions[i])):
            axes[row, i].imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[row, i].set_xticks([])
            axes[row, i].set_yticks([])
        if labels is not None:
            caption = f"{labels[i]}" + ("" if predictions is None else f" -> {predictions[i]}")
            axes[0, i].set_title(caption, fontsize=8)
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("reconstruction")
    fig.suptitle(title or "inputs and their reconstructions from the winning capsule", y=1.02)
    return _save(fig, out)


def _mnist_normalized(image):
    """A [0, 1] digit normalised as ``train`` normalises MNIST for the model."""
    from .train import STATS
    (mean,), (std,) = STATS["mnist"]
    return (image - mean) / std


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
    from .models import registry
    model = registry.create(name)
    if checkpoint:
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


# --- architecture searches ---------------------------------------------------------------------
def plot_nas_searches(folders, out, title=None):
    """Best-so-far reward against trials for the searches in ``folders`` (their
    ``trials.jsonl``), each trial's own reward as a dot: strategies compared on one budget."""
    from .nas.trials import TRIALS, read_trials
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for folder in folders:
        records = read_trials(os.path.join(folder, TRIALS))
        if not records:
            raise ValueError(f"{os.path.join(folder, TRIALS)} holds no trials")
        trial = np.arange(1, len(records) + 1)
        reward = np.array([r["reward"] for r in records])
        strategy, name = records[0].get("strategy", "?"), os.path.basename(
            os.path.normpath(folder))
        label = strategy if name == strategy else f"{strategy} ({name})"
        line, = ax.step(trial, np.maximum.accumulate(reward), where="post", label=label)
        ax.plot(trial, reward, ".", color=line.get_color(), alpha=0.4)
    ax.set_xlabel("trial")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("validation accuracy (best so far; dots: each child)")
    ax.set_title(title or "architecture search")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, out)


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
        p.add_argument("--model", default="LeNet5")
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
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _run(args):
    if args.what == "curves":
        return plot_training_curves(args.metrics, args.out)
    if args.what == "nas":
        return plot_nas_searches(args.folders, args.out)
    if args.what in ("filters", "features"):
        name, conv = first_conv(_model(args.model, args.checkpoint))
        if args.what == "filters":
            return plot_filters(conv.weight, args.out, title=f"{args.model} {name}")
        from .autograd import no_grad
        x, label = sample_digit(args.image)
        with no_grad():
            maps = conv(x)
        return plot_feature_maps(maps, args.out, image=x[0, 0],
                                 title=f"{args.model} {name} on a test digit ({label})")
    if args.what in ("reconstructions", "perturbations"):
        return _run_capsnet(args)
    layers = []
    for i, spec in enumerate(args.layers.split(",")):
        k, s, d = (list(map(int, spec.split("/"))) + [1, 1])[:3]
        layers.append((f"layer {i + 1} ({k}x{k}/{s}" + (f", d{d})" if d > 1 else ")"), k, s, d))
    return plot_receptive_field(layers, args.out)


def _run_capsnet(args):
    from .autograd import no_grad
    model = _model(args.model, args.checkpoint)
    if getattr(model, "decoder", None) is None or not hasattr(model, "reconstruct"):
        raise ValueError(f"{args.what}: {args.model} is not a capsule network with a decoder")
    if args.what == "perturbations":
        x, label = sample_digit(args.image)
        images, k = capsule_perturbations(model, _mnist_normalized(x))
        return plot_capsule_perturbations(images, args.out, title=f"{args.model}: capsule {k} "
                                          f"of a test digit ({label}) perturbed, decoded")
    digits = [sample_digit(i) for i in range(args.images)]
    x = _mnist_normalized(np.concatenate([d[0].numpy() for d in digits]))
    from .tensor import Tensor
    with no_grad():
        out = model(Tensor(x))
    side = x.shape[-1]
    return plot_reconstructions([d[0].numpy()[0, 0] for d in digits],
                                out.reconstructions.numpy().reshape(len(x), -1, side, side)[:, 0],
                                args.out, labels=[d[1] for d in digits],
                                predictions=list(out.masked_by), title=f"{args.model}: inputs "
                                "and reconstructions from the winning capsule")


if __name__ == "__main__":
    raise SystemExit(main())
