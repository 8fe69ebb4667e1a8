"""Categorical: sampling frequencies, log_prob and entropy against NumPy and torch, gradients,
seeding, bad input."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.distributions import Categorical
from helpers import assert_close, make


def test_sample_frequencies_follow_probs():
    probs = np.array([[0.1, 0.6, 0.0, 0.3], [0.25, 0.25, 0.25, 0.25]])
    samples = Categorical(probs=mt.tensor(probs)).sample((20000,)).numpy()
    assert samples.shape == (20000, 2) and samples.dtype == np.int64
    for row in range(2):
        freq = np.bincount(samples[:, row], minlength=4) / len(samples)
        assert_close(freq, probs[row], atol=0.015)
    assert not (samples[:, 0] == 2).any()


def test_seeded_samples_repeat():
    logits = mt.randn(3, 5)
    mt.manual_seed(7)
    a = Categorical(logits=logits).sample((4,)).numpy()
    mt.manual_seed(7)
    b = Categorical(logits=logits).sample((4,)).numpy()
    assert (a == b).all()


def test_log_prob_and_entropy(rng, device):
    logits = make(rng, 3, 4, device=device)
    dist = Categorical(logits=logits)
    p = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(-1, keepdims=True)
    value = np.array([2, 0, 3])
    assert_close(dist.log_prob(mt.tensor(value)), np.log(p[np.arange(3), value]), rtol=1e-12)
    assert_close(dist.entropy(), -(p * np.log(p)).sum(-1), rtol=1e-12)
    assert_close(dist.probs, p, rtol=1e-12)
    assert dist.sample((5,)).shape == (5, 3) and dist.sample().device == logits.device
    # grad log p(a) with respect to the logits is one_hot(a) - softmax(logits)
    dist.log_prob(mt.tensor(value)).sum().backward()
    assert_close(logits.grad, np.eye(4)[value] - p, rtol=1e-12)
    assert mt.gradcheck(lambda x: Categorical(logits=x).entropy(), [make(rng, 2, 3)])
    assert mt.gradcheck(lambda x: Categorical(probs=x).log_prob(np.array([1, 0])),
                        [make(rng, 2, 3, low=0.1, high=1.0)])


def test_zero_probability_entropy_is_finite():
    dist = Categorical(probs=mt.tensor([0.5, 0.5, 0.0]))
    assert_close(dist.entropy(), np.log(2))


def test_bad_input():
    with pytest.raises(ValueError, match="exactly one of probs or logits"):
        Categorical()
    with pytest.raises(ValueError, match="non-negative"):
        Categorical(probs=mt.tensor([0.5, -0.1]))
    with pytest.raises(ValueError, match=r"values must lie in \[0, 3\)"):
        Categorical(logits=mt.zeros(3)).log_prob(mt.tensor([3]))
    with pytest.raises(TypeError, match="integer values"):
        Categorical(logits=mt.zeros(3)).log_prob(mt.tensor([1.0]))


@pytest.mark.oracle
def test_equals_torch(torch, rng):
    logits = rng.normal(size=(2, 5))
    ours = Categorical(logits=mt.tensor(logits))
    theirs = torch.distributions.Categorical(logits=torch.tensor(logits))
    value = np.array([[4, 1], [0, 0], [3, 2]])
    assert_close(ours.log_prob(mt.tensor(value)), theirs.log_prob(torch.tensor(value)).numpy(),
                 rtol=1e-12)
    assert_close(ours.entropy(), theirs.entropy().numpy(), rtol=1e-12)
    assert_close(ours.logits, theirs.logits.numpy(), rtol=1e-12)
    assert ours.sample((3,)).shape == tuple(theirs.sample((3,)).shape)
