"""Recurrent layers: ``LSTMCell`` (one step) and ``LSTM`` (stacked layers over a sequence).

PyTorch's equations, gate order (i, f, g, o), parameter names and initialisation, so that state
dicts map one to one: ``weight_ih_l{k}`` (4H, I or H), ``weight_hh_l{k}`` (4H, H),
``bias_ih_l{k}`` and ``bias_hh_l{k}`` (4H,), all uniform on +-1/sqrt(H). Each layer runs as one
``LSTMLayerFn`` over the whole sequence (``ops/rnn.py``): the input projection of all steps is
one GEMM, each step one fused 4-gate GEMM.
"""
import math

from .. import creation
from ..ops.rnn import lstm_layer
from ..ops.functions import stack
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _uniform_parameters(module, hidden_size):
    bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _weights(module, in_size, hidden_size, bias, suffix, device, dtype):
    """Register the four parameters of one LSTM layer under PyTorch's names."""
    shapes = {"weight_ih": (4 * hidden_size, in_size), "weight_hh": (4 * hidden_size, hidden_size)}
    if bias:
        shapes.update(bias_ih=(4 * hidden_size,), bias_hh=(4 * hidden_size,))
    for name, shape in shapes.items():
        setattr(module, name + suffix,
                Parameter(creation.empty(*shape, dtype=dtype, device=device)))


def _check_sizes(name, sizes):
    for key, value in sizes.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")


class LSTMCell(Module):
    """One LSTM step: ``(h', c') = cell(x, (h, c))`` for x of shape (N, input_size) or
    (input_size,), h and c of (N, hidden_size) (zeros when ``hx`` is None).

    i, f, o = sigmoid(.), g = tanh(.) of x W_ih^T + b_ih + h W_hh^T + b_hh split in four;
    c' = f c + i g; h' = o tanh(c').
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        _check_sizes("LSTMCell", {"input_size": input_size, "hidden_size": hidden_size})
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        _weights(self, input_size, hidden_size, bias, "", device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_parameters(self, self.hidden_size)

    def forward(self, input, hx=None):
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{self!r}: expected an input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {input.shape}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            h = c = creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype,
                                   device=x.device)
        else:
            h, c = (s if batched else s.unsqueeze(0) for s in hx)
        bias = (self.bias_ih, self.bias_hh) if self.bias else (None, None)
        _, h, c = lstm_layer(x.unsqueeze(0), h, c, self.weight_ih, self.weight_hh, *bias)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class LSTM(Module):
    """A stack of ``num_layers`` LSTM layers over a sequence: ``output, (h_n, c_n) =
    lstm(input, (h_0, c_0))``.

    input: (T, N, input_size), or (N, T, input_size) with ``batch_first``, or (T, input_size)
    unbatched; h_0, c_0: (num_layers, N, hidden_size), zeros when omitted. output holds the last
    layer's h_t of every step, (T, N, hidden_size) (batch first if asked); h_n, c_n each layer's
    last state. ``dropout`` is applied to the outputs of every layer but the last, in training.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, device=None, dtype=None):
        super().__init__()
        _check_sizes("LSTM", {"input_size": input_size, "hidden_size": hidden_size,
                              "num_layers": num_layers})
        if not 0 <= dropout <= 1:
            raise ValueError(f"LSTM: dropout must lie in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        for k in range(num_layers):
            _weights(self, input_size if k == 0 else hidden_size, hidden_size, bias, f"_l{k}",
                     device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_parameters(self, self.hidden_size)

    def forward(self, input, hx=None):
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(f"{self!r}: expected an input of shape (T, N, {self.input_size}) "
                             f"or (T, {self.input_size}), got {input.shape}")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if self.batch_first and batched:
            x = x.transpose(0, 1)
        n = x.shape[1]
        state = (self.num_layers, n, self.hidden_size)
        if hx is None:
            h0 = c0 = creation.zeros(*state, dtype=x.dtype, device=x.device)
        else:
            h0, c0 = (s if batched else s.unsqueeze(1) for s in hx)
            if h0.shape != state or c0.shape != state:
                raise ValueError(f"{self!r}: expected h_0 and c_0 of shape {state}, got "
                                 f"{h0.shape} and {c0.shape}")
        hs, cs = [], []
        for k in range(self.num_layers):
            names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
            weights = [getattr(self, f"{name}_l{k}") for name in names]
            x, h, c = lstm_layer(x, h0[k], c0[k], *weights)
            if self.dropout and self.training and k < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
            hs.append(h)
            cs.append(c)
        h_n, c_n = stack(hs), stack(cs)
        if not batched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s
