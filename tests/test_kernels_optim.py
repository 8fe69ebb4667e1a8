"""The fused optimizer updates (SGD, Adam/AdamW): CPU and CUDA against the NumPy reference
for every option, several steps, float32 and float64, non-contiguous parameters, and the
NumPy expressions the optimizers used before the kernels."""
import itertools
import math

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import kernels, optim
from minitorch_cnn.kernels.cpu import optim as cpu_optim

IMPLEMENTATIONS = ["cpu", pytest.param("cuda", marks=pytest.mark.cudasim)]
SGD_OPTIONS = [  # (momentum, dampening, weight_decay, nesterov, maximize)
    (m, d, wd, n, mx)
    for m, d, wd, n, mx in itertools.product((0, 0.9), (0, 0.3), (0, 0.01), (False, True),
                                             (False, True))
    if not (n and (m == 0 or d != 0)) and not (m == 0 and d != 0)]
ADAM_OPTIONS = list(itertools.product((0, 0.1), (False, True), (False, True), (False, True)))


def _check(implementation, ours, expected, dtype):
    for a, b in zip(ours, expected):
        if a is None:
            continue
        if implementation == "cpu":  # the same float operations in the same order
            np.testing.assert_array_equal(a, b)
        else:  # the simulator computes some intermediates in float64
            np.testing.assert_allclose(a, b, rtol=1e-5 if dtype == np.float32 else 1e-12)


def _run_sgd(implementation, dtype, rng, size, options, steps=3):
    momentum, dampening, wd, nesterov, maximize = options
    w = rng.standard_normal(size).astype(dtype)
    states = {impl: [w.copy(), np.empty_like(w) if momentum else None]
              for impl in ("reference", implementation)}
    for step in range(steps):
        g = rng.standard_normal(size).astype(dtype)
        for impl, (w_, buf) in states.items():
            kernels.load("sgd_update", impl)(w_, g, buf, 0.1, momentum, dampening, wd,
                                             nesterov, maximize, step == 0)
        _check(implementation, states[implementation], states["reference"], dtype)


def _run_adam(implementation, dtype, rng, size, options, steps=3):
    wd, decoupled, amsgrad, maximize = options
    w = rng.standard_normal(size).astype(dtype)
    states = {impl: [w.copy(), np.zeros_like(w), np.zeros_like(w),
                     np.zeros_like(w) if amsgrad else None]
              for impl in ("reference", implementation)}
    for step in range(1, steps + 1):
        g = rng.standard_normal(size).astype(dtype)
        for impl, (w_, m, v, vmax) in states.items():
            kernels.load("adam_update", impl)(w_, g, m, v, vmax, 0.01, 0.8, 0.9, 1e-8, wd,
                                              decoupled, maximize, step)
        _check(implementation, states[implementation], states["reference"], dtype)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_update_matches_reference(implementation, dtype, options, rng):
    _run_sgd(implementation, dtype, rng, (3, 5) if implementation == "cpu" else 7, options)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_update_matches_reference(implementation, dtype, options, rng):
    _run_adam(implementation, dtype, rng, (3, 5) if implementation == "cpu" else 7, options)


def test_cpu_parallel_path_above_the_threshold(rng):
    size = cpu_optim.PARALLEL_MIN + 3
    _run_sgd("cpu", np.float32, rng, size, (0.9, 0.1, 0.01, False, True), steps=2)
    _run_adam("cpu", np.float32, rng, size, (0.01, False, True, False), steps=2)


@pytest.mark.parametrize("implementation", ["reference", "cpu"])
def test_reference_equals_the_former_numpy_expressions(implementation, rng):
    # the optimizers' NumPy code before the kernels (float32: every rounding counts)
    w0 = rng.standard_normal((4, 6)).astype(np.float32)
    w, m, v, vmax = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), np.zeros_like(w0)
    ew, em, ev, evmax = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), np.zeros_like(w0)
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    for t in range(1, 4):
        g = rng.standard_normal(w0.shape).astype(np.float32)
        kernels.load("adam_update", implementation)(w, g, m, v, vmax, lr, b1, b2, eps, wd,
                                                    False, True, t)
        eg = -g
        eg = eg + wd * ew
        em *= b1
        em += eg * (1 - b1)
        ev *= b2
        ev += eg * (1 - b2) * eg
        np.maximum(evmax, ev, out=evmax)
        den = np.sqrt(evmax) / math.sqrt(1 - b2 ** t) + eps
        ew -= em * (lr / (1 - b1 ** t)) / den
        np.testing.assert_array_equal(w, ew)
        np.testing.assert_array_equal(vmax, evmax)


def test_non_contiguous_parameters_are_updated_in_place(rng):
    base = rng.standard_normal((6, 4)).astype(np.float32)
    g = rng.standard_normal((4, 6)).astype(np.float32)
    for name in ("sgd_update", "adam_update"):
        results = []
        for impl in ("reference", "cpu", "cuda"):
            w = base.copy().T  # a transposed view
            state = [np.zeros_like(w) for _ in range(3)]
            if name == "sgd_update":
                kernels.load(name, impl)(w, g, state[0], 0.1, 0.9, 0, 0, False, False, False)
            else:
                kernels.load(name, impl)(w, g, *state, 0.1, 0.9, 0.99, 1e-8, 0, False, False,
                                         1)
            results.append(w.copy())
        assert not np.array_equal(results[0], base.T)
        for r in results[1:]:
            np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.1, amsgrad=True))])
def test_optimizers_on_zero_d_and_empty_parameters(name, kwargs):
    # 0-d and empty parameters go through the kernels' flat views too
    params = [mt.tensor(np.float32(2.0), requires_grad=True),
              mt.tensor(np.zeros((0, 3), np.float32), requires_grad=True)]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(2):
        params[0].grad = mt.tensor(np.float32(1.0))
        params[1].grad = mt.tensor(np.zeros((0, 3), np.float32))
        opt.step()
    assert params[0].numpy() < 2.0 and params[0].dtype == np.float32
    assert params[1].shape == (0, 3)
