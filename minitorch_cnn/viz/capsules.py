"""Capsule pictures (CapsNet, Sabour et al. 2017): reconstructions next to their inputs, and the
paper's Figure 4, a winning capsule perturbed dimension by dimension and decoded."""
import numpy as np

from .common import _array, _grid, _plt, _save, model_from, sample_digit

PERTURBATIONS = np.round(np.arange(-5, 6) * 0.05, 2)  # the paper's Figure 4: -0.25 .. 0.25

def capsule_perturbations(model, image, deltas=PERTURBATIONS):
    """The paper's Figure 4: (images (D, len(deltas), H, W), the winning class) decoded from
    ``image``'s (1, C, H, W) longest class capsule with each of its D dimensions in turn moved
    by each of ``deltas`` (the first channel when C > 1)."""
    from ..autograd import no_grad
    from ..tensor import Tensor
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
    from ..command_data import STATS
    (mean,), (std,) = STATS["mnist"]
    return (image - mean) / std

def run_capsnet(args):
    from ..autograd import no_grad
    model = model_from(args.model, args.checkpoint)
    if getattr(model, "decoder", None) is None or not hasattr(model, "reconstruct"):
        raise ValueError(f"{args.what}: {args.model} is not a capsule network with a decoder")
    if args.what == "perturbations":
        x, label = sample_digit(args.image)
        images, k = capsule_perturbations(model, _mnist_normalized(x))
        return plot_capsule_perturbations(images, args.out, title=f"{args.model}: capsule {k} "
                                          f"of a test digit ({label}) perturbed, decoded")
    digits = [sample_digit(i) for i in range(args.images)]
    x = _mnist_normalized(np.concatenate([d[0].numpy() for d in digits]))
    from ..tensor import Tensor
    with no_grad():
        out = model(Tensor(x))
    side = x.shape[-1]
    return plot_reconstructions([d[0].numpy()[0, 0] for d in digits],
                                out.reconstructions.numpy().reshape(len(x), -1, side, side)[:, 0],
                                args.out, labels=[d[1] for d in digits],
                                predictions=list(out.masked_by), title=f"{args.model}: inputs "
                                "and reconstructions from the winning capsule")
