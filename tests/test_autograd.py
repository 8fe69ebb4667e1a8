"""The graph and the backward pass: accumulation, shared subexpressions, freeing, depth,
no_grad, user-defined Functions, and the errors of bad use."""
import numpy as np
import pytest

import minitorch_cnn as mt
from helpers import assert_close, make


def test_x_times_x_counts_both_uses(device):
    x = mt.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
    (x * x).sum().backward()
    assert_close(x.grad, [2.0, -4.0, 6.0])


def test_diamond_graph(rng, device):
    x = make(rng, 3, 4, device=device)

    def diamond(x):
        a = x.exp()
        b, c = a * 2.0, a.sqrt()
        return (b * c).sum(1) + b.mean()

    assert mt.gradcheck(diamond, x)
    diamond(x).sum().backward()
    e = np.exp(x.numpy())
    # sum over the 3 rows of (sum of 2 e^(3x/2) over the row + mean(2 e^x))
    assert_close(x.grad, 3 * np.exp(1.5 * x.numpy()) + 3 * 2 * e / x.numel(), rtol=1e-10)


def test_gradients_accumulate_on_leaves_until_zeroed():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    assert_close(x.grad, [3.0 + 2.0, 3.0 + 4.0])
    x.grad = None
    x.sum().backward()
    assert_close(x.grad, [1.0, 1.0])


def test_leaf_grad_is_not_aliased_with_the_upstream_gradient():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0.0
    y.backward(mt.tensor([1.0, 1.0]))
    y2 = x * 1.0
    y2.backward(mt.tensor([5.0, 5.0]))
    assert_close(x.grad, [6.0, 6.0])



def test_leaf_grads_share_memory_with_nothing():
    # fresh gradients are adopted without a copy; views, upstream and repeated arrays are copied
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0, 4.0], requires_grad=True)
    upstream = mt.tensor([1.0, 1.0])
    (a + b).backward(upstream)  # Add returns the upstream array for both inputs
    w = mt.tensor([[1.0, 2.0]], requires_grad=True)
    (w.reshape(2) * a.detach()).sum().backward()  # w's gradient is a reshaped view
    grads = [a.grad.data, b.grad.data, w.grad.data, upstream.data]
    assert not any(np.shares_memory(g, h) for i, g in enumerate(grads) for h in grads[i + 1:])
    a.grad.data[0] = 9.0
    assert_close(b.grad, [1.0, 1.0])
    assert_close(w.grad, [[1.0, 2.0]])

def test_retain_graph_allows_a_second_backward():
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).exp().sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    assert_close(x.grad, 2 * first)


def test_second_backward_through_a_freed_graph_is_a_clear_error():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_chain_of_ten_thousand_ops_backpropagates_without_recursion():
    x = mt.tensor(1.0, dtype=mt.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert_close(x.grad, 1.0001 ** 10_000, rtol=1e-9)


def test_residual_graph_as_deep_as_resnet152(rng):
    # 152 layers of y = y + f(y): every block has two paths, as in a ResNet
    x = make(rng, 4)
    assert mt.gradcheck(lambda x: _residual_stack(x, 152), x)


def _residual_stack(x, depth):
    for _ in range(depth):
        x = x + 0.01 * (x * x)
    return x


def test_no_grad_builds_no_graph_and_works_as_a_decorator():
    x = mt.tensor([1.0], requires_grad=True)
    with mt.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.is_leaf

    @mt.no_grad()
    def double(t):
        return t * 2.0

    assert not double(x).requires_grad
    assert mt.is_grad_enabled()
    with mt.no_grad(), mt.enable_grad():
        assert (x * 2.0).requires_grad


def test_detach_cuts_the_graph():
    x = mt.tensor([2.0], requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert_close(x.grad, [2.0])


class Cube(mt.Function):
    """A user-defined op, written as the issue shows users would write one."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * 3 * x ** 2


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * 2 * x ** 2  # a deliberate mistake: 2 instead of 3


def test_user_defined_function(rng, device):
    x = make(rng, 3, 2, device=device)
    assert_close(Cube.apply(x), x.numpy() ** 3)
    assert mt.gradcheck(Cube.apply, x)


def test_gradcheck_catches_a_wrong_backward_and_says_where(rng):
    x = make(rng, 3, 2)
    assert mt.gradcheck(WrongCube.apply, x, raise_exception=False) is False
    with pytest.raises(mt.GradcheckError) as err:
        mt.gradcheck(WrongCube.apply, x)
    message = str(err.value)
    assert "input 0" in message and "relative error" in message and "numerical" in message


def test_backward_returning_a_wrong_shape_is_named():
    class Bad(mt.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, gy):
            return gy[:1]

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="Bad.backward returned a gradient of shape"):
        Bad.apply(x).sum().backward()


def test_backward_of_a_non_scalar_needs_grad():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match="does not match"):
        (x * 2.0).backward(mt.tensor([1.0, 2.0, 3.0]))


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        mt.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):
        mt.arange(3).requires_grad_()


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, mt.maximum,
                                lambda a, b: mt.where(a > 0, a, b)])
def test_shapes_that_do_not_broadcast_name_both_shapes(op):
    a, b = mt.ones(2, 3), mt.ones(4, 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 3\)"):
        op(a, b)


def test_shapes_that_do_not_multiply_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\)"):
        mt.ones(2, 3) @ mt.ones(2, 3)


def test_mixing_devices_is_a_clear_error():
    if not mt.cuda.is_available():
        pytest.skip("no cuda device or simulator")
    a, b = mt.ones(2), mt.ones(2, device="cuda")
    with pytest.raises(ValueError, match="different devices"):
        a + b


def test_numerical_grad_for_exercises(rng):
    x = rng.standard_normal((3, 2))
    df = rng.standard_normal((3, 2))
    num = mt.numerical_grad(lambda a: np.tanh(a), x, df)
    assert_close(num, df * (1 - np.tanh(x) ** 2), rtol=1e-7)
    t = make(rng, 4)
    assert_close(mt.numerical_grad(lambda a: (a * a).sum(), t), 2 * t.numpy(), rtol=1e-7)


def test_a_saved_array_returned_as_a_gradient_is_never_adopted_as_grad():
    class Scale(mt.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.coef = x.copy() * 0 + 2.0  # an array the node keeps
            return x * 2.0

        @staticmethod
        def backward(ctx, gy):
            return ctx.coef  # the same array at every backward (gy is all ones here)

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x).sum()
    for _ in range(3):
        y.backward(retain_graph=True)
    assert_close(x.grad, [6.0, 6.0])
