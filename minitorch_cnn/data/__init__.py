"""Data: datasets, the ``DataLoader`` and image ``transforms`` (PyTorch's and torchvision's
names). ``MNISTSample`` is a real MNIST sample shipped in the package."""
from . import transforms
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets import CIFAR10, MNIST, ImageFolder, MNISTSample, read_idx
from .distributed import DistributedSampler
from .loader import DataLoader, default_collate

__all__ = ["CIFAR10", "DataLoader", "Dataset", "ImageFolder", "MNIST", "MNISTSample", "Subset",
           "TensorDataset", "default_collate", "random_split", "read_idx", "transforms"]
__all__ += ["DistributedSampler"]
