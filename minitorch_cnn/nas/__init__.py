"""Neural architecture search (Zoph & Le, 2017): an LSTM controller trained with REINFORCE, and
a random-search baseline, over a small CNN space; ``python -m minitorch_cnn nas``.

- ``space``: the search space and the architecture dict (``SearchSpace``, ``validate``);
- ``build``: an architecture as an ``mt.nn`` module (``build(arch, in_channels, num_classes)``);
- ``controller``: the LSTM policy; ``strategies``: REINFORCE and random search;
- ``child``: training a child for a tiny budget; ``trials``: ``trials.jsonl`` / ``best.json``;
- ``search``: the loop (one process, or under ``mpiexec`` with ``mpi``); ``command``: the CLI.
"""
from .build import NASNet, build
from .controller import Controller
from .space import SearchSpace, validate
from .trials import load_model
from ..models import registry

registry.register_prefix("nas", load_model, input_size=(1, 28, 28),
                         help="nas:DIR/best.json, an architecture found by the nas command")
