"""Training curves, first-layer filters, feature maps and receptive fields."""
import csv
import json
import os

import numpy as np

from .common import _array, _grid, _normalize_each, _plt, _save

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
