"""Trained weight sharing (Deep Compression step two; Han, Mao & Dally, ICLR 2016, section 3).

The surviving weights of each layer are clustered by 1-D k-means into 2^bits shared values;
each weight keeps only the index of its centroid. Of the paper's three initialisations (random,
density-based, linear) linear is the best, because it keeps centroids at the rare large weights
that matter most: the centroids start evenly spaced between the layer's smallest and largest
weight. Fine-tuning then trains the centroids: the gradient of a centroid is the sum of the
gradients of the weights that share it. The paper uses 8 bits for conv and 5 for fully
connected layers (AlexNet: no loss of accuracy) and keeps pruned weights out of the clustering.
"""
import numbers

import numpy as np

from .. import backend
from . import reparam

DEFAULT_BITS = (8, 5)  # (conv, fully connected), the paper's choice for AlexNet


def kmeans(values, k, iterations=50):
    """1-D k-means (Lloyd's algorithm) of ``values`` with linear initialisation.

    Returns (centroids (k,) float64, labels (n,) int64). Each point goes to its nearest
    centroid (ties to the lower one); an empty cluster keeps its centroid. Stops when no label
    changes.
    """
    x = np.asarray(values, np.float64).reshape(-1)
    if not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"kmeans: k must be a positive int, got {k!r}")
    if x.size == 0:
        return np.zeros(k), np.zeros(0, np.int64)
    centroids = np.linspace(x.min(), x.max(), k)
    labels = None
    for _ in range(iterations):
        new = _nearest(x, centroids)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=x, minlength=k)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled]
    return centroids, labels


def _nearest(x, centroids):
    """Index of the nearest centroid of each point (ties to the lower index)."""
    order = np.argsort(centroids, kind="stable")
    c = centroids[order]
    mid = (c[:-1] + c[1:]) / 2
    return order[np.searchsorted(mid, x, side="left")].astype(np.int64)


def _bits_for(where, bits, key, layer):
    if bits is None:
        bits = DEFAULT_BITS
    if isinstance(bits, dict):
        short = key[:-len(".weight")]
        if key not in bits and short not in bits:
            return None
        bits = bits.get(key, bits.get(short))
    if isinstance(bits, tuple):
        bits = bits[0] if reparam.is_conv(layer) else bits[1]
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not 1 <= bits <= 16:
        raise ValueError(f"{where}: bits must be an int in 1..16, got {bits!r} for {key}")
    return int(bits)


def share_weights(model, bits=None):
    """Cluster the surviving weights of every conv and linear layer into 2^bits shared values.

    ``bits``: None (8 for conv, 5 for fully connected layers, the paper's), an int for all
    layers, a (conv, fc) pair, or a dict {parameter or layer name: bits} (others untouched).
    Pruned weights (``prune_magnitude``) stay zero and unclustered. The layers then train their
    centroids (``layer.weight_centroids``), so build the optimizer after this call.

    Returns {parameter name: centroids (float array)}.
    """
    where = "share_weights"
    layers = reparam.weight_layers(model)
    if not layers:
        raise ValueError(f"{where}: {type(model).__name__} has no Conv2d, ConvTranspose2d or "
                         "Linear weight to share")
    if isinstance(bits, list):
        bits = tuple(bits)
    if isinstance(bits, tuple) and len(bits) != 2:
        raise ValueError(f"{where}: bits as a tuple must be (conv, fc), got {bits!r}")
    codebooks = {}
    for name, layer in layers:
        key = f"{name}.weight" if name else "weight"
        b = _bits_for(where, bits, key, layer)
        if b is None:
            continue
        mask = reparam.mask_of(layer)
        current = reparam.effective(layer) if reparam.info(layer) else layer.weight
        w = backend.to_numpy(current.data)
        kept = w[mask]
        k = max(1, min(2 ** b, kept.size))
        centroids, labels = kmeans(kept, k)
        indices = np.zeros(w.shape, np.int64)
        indices[mask] = labels
        reparam.attach(layer, mask=mask, centroids=centroids, indices=indices)
        codebooks[key] = backend.to_numpy(layer.weight_centroids.data).copy()
    return codebooks
