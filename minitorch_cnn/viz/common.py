"""What the pictures share: matplotlib on demand, saving, tiling, and the model, checkpoint
and digit a picture is drawn from."""
import os

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

def load_state(path):
    """The model's state dict in a file written by ``mt.save``: a bare state dict, or a training
    checkpoint holding one under "model"."""
    from ..serialization import load
    state = load(path)
    for key in ("model", "model_state", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            return state[key]
    return state

def model_from(name, checkpoint):
    """The model of ``checkpoint`` (the one its stored spec names; a ``name`` contradicting it
    is an error), or ``name`` (default LeNet5) untrained or with a file's bare weights."""
    from ..models import registry, spec
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
    from ..data import MNISTSample
    from ..tensor import Tensor
    image, label = MNISTSample(train=False)[index]
    image = np.asarray(_array(image), dtype=np.float32)
    if image.dtype == np.uint8 or image.max() > 1.5:
        image = image / 255.0
    return Tensor(image.reshape(1, 1, *image.shape[-2:])), int(label)
