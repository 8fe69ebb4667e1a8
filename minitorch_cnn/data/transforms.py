"""Image transforms with torchvision's names, including AlexNet's augmentations.

Two image layouts, as torchvision has PIL images and tensors: a NumPy array is an image as read
from disk, (H, W) or (H, W, C), usually uint8; a ``Tensor`` is (C, H, W) (or (..., H, W)),
usually float. ``ToTensor`` turns the first into the second. The geometric transforms
(``Resize``, crops, flips) take either and return the same kind; ``Normalize`` and
``PCAColorAugmentation`` take tensors.

Random transforms draw from the generator that ``DataLoader`` sets for each epoch (see
``use_generator``), else from ``mt.manual_seed``'s generator.

AlexNet (Krizhevsky et al. 2012, section 4.1) trains on random 224x224 crops of 256x256 images
and their horizontal mirrors, with "fancy PCA" colour noise, and tests on ten 224x224 crops
(four corners, centre, and their mirrors), averaging the softmax outputs::

    train = Compose([Resize(256), RandomCrop(224), RandomHorizontalFlip(), ToTensor(),
                     PCAColorAugmentation().fit(dataset), Normalize(mean, std)])
    test = Compose([Resize(256), ToTensor(), Normalize(mean, std), TenCrop(224)])
"""
import contextlib
import numbers
import threading

import numpy as np

from .. import backend
from ..random import generator
from ..ops.arguments import pair
from ..tensor import Tensor

_local = threading.local()


@contextlib.contextmanager
def use_generator(rng):
    """Make random transforms in this thread draw from ``rng`` (a numpy Generator)."""
    previous = getattr(_local, "rng", None)
    _local.rng = rng
    try:
        yield rng
    finally:
        _local.rng = previous


def _rng():
    rng = getattr(_local, "rng", None)
    return rng if rng is not None else generator()


def _unpack(img, name):
    """(raw array, whether it was a Tensor, axis of H, axis of W)."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"{name}: expected a tensor of shape (..., H, W), got {img.shape}")
        return img.data, True, img.ndim - 2, img.ndim - 1
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f"{name}: expected an image array of shape (H, W) or (H, W, C), got "
                         f"{img.shape}")
    return img, False, 0, 1


def _pack(array, is_tensor, like=None):
    if is_tensor:
        return Tensor._wrap(array, like.device if like is not None else backend.CPU)
    return array


def _crop(img, top, left, h, w, name):
    x, is_tensor, ha, wa = _unpack(img, name)
    if top < 0 or left < 0 or top + h > x.shape[ha] or left + w > x.shape[wa]:
        raise ValueError(f"{name}: crop of {h}x{w} at ({top}, {left}) does not fit in an image "
                         f"of {x.shape[ha]}x{x.shape[wa]}")
    index = [slice(None)] * x.ndim
    index[ha], index[wa] = slice(top, top + h), slice(left, left + w)
    return _pack(x[tuple(index)], is_tensor, img)


def _hflip(img):
    x, is_tensor, _, wa = _unpack(img, "hflip")
    return _pack(np.flip(x, axis=wa).copy(), is_tensor, img)


class Compose:
    """Apply the transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class Lambda:
    """Apply a function."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, img):
        return self.fn(img)


class ToTensor:
    """(H, W) or (H, W, C) array -> float32 (C, H, W) tensor; uint8 values are scaled to [0, 1].
    """

    def __call__(self, img):
        if isinstance(img, Tensor):
            raise TypeError("ToTensor: the input is already a Tensor")
        x = np.asarray(img)
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3:
            raise ValueError(f"ToTensor: expected an image of shape (H, W) or (H, W, C), got "
                             f"{x.shape}")
        y = np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)
        if x.dtype == np.uint8:
            y *= np.float32(1 / 255)
        return Tensor._wrap(y, backend.CPU)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """Per channel, (x - mean[c]) / std[c], on a (C, H, W) tensor."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must not be 0, got {list(std)}")

    def __call__(self, x):
        if not isinstance(x, Tensor) or x.ndim < 3:
            raise TypeError(f"Normalize: expected a (C, H, W) tensor (after ToTensor), got "
                            f"{type(x).__name__} {getattr(x, 'shape', '')}")
        if len(self.mean) not in (1, x.shape[-3]):
            raise ValueError(f"Normalize: {len(self.mean)} means for {x.shape[-3]} channels")
        xp = backend.xp(x.data)
        return Tensor._wrap((x.data - xp.asarray(self.mean)) / xp.asarray(self.std), x.device)

    def __repr__(self):
        return f"Normalize(mean={self.mean.ravel().tolist()}, std={self.std.ravel().tolist()})"


