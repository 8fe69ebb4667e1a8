"""Transforms: layouts, bilinear resizing (vs a loop and torch), crops, flips, TenCrop, and
AlexNet's PCA colour augmentation."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.data import transforms as T


@pytest.fixture
def image(rng):
    return rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)


def test_to_tensor(image):
    x = T.ToTensor()(image)
    assert isinstance(x, mt.Tensor) and x.shape == (3, 6, 8) and x.dtype == np.float32
    np.testing.assert_allclose(x.numpy()[1, 2, 3], image[2, 3, 1] / 255, rtol=1e-6)
    assert T.ToTensor()(image[:, :, 0]).shape == (1, 6, 8)
    np.testing.assert_array_equal(T.ToTensor()(np.full((2, 2), 0.5)).numpy(), 0.5)
    with pytest.raises(TypeError, match="already a Tensor"):
        T.ToTensor()(x)


def test_normalize(image):
    x = T.ToTensor()(image)
    y = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5))(x)
    np.testing.assert_allclose(y.numpy()[2], (x.numpy()[2] - 0.3) / 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="2 means for 3 channels"):
        T.Normalize((0.5, 0.5), (1, 1))(x)
    with pytest.raises(TypeError, match="after ToTensor"):
        T.Normalize((0.5,), (1,))(image)


def naive_resize(x, out_h, out_w):
    """Bilinear with half-pixel centres, one output pixel at a time (HWC float)."""
    in_h, in_w = x.shape[:2]
    y = np.zeros((out_h, out_w) + x.shape[2:])
    for i in range(out_h):
        for j in range(out_w):
            sy = max((i + 0.5) * in_h / out_h - 0.5, 0)
            sx = max((j + 0.5) * in_w / out_w - 0.5, 0)
            y0, x0 = min(int(sy), in_h - 1), min(int(sx), in_w - 1)
            y1, x1 = min(y0 + 1, in_h - 1), min(x0 + 1, in_w - 1)
            fy, fx = sy - y0, sx - x0
            y[i, j] = ((1 - fy) * ((1 - fx) * x[y0, x0] + fx * x[y0, x1])
                       + fy * ((1 - fx) * x[y1, x0] + fx * x[y1, x1]))
    return y


@pytest.mark.parametrize("size", [(9, 5), (3, 16), (6, 8)])
def test_resize_matches_loop(image, size):
    x = image.astype(np.float64)
    np.testing.assert_allclose(T.Resize(size)(x), naive_resize(x, *size), rtol=1e-12)
    as_uint8 = T.Resize(size)(image)
    assert as_uint8.dtype == np.uint8 and as_uint8.shape == size + (3,)
    expected = np.clip(np.rint(naive_resize(x, *size)), 0, 255)
    assert np.abs(as_uint8 - expected).max() <= 1  # float32 arithmetic may round a half
    tensor = T.Resize(size)(T.ToTensor()(image))
    assert tensor.shape == (3,) + size


def test_resize_shorter_side(image):
    assert T.Resize(3)(image).shape == (3, 4, 3)
    assert T.Resize(12)(np.zeros((10, 5))).shape == (24, 12)


@pytest.mark.oracle
def test_resize_matches_torch(torch, image):
    x = T.ToTensor()(image)
    for size in [(9, 5), (13, 21), (3, 4)]:
        expected = torch.nn.functional.interpolate(torch.tensor(x.numpy())[None], size=size,
                                                   mode="bilinear", align_corners=False)[0]
        np.testing.assert_allclose(T.Resize(size)(x).numpy(), expected.numpy(), atol=1e-6)


def test_center_and_random_crop(image):
    np.testing.assert_array_equal(T.CenterCrop(4)(image), image[1:5, 2:6])
    x = T.ToTensor()(image)
    np.testing.assert_array_equal(T.CenterCrop((2, 6))(x).numpy(), x.numpy()[:, 2:4, 1:7])
    crops = {T.RandomCrop((6, 8), padding=2)(image).tobytes() for _ in range(30)}
    assert len(crops) > 5  # many positions
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)))
    crop = T.RandomCrop(5)(image)
    assert any(np.array_equal(crop, image[i:i + 5, j:j + 5]) for i in range(2) for j in range(4))
    with T.use_generator(np.random.default_rng(5)):
        a = T.RandomCrop(4, padding=2)(image)
    rng = np.random.default_rng(5)
    i, j = rng.integers(0, 7), rng.integers(0, 9)
    np.testing.assert_array_equal(a, padded[i:i + 4, j:j + 4])
    with pytest.raises(ValueError, match="RandomCrop: crop size"):
        T.RandomCrop(9)(image)
    with pytest.raises(ValueError, match="CenterCrop: crop of 7x7"):
        T.CenterCrop(7)(image)


def test_flip(image):
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(image), image[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(image), image)
    x = T.ToTensor()(image)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1])


def test_ten_crop(image):
    crops = T.TenCrop(4)(image)
    assert len(crops) == 10
    np.testing.assert_array_equal(crops[0], image[:4, :4])
    np.testing.assert_array_equal(crops[1], image[:4, 4:])
    np.testing.assert_array_equal(crops[3], image[2:, 4:])
    np.testing.assert_array_equal(crops[4], image[1:5, 2:6])
    # the mirror's top-left corner is the mirrored top-right one
    np.testing.assert_array_equal(crops[5], crops[1][:, ::-1])
    np.testing.assert_array_equal(crops[9], crops[4][:, ::-1])
    tensors = T.TenCrop((3, 5))(T.ToTensor()(image))
    assert all(c.shape == (3, 3, 5) for c in tensors)
    with pytest.raises(ValueError, match="TenCrop: crop size"):
        T.TenCrop(7)(image)


def test_pca_color_augmentation(rng):
    mix = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.2], [0.1, 0.0, 0.3]])
    images = [np.clip(0.5 + rng.standard_normal((4, 4, 3)) @ mix * 0.1, 0, 1)
              for _ in range(20)]
    pca = T.PCAColorAugmentation().fit([(img, 0) for img in images])
    pixels = np.concatenate([img.reshape(-1, 3) for img in images])
    eigval, eigvec = np.linalg.eigh(np.cov(pixels.T, bias=True))
    np.testing.assert_allclose(pca.eigval, eigval, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(np.abs(pca.eigvec), np.abs(eigvec), rtol=1e-6, atol=1e-10)
    x = T.ToTensor()(images[0])
    with T.use_generator(np.random.default_rng(3)):
        y = pca(x)
    alpha = np.random.default_rng(3).normal(0, 0.1, 3)
    shift = pca.eigvec @ (alpha * pca.eigval)
    np.testing.assert_allclose((y - x).numpy(), np.broadcast_to(shift[:, None, None],
                                                                (3, 4, 4)), rtol=1e-4)
    assert T.PCAColorAugmentation(alphastd=0.0, eigval=eigval, eigvec=eigvec)(x) is not x
    with pytest.raises(RuntimeError, match="fit"):
        T.PCAColorAugmentation()(x)
    with pytest.raises(ValueError, match=r"\(3, H, W\) RGB"):
        pca(T.ToTensor()(np.zeros((4, 4))))
    with pytest.raises(ValueError, match="RGB images"):
        T.PCAColorAugmentation().fit([(np.zeros((4, 4)), 0)])


def test_compose_and_lambda(image):
    tf = T.Compose([T.CenterCrop(4), T.ToTensor(), T.Lambda(lambda x: x * 2)])
    np.testing.assert_allclose(tf(image).numpy(), image[1:5, 2:6].transpose(2, 0, 1) / 127.5,
                               rtol=1e-6)
    assert "CenterCrop" in repr(tf)
