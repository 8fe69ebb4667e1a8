"""Search strategies: what proposes the next architectures and learns from their rewards.

``Reinforce`` is Zoph & Le's (2017, sec. 3.2): the controller's parameters theta follow

    grad J(theta) ~ (1/m) sum_k (R_k - b) grad log P(a_k; theta),

for the m architectures a_k of one update with rewards R_k, b an exponential moving average of
earlier rewards (the variance-reducing baseline), optimised with Adam. The reward is the child's
validation accuracy as it is, in [0, 1] (the paper, sec. 4.1, takes the maximum over the last 5
epochs and cubes it; one or two child epochs have no such spread to sharpen). An optional
entropy bonus (weight ``entropy_weight``) keeps the policy from collapsing early.

``RandomSearch`` draws every architecture uniformly from the space: the baseline any learned
search has to beat on the same budget.

Both have ``propose(k) -> [arch]``, ``update(archs, rewards)``, and ``state_dict()`` /
``load_state_dict()`` holding everything a resumed search needs (weights, optimizer, baseline,
random state).
"""
import numpy as np

from .. import optim
from ..random import get_rng_state, set_rng_state
from .controller import Controller


def reinforce_loss(log_probs, rewards, baseline, entropies=None, entropy_weight=0.0):
    """The loss whose gradient is minus the REINFORCE estimate: -(1/m) sum_k (R_k - b) log P_k,
    minus ``entropy_weight`` times the mean entropy. ``log_probs``/``entropies``: lists of
    scalar tensors; ``rewards``: floats; ``baseline``: a float."""
    m = len(log_probs)
    loss = sum(lp * (-(float(r) - baseline) / m) for lp, r in zip(log_probs, rewards))
    if entropy_weight:
        loss = loss - sum(entropies) * (entropy_weight / m)
    return loss


class Reinforce:
    """The LSTM controller trained by REINFORCE with a moving-average baseline.

    ``lr``: Adam's step (the paper: 0.0006 for 12,800 children; a few dozen trials need larger
    steps). ``baseline_decay``: b <- decay b + (1 - decay) mean(R) after each update; the first
    batch's mean reward starts it.
    """

    name = "reinforce"

    def __init__(self, space, lr=0.005, baseline_decay=0.8, entropy_weight=0.0):
        self.space = space
        self.controller = Controller(space)
        self.optimizer = optim.Adam(self.controller.parameters(), lr=lr)
        self.baseline, self.baseline_decay = None, baseline_decay
        self.entropy_weight = entropy_weight

    def propose(self, k):
        return [self.controller.sample() for _ in range(k)]

    def update(self, archs, rewards):
        """One Adam step on the REINFORCE loss of ``archs`` with ``rewards``; returns the
        baseline used."""
        mean = float(np.mean(rewards))
        baseline = mean if self.baseline is None else self.baseline
        pairs = [self.controller.log_prob(a) for a in archs]
        loss = reinforce_loss([p[0] for p in pairs], rewards, baseline,
                              [p[1] for p in pairs], self.entropy_weight)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.baseline = self.baseline_decay * baseline + (1 - self.baseline_decay) * mean
        return baseline

    def state_dict(self):
        return {"controller": self.controller.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "baseline": self.baseline, "rng": get_rng_state()}

    def load_state_dict(self, state):
        self.controller.load_state_dict(state["controller"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baseline = state["baseline"]
        set_rng_state(state["rng"])


class RandomSearch:
    """Uniform random architectures from the space (a NumPy generator seeded by ``seed``)."""

    name = "random"

    def __init__(self, space, seed=0):
        self.space = space
        self.rng = np.random.default_rng(seed)

    def propose(self, k):
        return [self.space.random_arch(self.rng) for _ in range(k)]

    def update(self, archs, rewards):
        return None

    def state_dict(self):
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state["rng"]


STRATEGIES = {"reinforce": Reinforce, "random": RandomSearch}
