"""One seeded random generator per device, so that ``manual_seed(n)`` makes every draw
(initialisation, dropout masks, shuffles, augmentations) reproducible."""
from .backend import CPU, as_device

_seed = None
_generators = {}


def manual_seed(seed):
    """Seed every device's generator with ``seed``; later draws repeat exactly."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(device=CPU):
    """The generator of ``device``: a ``numpy.random.Generator`` (a CuPy one on a real GPU)."""
    device = as_device(device)
    gen = _generators.get(device)
    if gen is None:
        gen = device.xp.random.default_rng(_seed)
        _generators[device] = gen
    return gen


def get_rng_state():
    """The state of every generator made so far (for checkpoints)."""
    return {"seed": _seed,
            "generators": {str(d): g.bit_generator.state for d, g in _generators.items()}}


def set_rng_state(state):
    """Restore what ``get_rng_state`` returned."""
    global _seed
    _seed = state["seed"]
    _generators.clear()
    for name, gen_state in state["generators"].items():
        generator(name).bit_generator.state = gen_state


__all__ = ["manual_seed", "generator", "get_rng_state", "set_rng_state"]
