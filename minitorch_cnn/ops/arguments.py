"""Argument checks that ops and layers share, one definition each, public so that ``nn/`` and
``data/`` use them without reaching into an op's privates. Each raises a ValueError (or a
TypeError for a wrong type) that names the op or layer, what it expected and what it got."""

REDUCTIONS = ("mean", "sum", "none")


def pair(value, name, op, minimum=0):
    """``value`` as a pair of ints (an int means both), each at least ``minimum``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if len(value) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {tuple(value)}")
    return tuple(value)


def check_probability(op, p):
    """A dropout probability in [0, 1] (p = 1 drops everything, as PyTorch's)."""
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability must lie in [0, 1], got {p}")


def check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def with_batch_of_one(fn, x, *more):
    """``fn`` on ``x`` (and its companions ``more``) with a batch dimension of 1 that the
    outputs lose again: how a 3-D (C, H, W) input runs through a 4-D op, as PyTorch's
    unbatched inputs do."""
    out = fn(x.unsqueeze(0), *(m.unsqueeze(0) for m in more))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


def conv_arguments(op, stride, padding, dilation, groups):
    """``(stride, padding, dilation)`` of a convolution as pairs (``padding`` may stay 'same'
    or 'valid'), checked together with ``groups``: what ``Conv2d`` checks when it is built and
    ``conv2d`` when it is called."""
    stride, dilation = pair(stride, "stride", op, 1), pair(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got "
                             f"{padding!r}")
        if padding == "same" and stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride={stride}")
    else:
        padding = pair(padding, "padding", op, 0)
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return stride, padding, dilation
