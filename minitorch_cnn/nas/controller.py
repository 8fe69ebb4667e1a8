"""The controller of Zoph & Le (2017): a recurrent network that emits a CNN layer by layer.

A 2-layer LSTM with 35 hidden units (sec. 4.1) runs one step per decision. Each decision kind
(filter height, filter width, number of filters, stride) has its own softmax classifier on the
LSTM output and its own embedding, and the embedding of the choice made is the next step's input
(sec. 3.1). After a layer's decisions comes its anchor point (sec. 3.3): one more LSTM step,
whose output h_i is kept; earlier layer j is an input of layer i with probability

    P(j -> i) = sigmoid(v^T tanh(W_prev h_j + W_curr h_i)),

one independent Bernoulli decision per earlier layer. Here a Bernoulli is a two-way Categorical
with logits (0, a): softmax((0, a))_1 = sigmoid(a). The input after an anchor point is the mean
of the chosen layers' anchor outputs (the start embedding when none is chosen).

``sample()`` draws an architecture (no graph); ``log_prob(arch)`` replays it with the graph
(teacher forcing), which is what the REINFORCE update differentiates, and ``steps(arch)`` gives
each decision's distribution and choice (for tests and for looking inside).
"""
import numpy as np

from .. import nn
from ..autograd import no_grad
from ..creation import tensor, zeros
from ..distributions import Categorical
from ..nn import functional as F
from ..ops.functions import cat, stack
from .space import LAYER_KEYS

HIDDEN_SIZE = 35  # the paper's controller: 2 layers of 35 hidden units
NUM_LAYERS = 2


class Controller(nn.Module):
    """The LSTM controller over ``space`` (a ``SearchSpace``)."""

    def __init__(self, space, hidden_size=HIDDEN_SIZE, num_layers=NUM_LAYERS):
        super().__init__()
        self.space, self.hidden_size = space, hidden_size
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers)
        self.start = nn.Embedding(1, hidden_size)
        self.embeddings = nn.ModuleDict({k: nn.Embedding(len(c), hidden_size)
                                         for k, c in space.decisions})
        self.heads = nn.ModuleDict({k: nn.Linear(hidden_size, len(c))
                                    for k, c in space.decisions})
        self.w_prev = nn.Linear(hidden_size, hidden_size, bias=False)
        self.w_curr = nn.Linear(hidden_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)
        for p in self.parameters():  # ENAS's and the paper's small uniform initialisation
            nn.init.uniform_(p, -0.08, 0.08)

    def sample(self):
        """A new architecture drawn from the policy (the device generator: ``mt.manual_seed``)."""
        with no_grad():
            return self._run(None)[0]

    def log_prob(self, arch):
        """(log P(arch), entropy summed over its decisions), both differentiable."""
        _, steps = self._run(arch)
        return (sum(d.log_prob(v).sum() for _, d, v in steps),
                sum(d.entropy().sum() for _, d, v in steps))

    def steps(self, arch):
        """[(decision name, Categorical, choice index)] for every decision of ``arch``."""
        return self._run(arch)[1]

    def _step(self, x, state):
        out, state = self.lstm(x.reshape(1, 1, self.hidden_size), state)
        return out.reshape(1, self.hidden_size), state

    def _decide(self, key, logits, given, steps):
        """One decision: sample it (``given`` None) or replay ``given``; record the step."""
        dist = Categorical(logits=logits)
        value = dist.sample() if given is None else tensor(np.asarray(given, dtype=np.int64))
        steps.append((key, dist, value))
        return value.numpy()

    def _run(self, arch):
        """Walk the decisions of every layer, sampling each (``arch`` None) or replaying
        ``arch``'s; returns (the arch, the steps)."""
        if arch is not None:
            self.space.validate(arch)
        steps, layers, anchors, keys = [], [], [], []
        x, state = self.start(np.zeros(1, dtype=np.int64)), None
        for i in range(self.space.layers):
            layer = dict(self.space.fixed())
            for key, choices in self.space.decisions:
                h, state = self._step(x, state)
                given = None if arch is None else choices.index(arch["layers"][i][key])
                index = int(self._decide(key, self.heads[key](h).reshape(-1), given, steps))
                layer[key] = choices[index]
                x = self.embeddings[key](np.array([index]))
            h, state = self._step(x, state)  # the anchor point of layer i
            chosen = []
            if i:
                a = self.v(F.tanh(stack(keys).reshape(i, self.hidden_size)
                                + self.w_curr(h))).reshape(i, 1)
                logits = cat([zeros(i, 1, dtype=a.dtype, device=a.device), a], axis=1)
                given = None if arch is None else [int(j in arch["layers"][i]["inputs"])
                                                   for j in range(i)]
                chosen = [j for j, c in enumerate(self._decide("inputs", logits, given, steps))
                          if c]
            layer["inputs"] = chosen
            layers.append({k: layer[k] for k in LAYER_KEYS})
            anchors.append(h)
            keys.append(self.w_prev(h))
            x = (sum(anchors[j] for j in chosen) * (1.0 / len(chosen)) if chosen
                 else self.start(np.zeros(1, dtype=np.int64)))
        return {"layers": layers}, steps
