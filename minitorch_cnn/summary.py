"""Model summaries: per-layer output shapes, parameters, multiply-adds and receptive fields.

``summary(model, (3, 224, 224))`` runs one forward pass on a batch of random inputs, records
every leaf module's call, and returns a ``Summary`` that prints as a table::

    >>> s = summary(VGG16(), (3, 224, 224))
    >>> s.total_params, s.total_macs
    (138357544, 15470264320)

The receptive field of a layer is the size of the input window one of its output pixels sees;
the jump is the input-pixel distance between two adjacent output pixels (the product of the
strides so far). Through a k x k layer of stride s and dilation d they grow as

    rf_out = rf_in + (k - 1) * d * jump_in,      jump_out = jump_in * s

so two stacked 3x3 convolutions see 5x5 and three see 7x7 (Simonyan & Zisserman 2015). Where
branches meet (a residual sum, an Inception concatenation) the larger field is reported. The
geometry follows the data: it is taken from the autograd graph, so functional operations between
modules are followed too.

Multiply-adds count the convolutions (including locally-connected and transposed ones) and the
fully-connected layers, as the papers do; FLOPs are about twice that.
``python -m minitorch_cnn.summary vgg16 --input 3 224 224`` prints a zoo model's table.
"""
import argparse
import dataclasses
from typing import Optional, Tuple

import numpy as np

from .autograd import enable_grad
from .ops.arguments import pair
from .tensor import Tensor


@dataclasses.dataclass
class LayerInfo:
    """One call of a leaf module."""
    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int
    receptive_field: Optional[Tuple[int, int]]  # (height, width) in input pixels
    jump: Optional[Tuple[int, int]]              # (vertical, horizontal) input-pixel stride


@dataclasses.dataclass
class Summary:
    """What ``summary`` returns: totals, the per-layer rows in ``layers``, and the table."""
    input_size: tuple
    output_shape: tuple
    layers: list
    total_params: int
    trainable_params: int
    total_macs: int

    @property
    def non_trainable_params(self):
        return self.total_params - self.trainable_params

    @property
    def total_flops(self):
        """About two FLOPs (a multiply and an add) per multiply-add."""
        return 2 * self.total_macs

    def __str__(self):
        def geo(v):
            return "-" if v is None else (str(v[0]) if v[0] == v[1] else f"{v[0]}x{v[1]}")

        rows = [(f"{r.name} ({r.type})", str(r.output_shape), f"{r.params:,}", f"{r.macs:,}",
                 geo(r.receptive_field), geo(r.jump)) for r in self.layers]
        head = ("Layer (type)", "Output shape", "Params", "Mult-adds", "RF", "Jump")
        widths = [max(len(row[i]) for row in rows + [head]) for i in range(len(head))]

        def line(row):
            return "  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1])]
                             + [c.rjust(w) for c, w in zip(row[2:], widths[2:])])
        rule = "-" * len(line(head))
        lines = [rule, line(head), rule] + [line(r) for r in rows] + [rule]
        lines += [f"Input: {self.input_size}    Output: {self.output_shape}",
                  f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}",
                  f"Total mult-adds: {self.total_macs:,} ({self.total_macs / 1e9:.2f} G; "
                  f"FLOPs about {self.total_flops / 1e9:.2f} G)",
                  f"Parameter memory (float32): {self.total_params * 4 / 2**20:.1f} MiB", rule]
        return "\n".join(lines)

    __repr__ = __str__


