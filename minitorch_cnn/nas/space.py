"""The search space: the CNN space of Zoph & Le (2017, sec. 3.1 and 4.1), scaled down.

Each of ``layers`` convolutional layers is described by the controller's decisions, in order:
filter height and width in {1, 3, 5, 7}, number of filters in {24, 36, 48, 64}, the stride in
{1, 2} (the paper's CIFAR-10 space predicts strides in one of its variants; ``strides=(1,)``
turns it off), and its inputs: any subset of the earlier layers, chosen by the anchor points
(sec. 3.3). An architecture is the JSON-able dict the controller emits::

    {"layers": [{"filter_height": 3, "filter_width": 5, "num_filters": 36, "stride": 1,
                 "inputs": []},
                {"filter_height": 1, "filter_width": 7, "num_filters": 24, "stride": 2,
                 "inputs": [0]}, ...]}

``inputs`` lists indices of earlier layers (empty: the image, as in the paper).
"""
from dataclasses import dataclass

FILTER_SIZES = (1, 3, 5, 7)
NUM_FILTERS = (24, 36, 48, 64)
STRIDES = (1, 2)
LAYER_KEYS = ("filter_height", "filter_width", "num_filters", "stride", "inputs")


@dataclass(frozen=True)
class SearchSpace:
    """``layers`` layers, each with the choices below; ``decisions`` lists the categorical
    decisions of one layer in the controller's order with their choices."""
    layers: int
    filter_sizes: tuple = FILTER_SIZES
    num_filters: tuple = NUM_FILTERS
    strides: tuple = STRIDES

    def __post_init__(self):
        if not isinstance(self.layers, int) or self.layers < 1:
            raise ValueError(f"SearchSpace: layers must be a positive integer, got "
                             f"{self.layers!r}")

    @property
    def decisions(self):
        """(key, choices) for each categorical decision of a layer, in the controller's order
        (a decision with a single choice is not asked)."""
        table = (("filter_height", self.filter_sizes), ("filter_width", self.filter_sizes),
                 ("num_filters", self.num_filters), ("stride", self.strides))
        return tuple((k, tuple(c)) for k, c in table if len(c) > 1)

    def fixed(self):
        """The keys with a single choice, and that choice (filled in without a decision)."""
        table = {"filter_height": self.filter_sizes, "filter_width": self.filter_sizes,
                 "num_filters": self.num_filters, "stride": self.strides}
        return {k: c[0] for k, c in table.items() if len(c) == 1}

    def random_arch(self, rng):
        """An architecture drawn uniformly: every choice equally likely, each earlier layer an
        input with probability 1/2 (``rng`` a ``numpy.random.Generator``)."""
        layers = []
        for i in range(self.layers):
            layer = {k: c[int(rng.integers(len(c)))] for k, c in self.decisions}
            layer.update(self.fixed())
            layer["inputs"] = [j for j in range(i) if rng.random() < 0.5]
            layers.append({k: layer[k] for k in LAYER_KEYS})
        return {"layers": layers}

    def validate(self, arch):
        """``arch`` itself if it lies in this space; else a ValueError naming the bad key."""
        validate(arch, self)
        if len(arch["layers"]) != self.layers:
            raise ValueError(f"arch: expected {self.layers} layers, got {len(arch['layers'])}")
        return arch


def validate(arch, space=None):
    """Check an architecture dict (see the module docstring) against ``space`` (by default the
    full choice sets, any number of layers): unknown keys, missing keys and values outside the
    space raise a ValueError naming the layer and key."""
    space = space or SearchSpace(layers=1)
    if not isinstance(arch, dict):
        raise ValueError(f"arch: expected a dict with the key 'layers', got "
                         f"{type(arch).__name__}")
    unknown = sorted(set(arch) - {"layers"})
    if unknown:
        raise ValueError(f"arch: unknown key {unknown[0]!r} (expected only 'layers')")
    layers = arch.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"arch: 'layers' must be a non-empty list, got {layers!r}")
    choices = {"filter_height": space.filter_sizes, "filter_width": space.filter_sizes,
               "num_filters": space.num_filters, "stride": space.strides}
    for i, layer in enumerate(layers):
        where = f"arch: layer {i}"
        if not isinstance(layer, dict):
            raise ValueError(f"{where}: expected a dict, got {type(layer).__name__}")
        unknown = sorted(set(layer) - set(LAYER_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r}; expected {LAYER_KEYS}")
        missing = [k for k in LAYER_KEYS if k not in layer]
        if missing:
            raise ValueError(f"{where}: missing key {missing[0]!r}")
        for key, allowed in choices.items():
            value = layer[key]
            if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
                raise ValueError(f"{where}: {key} = {value!r} is outside the search space "
                                 f"{tuple(allowed)}")
        inputs = layer["inputs"]
        if (not isinstance(inputs, list) or len(set(inputs)) != len(inputs)
                or any(isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < i
                       for j in inputs)):
            raise ValueError(f"{where}: inputs = {inputs!r} must list distinct earlier layers "
                             f"(integers in [0, {i}))")
    return arch
