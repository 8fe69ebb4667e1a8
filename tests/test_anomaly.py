"""``mt.autograd.detect_anomaly``: the first NaN or Inf, forward or backward, names its op, the
line that made it and the input shapes; with the mode off nothing is recorded."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.autograd import AnomalyError, detect_anomaly, set_detect_anomaly

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaNs made on purpose


def _model():
    return nn.Sequential(nn.Linear(3, 2), nn.ReLU())


def test_forward_nan_names_op_line_and_shapes():
    x = mt.tensor(np.ones((4, 3), np.float32))
    model = _model()
    with detect_anomaly():
        y = model(x)
        with pytest.raises(AnomalyError) as info, np.errstate(invalid="ignore"):
            mt.log(y - 100.0)  # the line the error must name
    e = info.value
    message = str(e)
    assert e.fn.__name__ == "LogFn" and e.phase == "forward"
    assert "LogFn produced NaN in the forward pass" in message
    assert "shapes (4, 2)" in message
    assert f"{__file__}:" in message and "mt.log(y - 100.0)" in message
    assert e.where[0] == __file__ and e.where[2] == "test_forward_nan_names_op_line_and_shapes"
    assert not mt.autograd.is_anomaly_enabled()


def test_backward_inf_names_the_op_that_made_it():
    w = nn.Parameter(mt.tensor(np.array([1.0, 2.0], np.float32)))
    with detect_anomaly():
        z = (w - w).sqrt()  # sqrt(0): finite forward, infinite gradient
        loss = z.sum() * 2.0
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert info.value.fn.__name__ == "SqrtFn" and info.value.phase == "backward"
    assert "SqrtFn.backward returned Inf in the gradient of input 0 (shape (2,))" in message
    assert "(w - w).sqrt()" in message and "shapes (2,)" in message


def test_graph_built_outside_the_mode_still_raises_on_backward():
    w = nn.Parameter(mt.zeros(3))
    loss = w.sqrt().sum()
    with set_detect_anomaly(True), pytest.raises(AnomalyError, match="unknown"):
        loss.backward()
    assert not mt.autograd.is_anomaly_enabled()


def test_non_finite_data_is_blamed_on_the_input():
    x = mt.tensor(np.array([[1.0, np.nan, 2.0]], np.float32))
    with detect_anomaly(), pytest.raises(AnomalyError, match="input 0 was already non-finite"):
        _model()(x)


def test_mode_is_off_by_default_and_records_nothing():
    w = nn.Parameter(mt.zeros(3))
    y = (w * 2.0).sqrt()
    assert not hasattr(y._ctx, "anomaly")
    y.sum().backward()  # inf gradient, no error
    assert np.isinf(w.grad.numpy()).all()
    set_detect_anomaly(True)
    try:
        assert mt.autograd.is_anomaly_enabled()
        assert hasattr((w * 2.0)._ctx, "anomaly")
    finally:
        set_detect_anomaly(False)


def test_decorator_and_check_nan_false():
    @detect_anomaly()
    def on():
        return mt.autograd.is_anomaly_enabled()
    assert on() and not mt.autograd.is_anomaly_enabled()
    with detect_anomaly(check_nan=False):
        with np.errstate(divide="ignore"):
            assert np.isinf(mt.log(mt.zeros(1)).numpy()).all()


def test_a_clean_training_step_passes():
    model = _model()
    x = mt.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    with detect_anomaly():
        loss = nn.functional.cross_entropy(model(x), mt.tensor([0, 1, 1, 0]))
        loss.backward()
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters())
