"""Datasets in their real formats (small files written here), the bundled MNIST sample, and the
DataLoader (batches, per-epoch shuffles, seeds, the prefetching thread)."""
import gzip
import pickle
import struct

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import data
from minitorch_cnn.data import transforms as T


def write_idx(path, array, compress=False):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(payload)


@pytest.fixture
def mnist_dir(tmp_path, rng):
    images = rng.integers(0, 256, (7, 28, 28)).astype(np.uint8)
    labels = np.arange(7) % 10
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images[:3], compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels[:3], compress=True)
    return tmp_path, images, labels


def test_mnist_reads_raw_and_gz(mnist_dir):
    root, images, labels = mnist_dir
    train = data.MNIST(root)
    assert len(train) == 7
    img, label = train[4]
    np.testing.assert_array_equal(img, images[4])
    assert img.dtype == np.uint8 and label == 4 and isinstance(label, int)
    test = data.MNIST(root, train=False, transform=T.ToTensor())
    assert len(test) == 3 and test[2][0].shape == (1, 28, 28)


def test_mnist_torchvision_layout(tmp_path, rng):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28)), compress=True)
    write_idx(raw / "train-labels-idx1-ubyte.gz", np.array([3, 1]), compress=True)
    assert data.MNIST(tmp_path)[0][1] == 3


def test_mnist_errors_name_the_path(mnist_dir, tmp_path):
    root = mnist_dir[0]
    with pytest.raises(FileNotFoundError, match="MNIST: data folder .*nowhere does not exist"):
        data.MNIST(root / "nowhere")
    (root / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="has no train-labels-idx1-ubyte"):
        data.MNIST(root)
    (root / "train-labels-idx1-ubyte").write_bytes(b"PK\x03\x04 a zip, not IDX")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte is not an IDX file"):
        data.MNIST(root)
    write_idx(root / "train-labels-idx1-ubyte", np.arange(7))
    (root / "train-images-idx3-ubyte").write_bytes(
        (root / "train-images-idx3-ubyte").read_bytes()[:1000])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte: IDX header says .*truncated"):
        data.MNIST(root)


def write_cifar(folder, rng, n=4):
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                 b"labels": list(rng.integers(0, 10, n)), b"batch_label": name.encode()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
        batches[name] = batch
    return batches


