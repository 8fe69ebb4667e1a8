"""``mt.nn.utils``: gradient clipping and parameter vectors, against PyTorch's."""
import math

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def _params_with_grads(rng, scale=1.0, dtype=np.float32):
    params = []
    for shape in SHAPES:
        p = nn.Parameter(mt.tensor(rng.standard_normal(shape).astype(dtype)))
        p.grad = mt.tensor((scale * rng.standard_normal(shape)).astype(dtype))
        params.append(p)
    return params


def _torch_copy(torch, params):
    out = []
    for p in params:
        t = torch.nn.Parameter(torch.tensor(p.numpy()))
        t.grad = torch.tensor(p.grad.numpy())
        out.append(t)
    return out


@pytest.mark.oracle
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, rng, norm_type, max_norm):
    ours = _params_with_grads(rng)
    theirs = _torch_copy(torch, ours)
    total = mt.nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, mt.Tensor) and total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.oracle
def test_clip_grad_norm_skips_missing_grads_and_accepts_one_tensor(torch, rng):
    ours = _params_with_grads(rng, scale=3.0)
    ours[1].grad = None
    theirs = _torch_copy(torch, [ours[0], ours[2]])
    theirs.insert(1, torch.nn.Parameter(torch.tensor(ours[1].numpy())))
    total = mt.nn.utils.clip_grad_norm_(iter(ours), 1.0, foreach=True)
    expected = torch.nn.utils.clip_grad_norm_(iter(theirs), 1.0, foreach=True)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    assert ours[1].grad is None
    one = mt.nn.utils.clip_grad_norm_(ours[0], 0.1)
    ref = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    np.testing.assert_allclose(one.item(), ref.item(), rtol=1e-6)
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-6)
    assert mt.nn.utils.clip_grad_norm_([ours[1]], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite(rng):
    params = _params_with_grads(rng)
    params[0].grad.data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        mt.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert np.isinf(params[0].grad.numpy()[0, 0])  # nothing scaled before the error
    total = mt.nn.utils.clip_grad_norm_(params, 1.0)  # as PyTorch: scales by 1/inf = 0
    assert math.isinf(total.item())
    assert (params[1].grad.numpy() == 0).all()


def test_clip_grad_norm_in_float64_keeps_the_dtype(rng):
    params = _params_with_grads(rng, dtype=np.float64)
    total = mt.nn.utils.clip_grad_norm_(params, 0.5)
    flat = np.concatenate([p.grad.numpy().ravel() for p in params])
    assert total.dtype == np.float64 and params[0].grad.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(flat), 0.5, rtol=1e-5)


@pytest.mark.oracle
def test_clip_grad_value_matches_torch(torch, rng):
    ours = _params_with_grads(rng)
    theirs = _torch_copy(torch, ours)
    assert mt.nn.utils.clip_grad_value_(ours, 0.3) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.3)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
    assert np.abs(ours[0].grad.numpy()).max() <= np.float32(0.3)


@pytest.mark.oracle
def test_parameter_vectors_match_torch(torch, rng):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3))
    vec = mt.nn.utils.parameters_to_vector(model.parameters())
    expected = torch.nn.utils.parameters_to_vector(
        [torch.tensor(p.numpy()) for p in model.parameters()])
    np.testing.assert_array_equal(vec.numpy(), expected.numpy())
    # differentiable, as PyTorch's: the gradient reaches every parameter
    (vec * mt.arange(vec.shape[0]).float()).sum().backward()
    first = model[0].weight
    np.testing.assert_array_equal(first.grad.numpy().ravel(), np.arange(first.numel()))
    new = mt.tensor(rng.standard_normal(vec.shape[0]).astype(np.float32))
    mt.nn.utils.vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(mt.nn.utils.parameters_to_vector(model.parameters()).numpy(),
                                  new.numpy())
    assert model[2].bias.shape == (3,)
    new.data[0] = 42.0  # the parameters are views of the vector, as in PyTorch
    assert model[0].weight.numpy().ravel()[0] == 42.0


def test_vector_to_parameters_bad_input():
    params = [nn.Parameter(mt.zeros(2, 3)), nn.Parameter(mt.zeros(4))]
    with pytest.raises(TypeError, match="expected a Tensor"):
        mt.nn.utils.vector_to_parameters(np.zeros(10), params)
    with pytest.raises(ValueError, match="10 values.*shape \\(9,\\)"):
        mt.nn.utils.vector_to_parameters(mt.zeros(9), params)
    with pytest.raises(TypeError, match="iterable of tensors"):
        mt.nn.utils.clip_grad_norm_(3, 1.0)
