"""The functional namespace, ``import minitorch_cnn.nn.functional as F``, with PyTorch's names
and argument conventions (NCHW activations, OIHW weights)."""
from ..ops.linalg import Linear as _Linear
from ..tensor import pad as _pad

# Each topic's public ops are written, with their docstrings, in their ops/ module and
# imported here, so that ``F.<name>`` is the one place users look.
# --- convolution ---
# --- pooling and locally-connected ---
# --- normalization ---
# --- activations, dropout, losses ---


def linear(x, weight, bias=None):
    """y = x W^T + b. x: (..., in_features), W: (out_features, in_features), b: (out_features,).
    """
    return _Linear.apply(x, weight, bias)


def pad(x, pad, mode="constant", value=0.0):
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) sizes starting from the LAST dimension,
    e.g. ``(left, right, top, bottom)`` for NCHW. Only constant padding."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported here, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of sizes for at most {x.ndim} "
                         f"dimensions, got {tuple(pad)}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    width = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    return _pad(x, width, value)
