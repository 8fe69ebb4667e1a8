"""Converters of the capsule ops (CapsNet, Sabour et al. 2017): squash and routing by
agreement, written out in standard ONNX ops (the routing iterations unrolled)."""
import numpy as np

from .convert_tensor import reduce
from .table import converts


def _squash(b, s, axis, dtype):
    """v = |s|^2 / (1 + |s|^2) * s / |s|, written s * |s| / (1 + |s|^2): equal, and 0 at s = 0
    without a division by zero."""
    n2 = reduce(b, "ReduceSum", b.node("Mul", [s, s]), [axis], True)
    one = b.const(np.ones((), dtype))
    return b.node("Div", [b.node("Mul", [s, b.node("Sqrt", [n2])]), b.node("Add", [n2, one])])


@converts("SquashFn")
def squash(b, call):
    s = call.arguments["s"]
    return [_squash(b, b.value(s), int(call.arguments["dim"]) % s.ndim, s.dtype)]


@converts("DynamicRoutingFn")
def dynamic_routing(b, call):
    """u_hat (N, I, J, D): logits (N, I, J) from 0; c = softmax over J; s_j = sum_i c_ij u_hat_ij;
    v = squash(s); logits += u_hat . v (Procedure 1 of the paper); returns v (N, J, D)."""
    a = call.arguments
    u_hat, dtype, iterations = b.value(a["u_hat"]), a["u_hat"].dtype, int(a["iterations"])
    logits = None
    for it in range(iterations):
        if logits is None:  # the softmax of zero logits: 1/J for every pair
            s = b.node("Div", [reduce(b, "ReduceSum", u_hat, [1], False),
                               b.const(np.array(a["u_hat"].shape[2], dtype))])
        else:
            c = b.node("Unsqueeze", [b.node("Softmax", [logits], axis=2), b.ints([3])])
            s = reduce(b, "ReduceSum", b.node("Mul", [u_hat, c]), [1], False)   # (N, J, D)
        v = _squash(b, s, 2, dtype)
        if it + 1 < iterations:
            agreement = reduce(b, "ReduceSum", b.node("Mul", [u_hat, b.node("Unsqueeze", [
                v, b.ints([1])])]), [3], False)                                  # (N, I, J)
            logits = agreement if logits is None else b.node("Add", [logits, agreement])
    return [v]
