"""``DataLoader``: batches of a dataset, shuffled anew each epoch, reproducible under a seed.

The order of epoch e is a permutation drawn from ``numpy.random.default_rng((seed, e))``, and
the random transforms of that epoch draw from a generator seeded with ``(seed, e, 1)``, so an
epoch's batches depend only on the seed and the epoch number: a run resumed at epoch e (see
``set_epoch``) sees exactly the batches of an uninterrupted one, whether or not batches are
prepared in a background thread.
"""
import queue
import threading

import numpy as np

from .. import backend
from ..random import generator
from ..tensor import Tensor
from .dataset import TensorDataset
from .transforms import use_generator


def default_collate(samples):
    """Stack a list of samples: arrays and tensors into one tensor with a batch dimension,
    numbers into an int64 or float32 tensor, tuples and dicts element by element."""
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s.data for s in samples]), first.device)
    if isinstance(first, np.ndarray):
        return Tensor._wrap(np.stack(samples), backend.CPU)
    if isinstance(first, (bool, int, np.integer)):
        return Tensor._wrap(np.array(samples, dtype=np.int64), backend.CPU)
    if isinstance(first, (float, np.floating)):
        return Tensor._wrap(np.array(samples, dtype=np.float32), backend.CPU)
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(group)) for group in zip(*samples))
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch. shuffle: a new random order each epoch.
        drop_last: drop the last incomplete batch.
        seed: the seed of the shuffles and random transforms (default: one drawn from
            ``mt.manual_seed``'s generator when the loader is made).
        num_workers: 0 prepares each batch when it is asked for; n > 0 prepares up to 2n
            batches ahead in a background thread (NumPy releases the GIL in its loops, so
            loading overlaps with training).
        collate_fn: how a list of samples becomes a batch (``default_collate``).
        sampler: an iterable of indices (e.g. ``DistributedSampler``) that gives the order
            instead of ``shuffle``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 num_workers=0, collate_fn=None, sampler=None):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last, self.num_workers = shuffle, drop_last, num_workers
        self.seed = int(generator().integers(2**31)) if seed is None else int(seed)
        self.collate_fn = collate_fn or default_collate
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.sampler = sampler
        self.epoch = 0

    def set_epoch(self, epoch):
        """The epoch the next iteration runs (its order and its random transforms)."""
        self.epoch = int(epoch)

    def __len__(self):
        n = len(self.dataset if self.sampler is None else self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batches(self, epoch):
        n = len(self.dataset)
        order = (np.random.default_rng((self.seed, epoch)).permutation(n) if self.shuffle
                 else np.arange(n))
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        rng = np.random.default_rng((self.seed, epoch, 1))
        # a TensorDataset batches by gathering rows, not sample by sample (same batches)
        gather = (self.dataset._collated if type(self.dataset) is TensorDataset
                  and self.collate_fn is default_collate else None)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            idx = order[start:start + self.batch_size]
            batch = gather(idx) if gather is not None else None
            if batch is None:
                with use_generator(rng):  # only while this batch is made: loaders interleave
                    batch = self.collate_fn([self.dataset[int(i)] for i in idx])
            yield batch

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self.num_workers == 0:
            yield from self._batches(epoch)
            return
        yield from _prefetch(self._batches(epoch), 2 * self.num_workers)


_DONE = object()


def _prefetch(batches, depth):
    """Run the generator ``batches`` in a thread, ``depth`` items ahead; errors re-raise here."""
    q, stop = queue.Queue(maxsize=depth), threading.Event()

    def put(item):
        """Queue ``item`` unless the consumer stopped (a blocking put would wait forever on a
        full queue that nobody reads, and the consumer's join on this thread with it)."""
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_DONE)
        except BaseException as e:  # handed to the consumer
            put(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