def _resize_axis(x, axis, out):
    """Bilinear resampling along one axis, half-pixel centres (align_corners=False)."""
    n = x.shape[axis]
    src = np.maximum((np.arange(out) + 0.5) * (n / out) - 0.5, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    shape = [1] * x.ndim
    shape[axis] = out
    frac = (src - i0).astype(np.float32 if x.dtype != np.float64 else np.float64).reshape(shape)
    return np.take(x, i0, axis) * (1 - frac) + np.take(x, i1, axis) * frac


class Resize:
    """Bilinear resize (no antialiasing, like ``F.interpolate(mode="bilinear")``): ``size`` an
    int scales the shorter side to it keeping the aspect ratio, (h, w) sets both."""

    def __init__(self, size):
        self.size = size

    def __call__(self, img):
        x, is_tensor, ha, wa = _unpack(img, "Resize")
        in_h, in_w = x.shape[ha], x.shape[wa]
        if isinstance(self.size, numbers.Number):
            short, long = (in_h, in_w) if in_h <= in_w else (in_w, in_h)
            new_long = int(self.size * long / short)
            out_h, out_w = (self.size, new_long) if in_h <= in_w else (new_long, self.size)
        else:
            out_h, out_w = self.size
        if (out_h, out_w) == (in_h, in_w):
            return img
        y = _resize_axis(_resize_axis(x.astype(np.float32) if x.dtype.kind != "f" else x,
                                      ha, out_h), wa, out_w)
        if x.dtype == np.uint8:
            y = np.clip(np.rint(y), 0, 255).astype(np.uint8)
        return _pack(y.astype(x.dtype, copy=False), is_tensor, img)

    def __repr__(self):
        return f"Resize(size={self.size})"


class CenterCrop:
    """The central ``size`` (int or (h, w)) region."""

    def __init__(self, size):
        self.size = pair(size, "size", "CenterCrop", 1)

    def __call__(self, img):
        x, _, ha, wa = _unpack(img, "CenterCrop")
        h, w = self.size
        return _crop(img, int(round((x.shape[ha] - h) / 2)), int(round((x.shape[wa] - w) / 2)),
                     h, w, "CenterCrop")

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """A ``size`` region at a uniformly random place, after zero-padding each border by
    ``padding`` (an int) if given. AlexNet: 224x224 crops of 256x256 images."""

    def __init__(self, size, padding=None, fill=0):
        self.size, self.padding, self.fill = pair(size, "size", "RandomCrop", 1), padding, fill

    def __call__(self, img):
        if self.padding:
            x, is_tensor, ha, wa = _unpack(img, "RandomCrop")
            width = [(0, 0)] * x.ndim
            width[ha] = width[wa] = (self.padding, self.padding)
            img = _pack(np.pad(x, width, constant_values=self.fill), is_tensor, img)
        x, _, ha, wa = _unpack(img, "RandomCrop")
        h, w = self.size
        if h > x.shape[ha] or w > x.shape[wa]:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the image "
                             f"{x.shape[ha]}x{x.shape[wa]}")
        rng = _rng()
        top = int(rng.integers(0, x.shape[ha] - h + 1))
        left = int(rng.integers(0, x.shape[wa] - w + 1))
        return _crop(img, top, left, h, w, "RandomCrop")

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return _hflip(img) if _rng().random() < self.p else img

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class TenCrop:
    """AlexNet's test-time crops: the four corners and the centre, then the same five of the
    mirrored image (torchvision's order). Returns a tuple of 10 images; a batch of them
    collates to a tuple of 10 batches, whose predictions are averaged."""

    def __init__(self, size):
        self.size = pair(size, "size", "TenCrop", 1)

    def __call__(self, img):
        x, _, ha, wa = _unpack(img, "TenCrop")
        in_h, in_w = x.shape[ha], x.shape[wa]
        h, w = self.size
        if h > in_h or w > in_w:
            raise ValueError(f"TenCrop: crop size {self.size} is larger than the image "
                             f"{in_h}x{in_w}")

        def five(image):
            corners = [_crop(image, t, le, h, w, "TenCrop")
                       for t, le in ((0, 0), (0, in_w - w), (in_h - h, 0), (in_h - h, in_w - w))]
            return corners + [CenterCrop(self.size)(image)]
        return tuple(five(img) + five(_hflip(img)))

    def __repr__(self):
        return f"TenCrop(size={self.size})"


