"""The checks of ``mt.autograd.detect_anomaly()``: find the op that first makes a NaN or Inf.

While anomaly mode is on, ``Function.apply`` calls ``check_forward`` after every op: it records
on the op's node where the op was created (the first line of code outside the engine's own
layers, i.e. the user's model or script, and the engine function it went through) and the shapes
of its inputs, and raises ``AnomalyError`` if an output holds a NaN or an Inf. ``run_backward``
calls ``check_backward`` after every node's backward, which raises if a gradient it returned
holds one. With the mode off none of this runs: ops record nothing and check nothing.
"""
import os
import sys

from . import backend

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# the engine's own layers: frames in them are skipped when looking for the creating line
_INTERNAL = tuple(os.path.join(_PACKAGE, name) for name in
                  ("autograd.py", "anomaly.py", "tensor.py", "creation.py", "ops" + os.sep,
                   "nn" + os.sep))


class AnomalyError(RuntimeError):
    """A NaN or Inf found by anomaly mode. ``fn`` is the op's Function class, ``phase``
    ``"forward"`` or ``"backward"``, ``where`` the ``(file, line, function)`` that created the
    op (None when the graph was built outside anomaly mode), ``input_shapes`` its inputs'."""

    def __init__(self, message, fn, phase, where, input_shapes):
        super().__init__(message)
        self.fn, self.phase, self.where, self.input_shapes = fn, phase, where, input_shapes


def _creation_site():
    """``(user frame, engine frame)`` of the op being applied, each ``(file, line, function)``:
    the first frame outside the engine's layers, and the last one inside them before it."""
    frame, via = sys._getframe(2), None
    while frame is not None:
        filename = frame.f_code.co_filename
        site = (filename, frame.f_lineno, frame.f_code.co_name)
        if not os.path.abspath(filename).startswith(_INTERNAL):
            return site, via
        via, frame = site, frame.f_back
    return via, None


def _format_site(site):
    import linecache  # (only when an anomaly is reported: it costs start-up time)
    filename, line, function = site
    code = linecache.getline(filename, line).strip()
    return f"{filename}:{line} in {function}" + (f": {code}" if code else "")


def _shape_of(a):
    shape = getattr(a, "shape", None)
    return None if shape is None else tuple(shape)


def _bad_values(a):
    """'NaN', 'Inf', 'NaN and Inf' or None for an array (non-float arrays are never bad)."""
    if getattr(getattr(a, "dtype", None), "kind", None) not in ("f", "c"):
        return None
    xp = backend.xp(a)
    if bool(xp.isfinite(a).all()):
        return None
    nan, inf = bool(xp.isnan(a).any()), bool(xp.isinf(a).any())
    return " and ".join(name for name, found in (("NaN", nan), ("Inf", inf)) if found)


def _describe(shapes):
    return ", ".join("scalar" if s is None else str(s) for s in shapes) or "none"


def check_forward(cls, ctx, arrays, outputs):
    """Record where the op ``cls`` was created on ``ctx``; raise if an output is not finite."""
    site, via = _creation_site()
    shapes = tuple(_shape_of(a) for a in arrays)
    ctx.anomaly = (site, via, shapes)
    for i, out in enumerate(outputs):
        bad = _bad_values(out.data)
        if bad is None:
            continue
        inputs = [j for j, a in enumerate(arrays) if _bad_values(a) is not None]
        cause = ("" if not inputs else
                 f"; input {inputs[0]} was already non-finite (it was made outside anomaly "
                 "mode: data, a parameter or a tensor built before the mode was turned on)")
        raise AnomalyError(
            f"detect_anomaly: {cls.__name__} produced {bad} in the forward pass (output {i}, "
            f"shape {tuple(out.shape)}) from inputs of shapes {_describe(shapes)}{cause}\n"
            + _where(site, via), cls, "forward", site, shapes)


def check_root(grad):
    """The gradient handed to ``backward()`` itself must be finite."""
    bad = _bad_values(grad)
    if bad is not None:
        raise AnomalyError(f"detect_anomaly: the gradient passed to backward() holds {bad}",
                           None, "backward", None, ())


def check_backward(node, in_grads):
    """Raise if the backward of ``node`` returned a non-finite gradient."""
    for i, g in enumerate(in_grads):
        bad = None if g is None else _bad_values(g)
        if bad is None:
            continue
        site, via, shapes = getattr(node, "anomaly", (None, None, ()))
        name = node.fn.__name__
        raise AnomalyError(
            f"detect_anomaly: {name}.backward returned {bad} in the gradient of input {i} "
            f"(shape {_shape_of(g)}); the op's inputs had shapes {_describe(shapes)}\n"
            + _where(site, via), node.fn, "backward", site, shapes)


def _where(site, via):
    if site is None:
        return ("  created at: unknown (the graph was built outside anomaly mode; build it "
                "inside detect_anomaly() to see where)")
    text = f"  created at {_format_site(site)}"
    if via is not None:
        text += f"\n  through {_format_site(via)}"
    return text
