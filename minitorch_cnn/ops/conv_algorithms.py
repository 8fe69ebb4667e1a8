"""Which algorithm computes a convolution's forward pass and its input gradient.

Candidates: im2col + GEMM (``conv_im2col``; a 1x1 stride-1 convolution is one GEMM there) for
every convolution, and for stride-1 3x3 ones without dilation or groups Winograd's F(2x2,3x3)
and F(4x4,3x3) (``winograd``, Lavin & Gray 2016). The weight gradient is always im2col's.

* ``mt.backends.benchmark = False`` (the default): ``_rule`` picks, from the measurements
  noted at it.
* ``mt.backends.benchmark = True`` (PyTorch's ``torch.backends.cudnn.benchmark``): the first
  call with a new key (pass, input and weight shapes, geometry, groups, dtype, device, which
  gradients) runs every candidate twice and keeps the fastest second run for the process;
  ``chosen()`` shows the table.

Every candidate computes the same convolution; they differ in rounding only (Winograd's bound:
``winograd``). ``force(name)`` makes one candidate win wherever it applies (tests run the
oracle comparisons under each).
"""
import contextlib
import time

from .. import backend, config
from . import conv_im2col, winograd

ALGORITHMS = ("im2col", "winograd2", "winograd4")

_chosen = {}
_forced = None


def chosen():
    """{key: algorithm} of the convolutions timed so far (``mt.backends.benchmark``)."""
    return dict(_chosen)


@contextlib.contextmanager
def force(name):
    """Within the block, use algorithm ``name`` wherever it applies (im2col elsewhere)."""
    global _forced
    if name not in ALGORITHMS:
        raise ValueError(f"conv algorithm: expected one of {ALGORITHMS}, got {name!r}")
    previous, _forced = _forced, name
    try:
        yield
    finally:
        _forced = previous


def _candidates(w_shape, g, groups, dtype):
    if not winograd.applicable(w_shape, g, groups):
        return ("im2col",)
    if not winograd.f4_within_bound(w_shape, dtype):
        return ("im2col", "winograd2")
    return ALGORITHMS


# Winograd's rule: from this many input channels and output pixels per call (N out_h out_w).
# Measured against im2col (forward, float32, 2 threads; docs/kernels.md, "Winograd"): 1.3-2.3x
# faster from 784 pixels on, even at 392, 0.1-0.8x below (one 7x7 or 14x14 map: transforming
# a 512 x 512 filter costs more than im2col's whole layer); with 3 channels 0.5-0.9x (VGG's
# first layer at batch 1 and 4: its GEMMs have an inner dimension of 3), with 16 1.0-1.4x.
_WINOGRAD_MIN_CHANNELS = 16
_WINOGRAD_MIN_PIXELS = 784


def _rule(x_shape, w_shape, g, dtype):
    """The default choice: Winograd (``winograd.choose_m``'s tile size) where it was measured
    faster than im2col, im2col elsewhere."""
    n, c = x_shape[:2]
    if c < _WINOGRAD_MIN_CHANNELS or n * g.out_h * g.out_w < _WINOGRAD_MIN_PIXELS:
        return "im2col"
    return f"winograd{winograd.choose_m(w_shape, x_shape, dtype)}"


def _choose(pass_, x, w, g, groups, device, run, need_w=False):
    candidates = _candidates(w.shape, g, groups, x.dtype)
    if len(candidates) == 1:
        return candidates[0]
    if _forced is not None:
        return _forced if _forced in candidates else "im2col"
    if not config.backends.benchmark:
        return _rule(x.shape, w.shape, g, x.dtype)
    key = (pass_, tuple(x.shape), tuple(w.shape), tuple(g), groups, x.dtype.str, str(device),
           need_w)
    if key not in _chosen:
        _chosen[key] = _fastest(candidates, run, device)
    return _chosen[key]


def _fastest(candidates, run, device):
    times = {}
    for name in candidates:
        for _ in range(2):  # the first run may compile or fault in its workspace
            start = time.perf_counter()
            run(name)
            backend.synchronize(device)
            times[name] = time.perf_counter() - start
    return min(times, key=times.get)


def forward(x, w, groups, g, device, b=None, activation=None):
    """y = conv(x, w) + b, then ``activation`` (as ``conv_im2col.conv_forward``)."""
    def run(name):
        if name == "im2col":
            return conv_im2col.conv_forward(x, w, groups, g, device, b, activation)
        y = winograd.forward(x, w, g, int(name[-1]), device, b)
        conv_im2col.epilogue(backend.xp(y), y, None, activation)
        return y
    return run(_choose("forward", x, w, g, groups, device, run))


def backward(x, w, gy, groups, g, device, need_x, need_w):
    """(gx, gw) of ``forward`` for the upstream gradient gy (None where not needed)."""
    def run(name):
        if name == "im2col":
            return conv_im2col.conv_backward(x, w, gy, groups, g, device, x.shape, need_x,
                                             need_w)
        gx = winograd.input_grad(gy, w, g, int(name[-1]), device, x.shape)
        gw = (conv_im2col.conv_backward(x, w, gy, groups, g, device, x.shape, False, True)[1]
              if need_w else None)
        return gx, gw
    if not need_x:
        return run("im2col")
    return run(_choose("input_grad", gy, w, g, groups, device, run, need_w))