class PCAColorAugmentation:
    """AlexNet's "fancy PCA" colour noise (Krizhevsky et al. 2012, section 4.1): with p_i and
    lambda_i the eigenvectors and eigenvalues of the 3x3 covariance of RGB pixel values over
    the training set, each image gets sum_i alpha_i lambda_i p_i added to every pixel, with
    alpha_i ~ N(0, ``alphastd`` = 0.1) drawn once per image. The paper: it "reduces the top-1
    error rate by over 1%".

    ``fit(dataset)`` computes the eigen-decomposition from the images (arrays or tensors, the
    first element of each sample; uint8 scaled to [0, 1]), or pass ``eigval``, ``eigvec``.
    Applies to a (C, H, W) float tensor, after ``ToTensor``.
    """

    def __init__(self, alphastd=0.1, eigval=None, eigvec=None):
        self.alphastd = alphastd
        self.eigval = None if eigval is None else np.asarray(eigval, np.float64)
        self.eigvec = None if eigvec is None else np.asarray(eigvec, np.float64)

    def fit(self, dataset, max_samples=None):
        """Eigenvalues and eigenvectors of the pixel covariance over ``dataset``; returns self.
        """
        n = len(dataset) if max_samples is None else min(max_samples, len(dataset))
        total, outer, count = np.zeros(3), np.zeros((3, 3)), 0
        for i in range(n):
            sample = dataset[i]
            img = sample[0] if isinstance(sample, (tuple, list)) else sample
            pixels = _pixels(img)
            total += pixels.sum(0)
            outer += pixels.T @ pixels
            count += len(pixels)
        if count == 0:
            raise ValueError("PCAColorAugmentation.fit: the dataset is empty")
        mean = total / count
        cov = outer / count - np.outer(mean, mean)
        self.eigval, self.eigvec = np.linalg.eigh(cov)
        return self

    def __call__(self, x):
        if self.eigval is None:
            raise RuntimeError("PCAColorAugmentation: call fit(dataset) first, or pass eigval "
                               "and eigvec")
        if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[0] != 3:
            raise ValueError(f"PCAColorAugmentation: expected a (3, H, W) RGB tensor, got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        alpha = _rng().normal(0, self.alphastd, 3)
        shift = (self.eigvec @ (alpha * self.eigval)).astype(x.dtype).reshape(3, 1, 1)
        return Tensor._wrap(x.data + backend.xp(x.data).asarray(shift), x.device)

    def __repr__(self):
        return f"PCAColorAugmentation(alphastd={self.alphastd})"


def _pixels(img):
    """An image as an (H*W, 3) float64 array of RGB values in [0, 1]."""
    if isinstance(img, Tensor):
        x = np.moveaxis(img.numpy(), 0, -1)
    else:
        x = np.asarray(img)
        x = x / 255.0 if x.dtype == np.uint8 else x
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"PCAColorAugmentation.fit: expected RGB images, got shape {x.shape}")
    return x.reshape(-1, 3).astype(np.float64)
