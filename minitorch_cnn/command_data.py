"""The data of the commands (train, evaluate, compress, export, nas): a named data set as
(train, validation, test) splits with the transforms and normalisation the training used."""
import os

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import data
from minitorch_cnn.data import transforms as T
from minitorch_cnn.models import registry

DATASETS = {"mnist-sample": "the bundled 5,000 MNIST digits", "mnist": "mnist DIR (IDX files)",
            "cifar10": "cifar10 DIR (python batches)", "folder": "folder DIR (ImageFolder)"}
STATS = {"mnist": ((0.1307,), (0.3081,)), "cifar10": ((0.4914, 0.4822, 0.4465),
                                                      (0.2470, 0.2435, 0.2616))}


def build_data(args):
    """(train, validation, test) datasets, the number of classes and of input channels."""
    kind, *rest = args.dataset
    if kind not in DATASETS:
        raise ValueError(f"unknown dataset {kind!r}; valid datasets: "
                         + "; ".join(f"{k} ({v})" for k, v in DATASETS.items()))
    if (kind == "mnist-sample") != (not rest) or len(rest) > 1:
        raise ValueError(f"--dataset {kind}: expected {DATASETS[kind]}")
    mean, std = STATS.get("mnist" if kind.startswith("mnist") else kind, ((0.5,) * 3,) * 2)
    channels = len(mean)
    rgb_only = channels == 1 and not registry.accepts_in_channels(args.model)
    train_tf, test_tf = [], []
    if args.image_size:
        train_tf.append(T.Resize((args.image_size,) * 2))
        test_tf.append(T.Resize((args.image_size,) * 2))
    if args.augment:
        size = args.image_size or (28 if kind.startswith("mnist") else 32)
        train_tf.append(T.RandomCrop(size, padding=size // 8))
        if not kind.startswith("mnist"):  # mirrored digits are not digits
            train_tf.append(T.RandomHorizontalFlip())
    if getattr(args, "shift", 0):  # shifts of up to N pixels, zero-padded (CapsNet's N = 2)
        train_tf.append(T.RandomCrop(args.image_size or (28 if kind.startswith("mnist") else 32),
                                     padding=args.shift))
    tail = [T.ToTensor(), T.Normalize(mean, std)]
    if rgb_only:  # a model made for RGB photos sees the grey image in all three channels
        tail.append(T.Lambda(lambda x: mt.cat([x, x, x], axis=0)))
        channels = 3
    train_tf, test_tf = T.Compose(train_tf + tail), T.Compose(test_tf + tail)

    def make(train, tf):
        if kind == "mnist-sample":
            return data.MNISTSample(train=train, transform=tf)
        if kind == "mnist":
            return data.MNIST(rest[0], train=train, transform=tf)
        if kind == "cifar10":
            return data.CIFAR10(rest[0], train=train, transform=tf)
        return data.ImageFolder(os.path.join(rest[0], "train" if train else "test"),
                                transform=tf)
    full, plain, test = make(True, train_tf), make(True, test_tf), make(False, test_tf)
    num_classes = len(getattr(full, "classes", range(10)))
    n = len(full) if not args.limit else min(args.limit, len(full))
    order = np.random.default_rng(args.seed).permutation(len(full))[:n]
    n_val = int(round(n * args.val_fraction))
    if n - n_val < 1:
        raise ValueError(f"--val-fraction {args.val_fraction} of {n} images leaves no training "
                         f"image")
    train = data.Subset(full, order[n_val:])
    val = data.Subset(plain, order[:n_val])  # validation without augmentation
    if getattr(args, "test_limit", 0):
        test = data.Subset(test, range(min(args.test_limit, len(test))))
    return train, val, test, num_classes, channels
