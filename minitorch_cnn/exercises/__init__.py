"""Gradient-checking exercises with an automatic checker.

    python -m minitorch_cnn.exercises init DIR          # copy the exercise files into DIR
    python -m minitorch_cnn.exercises check DIR [NAME]  # grade them (all, or one exercise)

Each exercise is a Python file of documented functions to write (forward and backward passes on
NumPy arrays, float64), in the order a course takes them. ``check`` runs every function on random
cases (strides, padding, odd sizes), compares it with the engine's own op (``F.conv2d`` ...) and
with a numerical gradient, and prints PASS/FAIL with the relative error, the worst element and a
hint at the usual mistake. Functions still raising NotImplementedError are "not yet written".
"""
import importlib.resources
import os
import re
import shutil
import sys
import textwrap

from .checker import NOT_WRITTEN, ExerciseLoadError, check_exercise
from .specs_basic import ACTIVATIONS, BATCHNORM, DROPOUT, LINEAR, SOFTMAX_CE
from .specs_conv import CONV_NAIVE, CONV_TRANSPOSE, IM2COL, LOCAL_CONV, LRN, POOLING

EXERCISES = [LINEAR, ACTIVATIONS, SOFTMAX_CE, CONV_NAIVE, IM2COL, POOLING, BATCHNORM, DROPOUT,
             LRN, LOCAL_CONV, CONV_TRANSPOSE]

__all__ = ["EXERCISES", "NOT_WRITTEN", "ExerciseLoadError", "check", "find", "init", "templates"]


def templates():
    """The folder (a Traversable) that holds the exercise templates."""
    return importlib.resources.files(__name__) / "templates"


def init(folder, overwrite=False):
    """Copy the exercise files into ``folder``; existing files are kept unless ``overwrite``.
    Returns the names of the files written."""
    os.makedirs(folder, exist_ok=True)
    written = []
    for ex in EXERCISES:
        target = os.path.join(folder, ex.filename)
        if os.path.exists(target) and not overwrite:
            continue
        with open(target, "w", encoding="utf-8") as f:
            f.write((templates() / ex.filename).read_text(encoding="utf-8"))
        written.append(ex.filename)
    return written


def find(name):
    """The exercises that ``name`` selects: an exercise name ('conv_naive'), its number ('4'),
    its file ('ex04_conv_naive.py') or one of its functions."""
    key = name.lower().removesuffix(".py")
    for i, ex in enumerate(EXERCISES, 1):
        if key in (ex.name, ex.filename[:-3], str(i), f"{i:02d}", f"ex{i:02d}"):
            return [ex]
        if any(c.name == key for c in ex.checks):
            return [ex]
    valid = ", ".join(ex.name for ex in EXERCISES)
    raise ValueError(f"no exercise named {name!r}; the exercises are: {valid} "
                     "(or their numbers 1-11)")


def check(folder, name=None, out=sys.stdout):
    """Grade the exercises in ``folder`` (one when ``name`` is given) and print the report.
    Returns {filename: list of Results, or an ExerciseLoadError}."""
    folder = os.path.abspath(folder)
    selected = find(name) if name else EXERCISES
    present = [ex for ex in selected if os.path.exists(os.path.join(folder, ex.filename))]
    if not present:
        expected = ", ".join(ex.filename for ex in selected)
        raise FileNotFoundError(
            f"no exercise files in {folder} (expected {expected}); create them with "
            f"`python -m minitorch_cnn.exercises init {folder}`")
    stems = [ex.filename[:-3] for ex in EXERCISES]
    report = {}
    sys.path.insert(0, folder)  # exercise 11 may import exercise 5
    try:
        for ex in selected:
            _purge(stems)
            if ex not in present:
                out.write(f"{ex.filename}: missing (run init to create it)\n")
                continue
            try:
                report[ex.filename] = check_exercise(folder, ex)
            except ExerciseLoadError as exc:
                report[ex.filename] = exc
            _print(ex, report[ex.filename], out)
    finally:
        sys.path.remove(folder)
        _purge(stems)
    _summary(report, out)
    return report


def _purge(stems):
    for stem in stems:
        sys.modules.pop(stem, None)


def _print(ex, results, out):
    out.write(f"\n{ex.filename} ({ex.title})\n")
    if isinstance(results, Exception):
        out.write(f"  cannot load: {results}\n")
        return
    width = max(len(r.function) for r in results)
    for r in results:
        head = f"  {r.function:<{width}}  {r.status}"
        if r.status == "PASS":
            out.write(f"{head}  relative error {r.error:.1e} vs {r.engine}" +
                      (f"; {r.detail}" if r.detail else "") + "\n")
            continue
        out.write(head + (f"  {r.detail}" if r.detail and r.status != "FAIL" else "") + "\n")
        if r.status == "FAIL":
            pad = " " * (width + 4)
            for text in (r.detail, r.case and f"case: {r.case}", r.hint and f"hint: {r.hint}"):
                if text:
                    out.write(textwrap.fill(text, 100, initial_indent=pad,
                                            subsequent_indent=pad + "      ") + "\n")


def _summary(report, out):
    statuses = [r.status for rs in report.values() if isinstance(rs, list) for r in rs]
    broken = sum(isinstance(rs, Exception) for rs in report.values())
    counts = {s: statuses.count(s) for s in ("PASS", "FAIL", NOT_WRITTEN, "SKIP")}
    parts = [f"{v} {k.lower() if k != NOT_WRITTEN else k}" for k, v in counts.items() if v]
    if broken:
        parts.append(f"{broken} file(s) that cannot be loaded")
    out.write("\n" + re.sub(r"\s+", " ", ", ".join(parts) or "nothing checked") + "\n")
