"""Local response normalization: naive loops, gradcheck, kernels against the reference, torch."""
import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import kernels
from helpers import assert_close, make


def naive_across(x, size, alpha, beta, k):
    n, c = x.shape[:2]
    y = np.empty_like(x)
    for i in range(n):
        for ch in range(c):
            lo, hi = max(0, ch - size // 2), min(c - 1, ch + (size - 1) // 2)
            s = sum(x[i, j] ** 2 for j in range(lo, hi + 1))
            y[i, ch] = x[i, ch] / (k + alpha / size * s) ** beta
    return y


def naive_within(x, size, alpha, beta, k):
    n, c, h, w = x.shape
    p = size // 2
    y = np.empty_like(x)
    for i, ch, r, col in np.ndindex(n, c, h, w):
        window = x[i, ch, max(0, r - p):r + p + 1, max(0, col - p):col + p + 1]
        y[i, ch, r, col] = x[i, ch, r, col] / (k + alpha / size ** 2 * (window ** 2).sum()) ** beta
    return y


ACROSS = [(5, 1e-1, 0.75, 2.0), (4, 0.3, 0.6, 1.0), (1, 0.2, 0.75, 1.5), (3, 1.0, 1.0, 0.5)]


@pytest.mark.parametrize("size,alpha,beta,k", ACROSS)
def test_across_forward_matches_loops(rng, size, alpha, beta, k):
    x = make(rng, 2, 6, 3, 4, low=-3, high=3)
    y = F.local_response_norm(x, size, alpha, beta, k)
    assert_close(y, naive_across(x.numpy(), size, alpha, beta, k), rtol=1e-12)


def test_across_3d_and_5d_inputs(rng):
    for shape in [(2, 5, 7), (1, 5, 2, 3, 2)]:
        x = make(rng, *shape, low=-3, high=3)
        assert_close(F.local_response_norm(x, 3, 0.5, 0.75, 1.0),
                     naive_across(x.numpy(), 3, 0.5, 0.75, 1.0), rtol=1e-12)


@pytest.mark.parametrize("size,alpha,beta,k", ACROSS)
def test_across_gradcheck(device, rng, size, alpha, beta, k):
    x = make(rng, 2, 5, 2, 2, device=device, low=-2, high=2)
    mt.gradcheck(lambda t: F.local_response_norm(t, size, alpha, beta, k), [x])


@pytest.mark.parametrize("size", [1, 3, 5])
def test_within_forward_matches_loops(rng, size):
    x = make(rng, 2, 3, 5, 4, low=-3, high=3)
    y = F.local_response_norm(x, size, 0.5, 0.75, 1.0, mode="within_channel")
    assert_close(y, naive_within(x.numpy(), size, 0.5, 0.75, 1.0), rtol=1e-10)


@pytest.mark.parametrize("beta", [0.75, 0.6])
def test_within_gradcheck(device, rng, beta):
    x = make(rng, 1, 2, 4, 3, device=device, low=-2, high=2)
    mt.gradcheck(lambda t: F.local_response_norm(t, 3, 0.8, beta, 1.0, "within_channel"), [x])


def test_non_contiguous_input(rng):
    base = make(rng, 2, 3, 4, 6, low=-3, high=3)
    x = base.permute(0, 3, 2, 1)  # (2, 6, 4, 3) view
    expected = naive_across(x.numpy(), 5, 0.5, 0.75, 2.0)
    assert_close(F.local_response_norm(x, 5, 0.5, 0.75, 2.0), expected, rtol=1e-12)
    mt.gradcheck(lambda t: F.local_response_norm(t.permute(0, 3, 2, 1), 5, 0.5, 0.75, 2.0),
                 [make(rng, 1, 2, 2, 4, low=-2, high=2)])


@pytest.mark.parametrize("impl", ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)])
@pytest.mark.parametrize("size", [5, 4, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_reference(rng, impl, size, dtype):
    if impl == "cuda" and not mt.cuda.is_available():
        pytest.skip("no CUDA device or simulator")
    x = (rng.standard_normal((2, 7, 5)) * 3).astype(dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    ref_fwd, ref_bwd = (kernels.load(n, "reference") for n in ("lrn_fwd", "lrn_bwd"))
    fwd, bwd = (kernels.load(n, impl) for n in ("lrn_fwd", "lrn_bwd"))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    y_ref, scale_ref = ref_fwd(x, size, 0.3, 0.75, 2.0)
    y, scale = fwd(x, size, 0.3, 0.75, 2.0)
    assert y.dtype == scale.dtype == dtype
    assert_close(y, y_ref, rtol=tol, atol=tol)
    assert_close(scale, scale_ref, rtol=tol)
    assert_close(bwd(x, y_ref, scale_ref, gy, size, 0.3, 0.75),
                 ref_bwd(x, y_ref, scale_ref, gy, size, 0.3, 0.75), rtol=tol, atol=tol)


def test_module_defaults_and_repr(rng):
    m = mt.nn.LocalResponseNorm(5)
    assert (m.size, m.alpha, m.beta, m.k) == (5, 1e-4, 0.75, 1.0)  # PyTorch's defaults
    x = make(rng, 1, 6, 2, 2, low=-30, high=30)
    assert_close(m(x), naive_across(x.numpy(), 5, 1e-4, 0.75, 1.0), rtol=1e-12)
    assert "LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=1.0)" == repr(m)


def test_bad_input(rng):
    x = make(rng, 1, 4, 3, 3)
    with pytest.raises(ValueError, match="local_response_norm.*mode"):
        F.local_response_norm(x, 5, mode="across")
    with pytest.raises(ValueError, match="local_response_norm.*size"):
        F.local_response_norm(x, size=0)
    with pytest.raises(ValueError, match="within_channel.*odd.*4"):
        F.local_response_norm(x, size=4, mode="within_channel")
    with pytest.raises(ValueError, match=r"local_response_norm.*\(4, 3\)"):
        F.local_response_norm(make(rng, 4, 3), 5)


@pytest.mark.oracle
@pytest.mark.parametrize("shape,size,alpha,beta,k",
                         [((2, 8, 4, 5), 5, 1e-2, 0.75, 2.0), ((2, 6, 7), 4, 0.5, 0.6, 1.0),
                          ((1, 5, 2, 3, 2), 2, 0.3, 0.9, 1.5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_oracle_torch(torch, rng, shape, size, alpha, beta, k, dtype):
    data = (rng.standard_normal(shape) * 3).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    x = mt.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y = F.local_response_norm(x, size, alpha, beta, k)
    ty = torch.nn.functional.local_response_norm(tx, size, alpha, beta, k)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(y, ty.detach().numpy(), rtol=tol, atol=tol)
    assert_close(x.grad, tx.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.oracle
def test_oracle_module_alexnet_numbers(torch, rng):
    data = (rng.standard_normal((2, 12, 5, 5)) * 20).astype(np.float32)
    ours = mt.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)(mt.tensor(data))
    theirs = torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)(torch.tensor(data))
    assert_close(ours, theirs.numpy(), rtol=1e-5, atol=1e-6)
