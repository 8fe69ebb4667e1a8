"""``Dataset`` and friends, PyTorch's: anything with ``__getitem__`` and ``__len__``."""
import abc

import numpy as np

from .. import backend
from ..random import generator
from ..tensor import Tensor


class Dataset(abc.ABC):
    """A map-style dataset: ``dataset[i]`` is one sample, usually ``(image, label)``."""

    @abc.abstractmethod
    def __getitem__(self, index):
        """Sample number ``index``."""

    @abc.abstractmethod
    def __len__(self):
        """The number of samples."""


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors or arrays (all of the same length)."""

    def __init__(self, *tensors, transform=None):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        lengths = {len(t) for t in tensors}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset: tensors of different lengths "
                             f"{[len(t) for t in tensors]}")
        self.tensors = tuple(t.numpy() if isinstance(t, Tensor) else np.asarray(t)
                             for t in tensors)
        self.transform = transform

    def __getitem__(self, index):
        sample = tuple(t[index] for t in self.tensors)
        if self.transform is not None:
            sample = (self.transform(sample[0]),) + sample[1:]
        return sample

    def __len__(self):
        return len(self.tensors[0])

    def _collated(self, indices):
        """``default_collate`` of the samples at ``indices`` with one gather per tensor instead
        of a copy per sample, or None where that would differ (a transform; 1-D non-numbers)."""
        if self.transform is not None:
            return None
        batch = []
        for t in self.tensors:
            if t.ndim > 1:
                batch.append(Tensor._wrap(t[indices], backend.CPU))
            elif t.dtype.kind in "iu":  # numbers, batched as default_collate does
                batch.append(Tensor._wrap(t[indices].astype(np.int64), backend.CPU))
            elif t.dtype.kind == "f":
                batch.append(Tensor._wrap(t[indices].astype(np.float32), backend.CPU))
            else:
                return None
        return tuple(batch)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, [int(i) for i in indices]

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, seed=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths (or
    fractions summing to 1); reproducible under ``seed`` (else under ``mt.manual_seed``)."""
    n = len(dataset)
    if all(0 <= x <= 1 for x in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to the "
                         f"dataset's {n} samples")
    rng = np.random.default_rng(seed) if seed is not None else generator()
    order = rng.permutation(n)
    starts = np.cumsum([0] + sizes)
    return [Subset(dataset, order[a:b]) for a, b in zip(starts[:-1], starts[1:])]
