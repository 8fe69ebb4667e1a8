"""What a PyTorch user types on day one works, with PyTorch's results (torch as the oracle)."""
import numpy as np
import pytest

import minitorch_cnn as mt
from helpers import assert_close, make


def test_tensor_methods():
    x = mt.tensor([[1.5, -2.0], [3.0, 4.0]])
    assert x.long().dtype == mt.long == np.int64 and x.long().tolist() == [[1, -2], [3, 4]]
    assert x.int().dtype == np.int32 and x.half().dtype == np.float16
    assert x.bool().dtype == np.bool_ and x.double().dtype == mt.double
    assert_close(x.pow(2), x.numpy() ** 2)
    assert_close(x.relu(), np.maximum(x.numpy(), 0))
    assert_close(x.softmax(1).sum(1), [1.0, 1.0], rtol=1e-6)
    assert_close(x.sigmoid(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    b = mt.randn(3, 2, 4)
    assert b.mT.shape == (3, 4, 2) and np.array_equal(b.mT.numpy(), b.numpy().swapaxes(-1, -2))
    with pytest.raises(ValueError, match="mT"):
        mt.ones(3).mT


def test_methods_are_differentiable(rng):
    x = make(rng, 3, 4)
    assert mt.gradcheck(lambda t: t.pow(3), x)
    assert mt.gradcheck(lambda t: t.softmax(0), x)
    assert mt.gradcheck(lambda t: t.mT, make(rng, 2, 3, 4))
    assert mt.gradcheck(lambda t: mt.sum(t, 1), x)


def test_package_functions_and_names():
    x = mt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert mt.device("cpu") == mt.Device("cpu") and mt.zeros(1, device=mt.device("cpu")).shape
    assert mt.sum(x).item() == 18.0 and mt.sum(x, 1).tolist() == [8.0, 10.0]
    assert mt.mean(x, dim=0, keepdim=True).shape == (1, 3)
    assert mt.argmax(x).item() == 3 and mt.argmax(x, 1).tolist() == [1, 0]
    v, i = mt.max(x, 1)
    assert v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]
    assert mt.max(x).item() == 7.0 and mt.min(x, 0).indices.tolist() == [0, 1, 0]
    assert mt.topk(x, 2).indices.tolist() == [[1, 2], [0, 2]]
    assert mt.pow(x, 2).tolist()[0] == [1.0, 25.0, 4.0] and mt.pow(2, mt.ones(2)).tolist() == [2, 2]
    assert mt.relu(x - 2).numpy().min() == 0
    with pytest.raises(TypeError, match="expected a Tensor"):
        mt.sum([1, 2])


@pytest.mark.oracle
def test_eye_and_linspace_match_torch(torch):
    for n, m in ((3, None), (2, 5), (4, 1), (0, 3)):
        ours = mt.eye(n) if m is None else mt.eye(n, m)
        theirs = torch.eye(n) if m is None else torch.eye(n, m)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for start, end, steps in ((0, 1, 5), (-3.0, 2.5, 12), (1, 1, 1), (0, 10, 0), (2, -2, 3)):
        assert_close(mt.linspace(start, end, steps), torch.linspace(start, end, steps).numpy(),
                     rtol=1e-6, atol=1e-6)
    assert mt.linspace(0, 1, 4, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="steps"):
        mt.linspace(0, 1, -1)


def test_tensor_of_strings_is_a_type_error():
    for bad in (["a"], "abc", [b"x"], [None], [object()]):
        with pytest.raises(TypeError, match="tensor: expected numbers"):
            mt.tensor(bad)
    assert mt.tensor([True, False]).dtype == np.bool_  # booleans are fine


def test_load_accepts_map_location_and_weights_only(tmp_path):
    path = tmp_path / "w.npz"
    mt.save({"w": mt.ones(2)}, path)
    for kwargs in ({"map_location": "cpu"}, {"map_location": mt.device("cpu")},
                   {"weights_only": True}, {"weights_only": False},
                   {"map_location": "cpu", "weights_only": True, "device": "cpu"}):
        assert mt.load(path, **kwargs)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="map_location must be a device"):
        mt.load(path, map_location={"cuda:0": "cpu"})
    with pytest.raises(TypeError, match="map_location must be a device"):
        mt.load(path, map_location=lambda storage, loc: storage)
    with pytest.raises(TypeError, match="weights_only"):
        mt.load(path, weights_only="yes")
