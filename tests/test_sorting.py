"""max/min along a dim as (values, indices), argmax/argmin, sort, argsort and topk (PyTorch's)."""
import numpy as np
import pytest

import minitorch_cnn as mt
from helpers import assert_close, make


def test_max_dim_unpacks_into_values_and_indices():
    x = mt.tensor([[1.0, 7.0, 3.0], [9.0, 2.0, 4.0]])
    v, i = x.max(dim=1)
    assert_close(v, [7.0, 9.0])
    assert i.tolist() == [1, 0] and i.dtype == np.int64
    out = x.min(0)
    assert out.values.tolist() == [1.0, 2.0, 3.0] and out.indices.tolist() == [0, 1, 0]
    kept = x.max(1, keepdim=True)
    assert kept.values.shape == (2, 1) and kept.indices.shape == (2, 1)


def test_max_without_dim_and_with_a_tensor():
    x = mt.tensor([[1.0, 7.0], [9.0, 2.0]])
    assert x.max().item() == 9.0 and x.min().item() == 1.0
    assert x.max(mt.tensor([5.0, 5.0])).tolist() == [[5.0, 7.0], [9.0, 5.0]]
    with pytest.raises(TypeError, match="amax"):
        x.max(dim=(0, 1))
    assert x.amax((0, 1)).item() == 9.0


def test_max_dim_gradient_goes_to_the_returned_index(rng):
    x = mt.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.max(dim=1).values.sum().backward()
    assert_close(x.grad, [[0.0, 1.0, 0.0]])  # PyTorch: the one index it returns
    y = make(rng, 3, 4, 5)
    assert mt.gradcheck(lambda t: t.max(1).values, y)
    assert mt.gradcheck(lambda t: t.min(-1, keepdim=True).values, y)
    assert mt.gradcheck(lambda t: t.sort(0, descending=True).values, y)
    assert mt.gradcheck(lambda t: t.topk(2, dim=2).values, y)


def test_argmax_argmin():
    x = mt.tensor([[1.0, 7.0, 7.0], [9.0, 2.0, 4.0]])
    assert x.argmax().item() == 3 and x.argmax().shape == ()
    assert x.argmax(dim=1).tolist() == [1, 0]  # the first maximum
    assert x.argmin(1, keepdim=True).shape == (2, 1)
    assert x.argmax(keepdim=True).shape == (1, 1)


def test_topk_rejects_a_bad_k():
    with pytest.raises(ValueError, match="topk: k"):
        mt.zeros(2, 3).topk(4)


@pytest.mark.oracle
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_topk_match_torch(torch, descending):
    a = np.array([[3, 1, 2, 1, 3, 0], [5, 5, 1, 1, 2, 2]], dtype=np.float32)
    x, t = mt.tensor(a), torch.tensor(a)
    ours, theirs = x.sort(dim=1, descending=descending, stable=True), \
        t.sort(dim=1, descending=descending, stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(x.argsort(1, descending=descending, stable=True).numpy(),
                                  t.argsort(dim=1, descending=descending, stable=True).numpy())
    b = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)  # no ties
    for largest in (True, False):
        ours, theirs = mt.tensor(b).topk(3, dim=1, largest=largest), \
            torch.tensor(b).topk(3, dim=1, largest=largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    ours, theirs = mt.tensor(b).max(0), torch.tensor(b).max(0)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert type(ours).__name__ == "max" and ours._fields == ("values", "indices")
