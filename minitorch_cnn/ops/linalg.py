"""Matrix products: ``matmul`` (NumPy's rules: batched, broadcast, 1-D promoted) and the fused
affine map of ``linear``. The products themselves go to BLAS (cuBLAS on the GPU) via ``xp``."""
from ..autograd import Function
from .broadcast import broadcast_shapes, sum_to_shape


class MatMulFn(Function):
    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied")
        broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        shape = gy.shape + (1,) if b.ndim == 1 else gy.shape  # gy as if a, b were 2-D
        shape = shape[:-1] + (1,) + shape[-1:] if a.ndim == 1 else shape
        gy2 = gy.reshape(shape)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to_shape(gy2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = sum_to_shape(a2.swapaxes(-1, -2) @ gy2, b2.shape).reshape(b.shape)
        return ga, gb


class LinearFn(Function):
    """y = x W^T + b for x of shape (..., in_features), W (out_features, in_features)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: expected an input of shape (..., {weight.shape[-1]}) for a "
                             f"weight of shape {weight.shape}, got {x.shape}")
        if bias is not None and bias.shape != weight.shape[:1]:
            raise ValueError(f"linear: expected a bias of shape {weight.shape[:1]}, "
                             f"got {bias.shape}")
        ctx.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, gy):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gy2 = gy.reshape(-1, gy.shape[-1])
        gx = gy @ weight if need_x else None
        gw = gy2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        gb = gy2.sum(axis=0) if need_b else None
        return gx, gw, gb