def test_cifar10_python_batches(tmp_path, rng):
    batches = write_cifar(tmp_path / "cifar-10-batches-py", rng)
    train = data.CIFAR10(tmp_path)
    assert len(train) == 20
    img, label = train[5]  # second sample of data_batch_2
    expected = batches["data_batch_2"][b"data"][1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(img, expected)
    assert label == batches["data_batch_2"][b"labels"][1]
    test = data.CIFAR10(tmp_path / "cifar-10-batches-py", train=False)
    assert len(test) == 4 and test[0][0].shape == (32, 32, 3)


def test_cifar10_errors(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="CIFAR10: data folder"):
        data.CIFAR10(tmp_path / "missing")
    write_cifar(tmp_path, rng)
    (tmp_path / "test_batch").write_bytes(b"not a pickle at all")
    with pytest.raises(ValueError, match="test_batch is not a CIFAR-10 python batch"):
        data.CIFAR10(tmp_path, train=False)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(ValueError, match=r"test_batch: CIFAR-10 batch data of shape \(2, 100\)"):
        data.CIFAR10(tmp_path, train=False)


def test_image_folder(tmp_path, rng):
    for cls in ("dog", "cat"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            np.save(tmp_path / cls / f"{i}.npy", rng.integers(0, 256, (5, 6, 3)).astype(np.uint8))
    (tmp_path / "cat" / "notes.txt").write_text("ignored")
    ds = data.ImageFolder(tmp_path, transform=T.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.targets == [0, 0, 1, 1]
    assert ds[3][0].shape == (3, 5, 6) and ds[3][1] == 1
    with pytest.raises(FileNotFoundError, match="no class sub-folders"):
        data.ImageFolder(tmp_path / "cat")


def test_image_folder_png(tmp_path, rng):
    Image = pytest.importorskip("PIL.Image")
    (tmp_path / "a").mkdir()
    pixels = rng.integers(0, 256, (4, 5, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a" / "x.png")
    np.testing.assert_array_equal(data.ImageFolder(tmp_path)[0][0], pixels)


def test_bundled_mnist_sample():
    train, test = data.MNISTSample(), data.MNISTSample(train=False)
    assert (len(train), len(test)) == (4000, 1000)
    assert np.bincount(train.labels).tolist() == [400] * 10
    assert np.bincount(test.labels).tolist() == [100] * 10
    assert train.images.shape == (4000, 28, 28) and train.images.dtype == np.uint8
    # real digits: mostly background, ink near 255, about 19% of the pixels lit
    lit = (train.images > 128).mean()
    assert 0.08 < lit < 0.3 and train.images.max() == 255
    # no digit of the test split is in the training split
    seen = {img.tobytes() for img in train.images}
    assert not any(img.tobytes() in seen for img in test.images)


def test_tensor_dataset_subset_random_split():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    ds = data.TensorDataset(x, mt.tensor(y))
    assert len(ds) == 10 and ds[3][0].tolist() == [6.0, 7.0] and ds[3][1] == 3
    a, b = data.random_split(ds, [0.7, 0.3], seed=1)
    assert (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    assert data.random_split(ds, [7, 3], seed=1)[0].indices == a.indices
    with pytest.raises(ValueError, match="do not add up"):
        data.random_split(ds, [5, 6])
    with pytest.raises(ValueError, match="different lengths"):
        data.TensorDataset(x, y[:3])


def labels_of(loader):
    return [batch[1].numpy().tolist() for batch in loader]


def test_loader_batches_and_lengths():
    ds = data.TensorDataset(np.zeros((10, 1, 2, 2), np.float32), np.arange(10))
    loader = data.DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    x, y = batches[0]
    assert isinstance(x, mt.Tensor) and x.shape == (4, 1, 2, 2) and y.dtype == np.int64
    assert len(data.DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert labels_of(data.DataLoader(ds, 3, drop_last=True))[-1] == [6, 7, 8]
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(ds, batch_size=0)



def test_tensor_dataset_batches_as_default_collate_does():
    # the loader gathers a TensorDataset's rows in one go: same batches, dtypes and types
    rng = np.random.default_rng(0)
    arrays = (rng.standard_normal((9, 2, 3)).astype(np.float32), np.arange(9, dtype=np.uint8),
              rng.standard_normal(9).astype(np.float16))
    ds = data.TensorDataset(*arrays)
    fast = data.DataLoader(ds, 4, shuffle=True, seed=1)
    slow = data.DataLoader(ds, 4, shuffle=True, seed=1,
                           collate_fn=lambda samples: data.default_collate(samples))
    for a, b in zip(list(fast), list(slow), strict=True):
        assert type(a) is type(b)
        for u, v in zip(a, b, strict=True):
            assert u.dtype == v.dtype and u.device == v.device
            np.testing.assert_array_equal(u.numpy(), v.numpy())
    with pytest.raises(TypeError):  # bool labels: default_collate's error either way
        list(data.DataLoader(data.TensorDataset(arrays[0], np.arange(9) % 2 == 0), 4))

def test_loader_shuffles_per_epoch_reproducibly():
    ds = data.TensorDataset(np.zeros(50), np.arange(50))
    loader = data.DataLoader(ds, batch_size=50, shuffle=True, seed=7)
    first, second = labels_of(loader), labels_of(loader)
    assert first != second and sorted(first[0]) == list(range(50))
    again = data.DataLoader(ds, batch_size=50, shuffle=True, seed=7)
    assert labels_of(again) == first and labels_of(again) == second
    again.set_epoch(1)
    assert labels_of(again) == second
    assert labels_of(data.DataLoader(ds, 50, shuffle=True, seed=8)) != first
    mt.manual_seed(3)
    a = labels_of(data.DataLoader(ds, 50, shuffle=True))
    mt.manual_seed(3)
    assert labels_of(data.DataLoader(ds, 50, shuffle=True)) == a


def test_prefetching_thread_gives_the_same_batches():
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 8)).astype(np.uint8)
    tf = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip(), T.ToTensor()])
    ds = data.TensorDataset(images, np.arange(40), transform=tf)
    runs = []
    for workers in (0, 2):
        loader = data.DataLoader(ds, batch_size=8, shuffle=True, seed=1, num_workers=workers)
        runs.append([x.numpy() for _ in range(2) for x, _ in loader])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    # another loader iterated in between does not change the draws
    loader = data.DataLoader(ds, batch_size=8, shuffle=True, seed=1)
    other = iter(data.DataLoader(ds, batch_size=8, shuffle=True, seed=99))
    interleaved = []
    for x, _ in loader:
        next(other, None)
        interleaved.append(x.numpy())
    for a, b in zip(interleaved, runs[0]):
        np.testing.assert_array_equal(a, b)


def test_prefetching_thread_raises_the_datasets_error():
    class Broken(data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            if i == 6:
                raise KeyError("sample 6 is broken")
            return np.zeros(2), i

    loader = data.DataLoader(Broken(), batch_size=2, num_workers=1)
    with pytest.raises(KeyError, match="sample 6"):
        list(loader)
    it = iter(data.DataLoader(Broken(), batch_size=2, num_workers=1))
    next(it)
    it.close()  # stopping early ends the thread


def test_collate_nested():
    samples = [((np.ones(2), np.zeros(2)), {"y": 1, "w": 0.5}) for _ in range(3)]
    (a, b), d = data.default_collate(samples)
    assert a.shape == (3, 2) and d["y"].dtype == np.int64 and d["w"].dtype == np.float32
    with pytest.raises(TypeError, match="cannot batch"):
        data.default_collate([object()])


def test_a_dataset_must_define_getitem_and_len():
    class OnlyItems(data.Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError, match="__len__"):
        OnlyItems()