def _macs(module, x, y):
    """Multiply-adds of one call for the whole batch."""
    kind = type(module).__name__
    if not isinstance(y, Tensor):
        return 0
    if kind == "Conv2d":
        kh, kw = pair(module.kernel_size, "kernel_size", "summary")
        return y.numel() * (module.in_channels // module.groups) * kh * kw
    if kind == "ConvTranspose2d":
        kh, kw = pair(module.kernel_size, "kernel_size", "summary")
        return x.numel() * (module.out_channels // module.groups) * kh * kw
    if kind == "LocallyConnected2d":
        return y.shape[0] * module.weight.numel()  # one weight per output pixel and input tap
    if kind == "Linear":
        return y.numel() * module.in_features
    if kind == "RoutingCapsules":  # u_hat_j|i = W_ij u_i (3 routing rounds add 5/8 of that)
        return x.shape[0] * module.weight.numel()
    return 0


def _layer_geometry(module, x, y, rf, jump):
    """(rf, jump) of the output of ``module`` given those of its input (square or not)."""
    kind = type(module).__name__
    if kind in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
        stride = tuple(max(i // max(o, 1), 1) for i, o in zip(x.shape[-2:], y.shape[-2:]))
        kernel = tuple(i - (o - 1) * s for i, o, s in zip(x.shape[-2:], y.shape[-2:], stride))
        dilation = (1, 1)
    elif hasattr(module, "kernel_size") and kind != "MaxUnpool2d":
        kernel = pair(module.kernel_size, "kernel_size", "summary")
        stride = pair(getattr(module, "stride", None) or module.kernel_size, "stride", "summary")
        dilation = pair(getattr(module, "dilation", 1), "dilation", "summary")
        if kind == "ConvTranspose2d":  # upsampling: finer steps, a window of k input pixels
            return (tuple(r + (k - 1) * j for r, k, j in zip(rf, kernel, jump)),
                    tuple(max(j // s, 1) for j, s in zip(jump, stride)))
    else:
        return rf, jump  # pointwise or across channels: the geometry does not change
    rf = tuple(r + (k - 1) * d * j for r, k, d, j in zip(rf, kernel, dilation, jump))
    return rf, tuple(j * s for j, s in zip(jump, stride))


class _Geometry:
    """Receptive field and jump of every tensor met, found through the autograd graph."""

    def __init__(self, x):
        self.known = {id(x): ((1, 1), (1, 1))}
        self.alive = [x]  # keeps ids from being reused while the summary runs

    def set(self, t, value):
        self.known[id(t)] = value
        self.alive.append(t)

    def of(self, t):
        """Walk back from ``t`` to tensors of known geometry; the largest where paths join."""
        stack = [t]
        while stack:
            u = stack[-1]
            if id(u) in self.known:
                stack.pop()
                continue
            parents = [p for p in getattr(u._ctx, "inputs", ()) if isinstance(p, Tensor)]
            todo = [p for p in parents if id(p) not in self.known]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            found = [self.known[id(p)] for p in parents if self.known[id(p)] is not None]
            value = None
            if found and u.ndim == 4:
                value = (tuple(max(f[0][i] for f in found) for i in range(2)),
                         tuple(max(f[1][i] for f in found) for i in range(2)))
            self.set(u, value)
        return self.known[id(t)]


def summary(model, input_size, batch_size=1, device="cpu", dtype=np.float32, train=False):
    """Summarise ``model`` on a random input of shape ``(batch_size, *input_size)``.

    Runs in eval mode unless ``train`` (auxiliary heads then appear as rows); the model's
    modes are restored afterwards. Returns a ``Summary``: ``total_params``, ``trainable_params``,
    ``total_macs`` (for the whole batch), ``layers`` (one ``LayerInfo`` per leaf-module call:
    name, type, output shape, parameters (on its first call), multiply-adds, receptive field and
    jump in input pixels), printed as a table by ``print``.
    """
    from . import creation
    input_size = tuple(int(n) for n in input_size)
    x = creation.randn(batch_size, *input_size, dtype=dtype, device=device)
    x.requires_grad = True  # so the graph records every op and the geometry can be followed
    geometry, layers, seen = _Geometry(x), [], set()
    modes = {id(m): m.training for m in model.modules()}
    hooked = [(name, m) for name, m in model.named_modules() if next(m.children(), None) is None]

    def hook(name, module, forward):
        def wrapper(*args, **kwargs):
            y = forward(*args, **kwargs)
            inp = args[0] if args and isinstance(args[0], Tensor) else None
            out = y[0] if isinstance(y, tuple) else y
            geo = geometry.of(inp) if inp is not None else None
            if isinstance(out, Tensor):
                value = None
                if geo is not None and out.ndim == 4 and inp.ndim == 4:
                    value = _layer_geometry(module, inp, out, *geo)
                geometry.set(out, value)
            params = 0 if id(module) in seen else sum(p.numel() for p in
                                                      module.parameters(recurse=False))
            seen.add(id(module))
            rf, jump = geometry.known.get(id(out)) or (None, None)
            layers.append(LayerInfo(name, type(module).__name__,
                                    tuple(out.shape) if isinstance(out, Tensor) else None,
                                    params, _macs(module, inp, out), rf, jump))
            return y
        return wrapper

    model.train(train)
    try:
        for name, m in hooked:
            object.__setattr__(m, "forward", hook(name, m, m.forward))
        with enable_grad():
            y = model(x)
    finally:
        for _, m in hooked:
            m.__dict__.pop("forward", None)
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])
    out = y[0] if isinstance(y, tuple) else y
    params = list(model.parameters())
    return Summary(input_size=(batch_size, *input_size), output_shape=tuple(out.shape),
                   layers=layers, total_params=sum(p.numel() for p in params),
                   trainable_params=sum(p.numel() for p in params if p.requires_grad),
                   total_macs=sum(r.macs for r in layers))


def main(argv=None):
    """``summary MODEL [--input C H W]``: print the summary of a zoo model."""
    parser = argparse.ArgumentParser(prog="python -m minitorch_cnn summary",
                                     description="Print a zoo model's layer table.")
    parser.add_argument("model", help="a model name, as train --model takes it: vgg16, "
                                      "ResNet50, lenet5-relu, ...")
    parser.add_argument("--input", nargs=3, type=int, metavar=("C", "H", "W"), default=None,
                        help="input size (default: the one the model is made for)")
    parser.add_argument("--num-classes", type=int, default=None)
    args = parser.parse_args(argv)
    from .models import registry
    try:
        input_size = tuple(args.input or registry.input_size(args.model))
        kwargs = {} if args.num_classes is None else {"num_classes": args.num_classes}
        model = registry.create(args.model, **kwargs)
    except ValueError as e:
        parser.error(str(e))
    print(summary(model, input_size))

if __name__ == "__main__":
    main()
