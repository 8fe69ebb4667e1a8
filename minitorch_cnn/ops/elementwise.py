"""Element-wise ops with NumPy broadcasting: arithmetic, exp/log/sqrt/abs, clip, max/min, where.

Gradients are summed back to each input's shape (``sum_to_shape``); scalar arguments get none.
"""
from ..autograd import Function
from ..backend import xp as array_module
from .broadcast import broadcast_shapes, sum_to_shape


def _shape(a):
    return getattr(a, "shape", ())


def _reduce(g, a):
    """The gradient ``g`` summed to the shape of argument ``a`` (None for a Python scalar)."""
    return sum_to_shape(g, a.shape) if hasattr(a, "shape") else None


class _Binary(Function):
    @classmethod
    def apply(cls, a, b):
        broadcast_shapes(cls.__name__, _shape(getattr(a, "data", a)), _shape(getattr(b, "data", b)))
        return super().apply(a, b)


class AddFn(_Binary):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = _shaped(a), _shaped(b)
        return a + b

    @staticmethod
    def backward(ctx, gy):
        return _reduce(gy, ctx.a), _reduce(gy, ctx.b)


class SubFn(_Binary):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = _shaped(a), _shaped(b)
        return a - b

    @staticmethod
    def backward(ctx, gy):
        gb = _reduce(gy, ctx.b)
        return _reduce(gy, ctx.a), None if gb is None else -gb


class MulFn(_Binary):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = _reduce(gy * b, a) if ctx.needs_input_grad[0] else None
        gb = _reduce(gy * a, b) if ctx.needs_input_grad[1] else None
        return ga, gb


class DivFn(_Binary):
    @staticmethod
    def forward(ctx, a, b):
        y = a / b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = _reduce(gy / b, a) if ctx.needs_input_grad[0] else None
        gb = _reduce(-gy * y / b, b) if ctx.needs_input_grad[1] else None
        return ga, gb


class PowFn(_Binary):
    @staticmethod
    def forward(ctx, a, b):
        y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _reduce(gy * b * a ** (b - 1), a)
        if ctx.needs_input_grad[1]:
            xp = array_module(y)
            log_a = xp.log(xp.where(a > 0, a, 1))
            gb = _reduce(gy * y * log_a, b)
        return ga, gb


class MaximumFn(_Binary):
    """max(a, b) element-wise; where they tie, each gets half the gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        xp = array_module(a) if hasattr(a, "shape") else array_module(b)
        ctx.save_for_backward(a, b)
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        share = (a > b) + 0.5 * (a == b)
        return _reduce(gy * share, a), _reduce(gy * (1 - share), b)


class MinimumFn(_Binary):
    """min(a, b) element-wise; where they tie, each gets half the gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        xp = array_module(a) if hasattr(a, "shape") else array_module(b)
        ctx.save_for_backward(a, b)
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        share = (a < b) + 0.5 * (a == b)
        return _reduce(gy * share, a), _reduce(gy * (1 - share), b)


class WhereFn(Function):
    """``a`` where ``condition`` holds, else ``b``; the condition gets no gradient."""

    @staticmethod
    def forward(ctx, condition, a, b):
        broadcast_shapes("where", _shape(condition), _shape(a), _shape(b))
        xp = array_module(condition)
        ctx.condition, ctx.a, ctx.b = condition, _shaped(a), _shaped(b)
        return xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, gy):
        xp = array_module(gy)
        zero = xp.zeros((), gy.dtype)
        return (None, _reduce(xp.where(ctx.condition, gy, zero), ctx.a),
                _reduce(xp.where(ctx.condition, zero, gy), ctx.b))


class NegFn(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


class ExpFn(Function):
    @staticmethod
    def forward(ctx, x):
        y = array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return gy * y


class LogFn(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy / x


class SqrtFn(Function):
    @staticmethod
    def forward(ctx, x):
        y = array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return gy / (2 * y)


class AbsFn(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return abs(x)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * array_module(x).sign(x)


class ClipFn(Function):
    """``x`` limited to [min, max] (either may be None); the gradient passes where
    min <= x <= max, bounds included, as PyTorch's ``clamp``."""

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.bounds = (min, max)
        return array_module(x).clip(x, min, max)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        low, high = ctx.bounds
        inside = True
        if low is not None:
            inside = inside & (x >= low)
        if high is not None:
            inside = inside & (x <= high)
        return gy * inside


class _Shaped:
    """The shape of a saved argument without keeping the array alive."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def _shaped(a):
    return _Shaped(a.shape) if hasattr(a, "shape") else a
