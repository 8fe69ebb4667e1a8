"""The minimal failing cases the Hypothesis fuzz suites (tests/test_fuzz_*.py) found against
PyTorch, as plain regression tests: each one failed before its fix."""
import numpy as np
import pytest

from fuzz_helpers import compare, values

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F

pytestmark = pytest.mark.oracle


@pytest.fixture
def TF(torch):
    return torch.nn.functional


def test_cross_entropy_all_ignored_mean_gradient(torch, TF):
    """n=1, c=2, every target ignored: the gradient was nan (0 * inf), PyTorch's is 0."""
    compare(torch, F.cross_entropy, TF.cross_entropy, [values(0, 1, 2), np.array([-100])],
            wrt=[0])


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_losses_empty_batch(torch, TF, fn):
    """n=0, c=1: 'cannot reshape array of size 0 into shape (0,1,newaxis)'."""
    compare(torch, getattr(F, fn), getattr(TF, fn),
            [np.zeros((0, 1)), np.zeros((0,), np.int64)], wrt=[0])


def test_cross_entropy_probability_targets_empty(torch, TF):
    """Class-probability targets were refused with a TypeError."""
    compare(torch, F.cross_entropy, TF.cross_entropy, [np.zeros((0, 1)), np.zeros((0, 1))])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "sigmoid", "tanh"])
def test_activations_of_0d(torch, TF, name):
    """shape (): relu and leaky_relu gave a (1,) gradient, elu, sigmoid and tanh raised
    'return arrays must be of ArrayType'."""
    compare(torch, getattr(F, name), getattr(TF, name), [np.array(0.3)])


@pytest.mark.parametrize("name, shape", [("softmax", ()), ("softmax", (0,)),
                                         ("log_softmax", (0,))])
def test_softmax_of_0d_and_empty(torch, TF, name, shape):
    """shape (0,): 'zero-size array to reduction operation maximum'; softmax of shape ():
    'return arrays must be of ArrayType'."""
    compare(torch, lambda x: getattr(F, name)(x, 0), lambda x: getattr(TF, name)(x, 0),
            [values(0, *shape)])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_of_an_empty_tensor_over_a_nonempty_axis(torch, op):
    """shape (1, 0) reduced over dim 0 gives shape (0,); it raised 'cannot reduce an empty
    tensor'."""
    compare(torch, lambda x: getattr(x, op)(0), lambda x: getattr(x, op)(0)[0],
            [np.zeros((1, 0))])


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "var"])
def test_reductions_of_0d_over_dim_0(torch, op):
    """shape (), dim 0: an AxisError or IndexError; PyTorch reduces the one element."""
    def theirs(x):
        if op == "var":
            return x.var(0, correction=0)
        y = getattr(x, op)(0)
        return y[0] if op in ("max", "min") else y
    compare(torch, lambda x: getattr(x, op)(0), theirs, [np.array(0.7)])


def test_flatten_of_an_empty_tensor(torch):
    """shape (0, 0): flatten reshaped to (-1, 0), which has no size to infer."""
    compare(torch, lambda x: x.flatten(0, 0), lambda x: x.flatten(0, 0), [np.zeros((0, 0))])
    assert mt.zeros(0, 3, 4).flatten(1).shape == (0, 12)


def test_depthwise_conv_backward_with_a_tap_outside_every_window(torch, TF):
    """groups == C (the depthwise kernels), k=(1, 3), stride (1, 2), dilation (1, 3), padding
    (0, 2), width 3: tap 0 reaches no output column, but its empty strided slice wrapped around
    the row, so the input gradient got a value read past gy at x[..., 0]."""
    def run(f):
        return lambda x, w: f(x, w, None, (1, 2), (0, 2), (1, 3), 2)
    compare(torch, run(F.conv2d), run(TF.conv2d), [values(0, 1, 2, 1, 3), values(1, 2, 1, 1, 3)])
