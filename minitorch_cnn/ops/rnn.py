"""The LSTM layer (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000) as
one ``Function`` over a whole sequence: forward through time saving the gates, backward through
time on raw arrays.

PyTorch's equations and gate order (i, f, g, o), for x_t of shape (N, I) and h, c of (N, H)::

    [a_i, a_f, a_g, a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      (each (N, H))
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

The Python work per step is one fused (N, H) x (H, 4H) GEMM and a few elementwise passes: the
input projection of all T steps is one (T N, I) x (I, 4H) GEMM before the loop, and in backward
the weight gradients of all steps are one GEMM each after it. The graph is one node per layer
whatever T; the same equations written as autograd ops record ~10 nodes per step and took
2.3-3.4x as long for T=100, N=16, I=32, H=64 (forward + backward, two runs on a loaded 2-core
machine; ``python -m benchmarks --group rnn``).
"""
from ..autograd import Function
from ..backend import xp as array_module


def _sigmoid(a):
    """1 / (1 + exp(-a)) written through tanh: no overflow for large |a|."""
    xp = array_module(a)
    return 0.5 * (xp.tanh(0.5 * a) + 1)


class LSTMLayerFn(Function):
    """One LSTM layer over a sequence: ``(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> (y, h_n, c_n)``.

    Shapes: x (T, N, I), h0 and c0 (N, H), w_ih (4H, I), w_hh (4H, H), b_ih and b_hh (4H,) or
    None; y (T, N, H) holds every h_t, h_n and c_n are the last step's state.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        xp = array_module(x)
        steps, n, _ = x.shape
        hidden = w_hh.shape[1]
        pre = (x.reshape(steps * n, x.shape[-1]) @ w_ih.T).reshape(steps, n, 4 * hidden)
        for b in (b_ih, b_hh):
            if b is not None:
                pre += b
        gates = xp.empty_like(pre)               # activated i, f, g, o of every step
        cells = xp.empty((steps + 1, n, hidden), x.dtype)
        y = xp.empty((steps, n, hidden), x.dtype)
        cells[0] = c0
        h = h0
        w_hh_t = w_hh.T
        for t in range(steps):
            a = pre[t] + h @ w_hh_t
            act = gates[t]
            act[:, :2 * hidden] = _sigmoid(a[:, :2 * hidden])
            act[:, 2 * hidden:3 * hidden] = xp.tanh(a[:, 2 * hidden:3 * hidden])
            act[:, 3 * hidden:] = _sigmoid(a[:, 3 * hidden:])
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            cells[t + 1] = f * cells[t] + i * g
            y[t] = h = o * xp.tanh(cells[t + 1])
        ctx.save_for_backward(x, h0, w_ih, w_hh, gates, cells, y)
        ctx.has_bias = (b_ih is not None, b_hh is not None)
        return y, y[-1].copy(), cells[-1].copy()

    @staticmethod
    def backward(ctx, gy, gh_n, gc_n):
        x, h0, w_ih, w_hh, gates, cells, y = ctx.saved_tensors
        xp = array_module(gy)
        steps, n, hidden = y.shape
        ga = xp.empty_like(gates)                # gradients of the pre-activations
        gh, gc = gh_n.copy(), gc_n.copy()
        for t in range(steps - 1, -1, -1):
            act = gates[t]
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            gh += gy[t]
            tanh_c = xp.tanh(cells[t + 1])
            gc += gh * o * (1 - tanh_c * tanh_c)
            grad = ga[t]
            grad[:, :hidden] = gc * g * i * (1 - i)
            grad[:, hidden:2 * hidden] = gc * cells[t] * f * (1 - f)
            grad[:, 2 * hidden:3 * hidden] = gc * i * (1 - g * g)
            grad[:, 3 * hidden:] = gh * tanh_c * o * (1 - o)
            gc = gc * f
            gh = grad @ w_hh
        flat = ga.reshape(steps * n, 4 * hidden)
        need = ctx.needs_input_grad
        gx = (flat @ w_ih).reshape(x.shape) if need[0] else None
        gw_ih = flat.T @ x.reshape(steps * n, x.shape[-1]) if need[3] else None
        if need[4]:
            h_prev = xp.concatenate([h0[None], y[:-1]]).reshape(steps * n, hidden)
            gw_hh = flat.T @ h_prev
        else:
            gw_hh = None
        gb = flat.sum(axis=0) if any(ctx.has_bias) else None
        gb_ih = gb if ctx.has_bias[0] and need[5] else None
        gb_hh = gb.copy() if ctx.has_bias[1] and need[6] else None
        return (gx, gh if need[1] else None, gc if need[2] else None, gw_ih, gw_hh,
                gb_ih, gb_hh)


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM layer over a whole sequence (see ``LSTMLayerFn``): x (T, N, I), h0 and c0
    (N, H), weights in PyTorch's layout and gate order (i, f, g, o). Returns ``(y, h_n, c_n)``
    with y of shape (T, N, H)."""
    hidden = w_hh.shape[-1]
    if x.ndim != 3 or w_ih.shape != (4 * hidden, x.shape[-1]) or w_hh.shape != (4 * hidden,
                                                                                  hidden):
        raise ValueError(f"lstm_layer: expected x (T, N, I), w_ih (4H, I), w_hh (4H, H), got "
                         f"{x.shape}, {w_ih.shape}, {w_hh.shape}")
    for name, s in (("h0", h0), ("c0", c0)):
        if s.shape != (x.shape[1], hidden):
            raise ValueError(f"lstm_layer: expected {name} of shape {(x.shape[1], hidden)}, "
                             f"got {s.shape}")
    return LSTMLayerFn.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
