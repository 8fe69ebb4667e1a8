"""The kernel workshop: hand-written kernels behind one registry.

Each kernel family is one file in three places with the same function names and signatures:
``reference/`` (plain NumPy: slow, obvious, the oracle of the tests), ``cpu/`` (``@njit``) and
``cuda/`` (``@cuda.jit`` launched on CuPy arrays, or on NumPy arrays under Numba's CUDA simulator).
Ops never import a backend's file themselves; they ask ``get(name, device)``.

``use("reference")`` runs every op on the NumPy references (a setter and a context manager;
``MINITORCH_CNN_KERNELS=reference`` sets it at start-up, see ``minitorch_cnn/config.py``).

A subpackage like any other: it imports NumPy, Numba and CuPy only, never the rest of
minitorch_cnn, so it can be read, tested and reused on its own.
"""
import functools
import importlib

# kernel name -> the family file that defines it in reference/, cpu/ and cuda/
FAMILIES = {
    "scatter_add": "scatter",
    # --- convolution ---
    "im2col": "im2col",
    "col2im": "im2col",
    "depthwise_conv2d_fwd": "depthwise",
    "depthwise_conv2d_bwd_data": "depthwise",
    "depthwise_conv2d_bwd_filter": "depthwise",
    "winograd_input_transform": "winograd",
    "winograd_filter_transform": "winograd",
    "winograd_output_transform": "winograd",
    # --- pooling and locally-connected ---
    "max_pool2d_fwd": "pool",
    "max_pool2d_bwd": "pool",
    "avg_pool2d_fwd": "pool",
    "avg_pool2d_bwd": "pool",
    "max_unpool2d_fwd": "pool",
    "max_unpool2d_bwd": "pool",
    "local_unfold_fwd": "local_conv",
    "local_unfold_bwd": "local_conv",
    # --- normalization ---
    "lrn_fwd": "lrn",
    "lrn_bwd": "lrn",
    "norm_row_moments": "norm",
    "norm_row_grad_sums": "norm",
    "norm_affine": "norm",
    "norm_affine_bwd": "norm",
    "layer_norm_fwd": "norm",
    "layer_norm_bwd": "norm",
    "norm_col_moments": "norm",
    "norm_col_grad_sums": "norm",
    "norm_col_affine": "norm",
    "norm_col_affine_bwd": "norm",
    # --- activations, dropout, losses ---
    "relu_fwd": "activation",
    "relu_bwd": "activation",
    "relu6_fwd": "activation",
    "relu6_bwd": "activation",
    "leaky_relu_fwd": "activation",
    "leaky_relu_bwd": "activation",
    # --- optimizers ---
    "sgd_update": "optim",
    "adam_update": "optim",
    # --- int8 inference ---
    "int8_im2col": "int8",
    "int8_gemm_requant": "int8",
    "int8_quantize": "int8",
    "int8_dequantize_nchw": "int8",
    "int8_im2col_nhwc": "int8",
    "int8_max_pool2d_nhwc": "int8",
    "int8_avg_pool_nhwc": "int8",
    "int8_add_requant": "int8",
    "int8_conv2d_kmajor": "int8",
    "int8_gemm_operand": "int8",
}

IMPLEMENTATIONS = ("reference", "cpu", "cuda")


_forced = None  # "reference" while use("reference") is in force, else None


class use:
    """``kernels.use("reference")`` runs every kernel as its NumPy reference from now on;
    ``use("default")`` goes back to each device's own (cpu or cuda). As a context manager,
    ``with kernels.use("reference"): ...`` restores the previous choice on exit."""

    def __init__(self, implementation):
        global _forced
        if implementation not in ("reference", "default"):
            raise ValueError(f"kernels.use: expected 'reference' or 'default', got "
                             f"{implementation!r}")
        self.previous = _forced
        _forced = "reference" if implementation == "reference" else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _forced
        _forced = self.previous


def implementation_for(device):
    """Which implementation serves ``device`` (a Device or 'cpu'/'cuda') right now."""
    return _forced or (device if isinstance(device, str) else device.type)


@functools.lru_cache(maxsize=None)
def load(name, implementation):
    """The function ``name`` of one implementation ('reference', 'cpu' or 'cuda')."""
    if name not in FAMILIES:
        raise KeyError(f"no kernel named {name!r}; known kernels: {sorted(FAMILIES)}")
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    if implementation == "cpu":
        start_cpu_threads()
    module = importlib.import_module(f"{__name__}.{implementation}.{FAMILIES[name]}")
    return getattr(module, name)


def start_cpu_threads():
    """Start Numba's CPU thread pool as the CPU kernels want it (``cpu.start_threads``), once,
    before the first CPU kernel runs."""
    from . import cpu
    cpu.start_threads()


def get(name, device):
    """The kernel ``name`` for ``device``: the CPU or CUDA version, or the reference if forced."""
    return load(name, implementation_for(device))
