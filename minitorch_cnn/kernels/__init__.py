"""The kernel workshop: hand-written kernels behind one registry.

Each kernel family is one file in three places with the same function names and signatures:
``reference/`` (plain NumPy: slow, obvious, the oracle of the tests), ``cpu/`` (``@njit``) and
``cuda/`` (``@cuda.jit`` launched on CuPy arrays, or on NumPy arrays under Numba's CUDA simulator).
Ops never import a backend's file themselves; they ask ``get(name, device)``.

Set ``MINITORCH_CNN_KERNELS=reference`` to run every op on the NumPy references.

A subpackage like any other; nothing here imports the rest of minitorch_cnn.
"""
import functools
import importlib
import os

# kernel name -> the family file that defines it in reference/, cpu/ and cuda/
FAMILIES = {
    "scatter_add": "scatter",
    # --- convolution ---
    "im2col": "im2col",
    "col2im": "im2col",
    "depthwise_conv2d_fwd": "depthwise",
    "depthwise_conv2d_bwd_data": "depthwise",
    "depthwise_conv2d_bwd_filter": "depthwise",
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
}

IMPLEMENTATIONS = ("reference", "cpu", "cuda")


def implementation_for(device):
    """Which implementation serves ``device`` (a Device or 'cpu'/'cuda') right now."""
    if os.environ.get("MINITORCH_CNN_KERNELS") == "reference":
        return "reference"
    return device if isinstance(device, str) else device.type


@functools.lru_cache(maxsize=None)
def load(name, implementation):
    """The function ``name`` of one implementation ('reference', 'cpu' or 'cuda')."""
    if name not in FAMILIES:
        raise KeyError(f"no kernel named {name!r}; known kernels: {sorted(FAMILIES)}")
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    module = importlib.import_module(f"{__name__}.{implementation}.{FAMILIES[name]}")
    return getattr(module, name)


def start_cpu_threads():
    """Start Numba's CPU thread pool as the CPU kernels want it (``cpu.start_threads``)."""
    importlib.import_module(f"{__name__}.cpu")


def get(name, device):
    """The kernel ``name`` for ``device``: the CPU or CUDA version, or the reference if forced."""
    return load(name, implementation_for(device))
