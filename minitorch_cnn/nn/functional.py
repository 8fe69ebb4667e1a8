"""The functional namespace, ``import minitorch_cnn.nn.functional as F``, with PyTorch's names
and argument conventions (NCHW activations, OIHW weights)."""
from ..ops.linalg import LinearFn as _Linear
from ..ops.functions import pad as _pad

# Each topic's public ops are written, with their docstrings, in their ops/ module and
# imported here, so that ``F.<name>`` is the one place users look.
# --- convolution ---
from ..ops.conv import conv2d, conv_transpose2d  # noqa: F401
# --- pooling and locally-connected ---
from ..ops.local_conv import local_conv2d  # noqa: F401
from ..ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d  # noqa: F401
from ..ops.pool import max_pool2d, max_unpool2d, spatial_pyramid_pool2d  # noqa: F401
# --- normalization ---
from ..ops.lrn import local_response_norm  # noqa: F401
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm  # noqa: F401
# --- activations, dropout, losses ---
from ..ops.activation import channel_shuffle, elu, leaky_relu, log_softmax  # noqa: F401
from ..ops.activation import relu, relu6, sigmoid, softmax, tanh  # noqa: F401
from ..ops.dropout import dropout, dropout2d  # noqa: F401
from ..ops.loss import cross_entropy, nll_loss  # noqa: F401
from ..ops.loss_elementwise import binary_cross_entropy, l1_loss, mse_loss  # noqa: F401
from ..ops.loss_elementwise import binary_cross_entropy_with_logits  # noqa: F401
# --- graphs ---
from ..ops.graph import index_add  # noqa: F401
# --- recurrent and embedding ---
from ..ops.sparse import embedding  # noqa: F401
# --- capsules ---
from ..ops.capsule import dynamic_routing, margin_loss, squash  # noqa: F401
# --- resizing, and the padding modes (reflect, replicate, circular) ---
from ..ops.resample import interpolate  # noqa: F401
from ..ops.resample import pad_mode as _pad_mode


def linear(x, weight, bias=None):
    """y = x W^T + b. x: (..., in_features), W: (out_features, in_features), b: (out_features,).
    """
    return _Linear.apply(x, weight, bias)


def pad(x, pad, mode="constant", value=0.0):
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) sizes starting from the LAST dimension,
    e.g. ``(left, right, top, bottom)`` for NCHW. ``mode`` constant (``value``), or reflect,
    replicate, circular (of the last one or two dimensions, ``ops/resample.py``)."""
    if mode != "constant":
        return _pad_mode(x, pad, mode)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of sizes for at most {x.ndim} "
                         f"dimensions, got {tuple(pad)}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    width = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    return _pad(x, width, value)
