"""An LSTM layer over 100 steps (T=100, N=16, I=32, H=64), forward + backward: the fused
``LSTMLayerFn`` (one node per layer), the same equations as ~10 autograd ops per step, and
torch's ``nn.LSTM``."""
import numpy as np

from ..harness import Case

T, N, IN, H = 100, 16, 32, 64
# per step: the input and recurrent GEMMs (2 N 4H (IN + H)), three times for forward + backward
FLOPS = 3 * T * 2 * N * 4 * H * (IN + H)


def _inputs():
    rng = np.random.default_rng(0)
    return rng.standard_normal((T, N, IN), dtype=np.float32)


def fused(device):
    import minitorch_cnn as mt
    lstm = mt.nn.LSTM(IN, H).to(device)
    x = mt.tensor(_inputs(), device=device)

    def step():
        lstm(x)[0].sum().backward()
    return step


def per_step(device):
    import minitorch_cnn as mt
    import minitorch_cnn.nn.functional as F
    lstm = mt.nn.LSTM(IN, H).to(device)
    x = mt.tensor(_inputs(), device=device)
    w_ih, w_hh, b_ih, b_hh = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0,
                              lstm.bias_hh_l0)

    def step():
        h = c = mt.zeros(N, H, device=device)
        ys = []
        for t in range(T):
            i, f, g, o = (F.linear(x[t], w_ih, b_ih) + F.linear(h, w_hh, b_hh)).split(H, dim=1)
            c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
            h = F.sigmoid(o) * F.tanh(c)
            ys.append(h)
        mt.stack(ys).sum().backward()
    return step


def theirs(torch):
    lstm, x = torch.nn.LSTM(IN, H), torch.tensor(_inputs())

    def step():
        lstm(x)[0].sum().backward()
    return step


CASES = [Case(f"lstm fused (T={T}, N={N}, {IN} -> {H})", "rnn", FLOPS, fused, theirs),
         Case(f"lstm as per-step ops (T={T}, N={N}, {IN} -> {H})", "rnn", FLOPS, per_step,
              theirs)]
