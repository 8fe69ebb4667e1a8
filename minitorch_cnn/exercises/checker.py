"""The grader: loads a student's exercise files, runs each function on random cases, compares it
with the engine's own op and with a numerical gradient, and explains the usual mistakes.

A function passes when, on every case, each output has the expected shape and
max_i |yours_i - expected_i| / (|yours_i| + |expected_i|) <= TOLERANCE (elements much smaller
than the array's largest are compared against that scale instead, so rounding at ~0 is no error).
"""
import ast
import contextlib
import importlib.util
import inspect
import io
import os
import sys
import textwrap
import traceback
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import numerical_grad
from .engine import EngineUnavailable

TOLERANCE = 1e-6
NOT_WRITTEN = "not yet written"


@dataclass
class Mistake:
    """A usual mistake and what it produces in output ``output``: an array ``alt``, a wrong
    ``shape``, errors confined to the elements of the boolean ``where``, or non-finite values
    (``nonfinite=True``)."""
    hint: str
    output: str
    alt: object = None
    shape: tuple = None
    where: object = None
    nonfinite: bool = False


@dataclass
class Case:
    """One random case: the arguments, the engine's expected outputs (named), the mistakes
    whose results are known for this case, and what the numerical gradient check needs (the
    forward's arguments and the upstream gradient)."""
    label: str
    args: tuple
    expected: tuple
    names: tuple
    mistakes: list = field(default_factory=list)
    forward_args: tuple = None
    gy: object = None


@dataclass
class Check:
    """One function of an exercise. ``cases(rng)`` builds the cases with the engine's op
    ``engine``; backward functions name their ``forward`` and the forward arguments ``wrt`` that
    their outputs differentiate (``engine_forward`` stands in for an unwritten forward)."""
    name: str
    engine: str
    cases: object
    hint: str
    forward: str = None
    wrt: tuple = ()
    engine_forward: object = None


@dataclass
class Exercise:
    name: str
    filename: str
    title: str
    checks: list


@dataclass
class Result:
    function: str
    status: str                     # PASS, FAIL, "not yet written", SKIP
    error: float = None
    numerical_error: float = None
    detail: str = ""
    hint: str = ""
    case: str = ""
    engine: str = ""


class ExerciseLoadError(Exception):
    """An exercise file that cannot be loaded; the message names the file and the line."""


# --- comparing ----------------------------------------------------------------------------------
def relative_errors(actual, expected):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, np.float64)
    scale = np.abs(expected).max(initial=0.0)
    denom = np.maximum(np.abs(actual) + np.abs(expected), 1e-6 * scale + 1e-12)
    return np.abs(actual - expected) / denom


def compare(actual, expected):
    """(max relative error, index of the worst element) of two same-shaped arrays."""
    err = relative_errors(actual, expected)
    if err.size == 0:
        return 0.0, ()
    err = np.where(np.isfinite(err), err, np.inf)
    worst = np.unravel_index(int(err.argmax()), err.shape)
    return float(err[worst]), tuple(int(i) for i in worst)


def _close(actual, alt):
    alt = np.asarray(alt)
    return actual.shape == alt.shape and compare(actual, alt)[0] <= 1e-6


def diagnose(name, actual, expected, mistakes):
    """The hint of the first known mistake that explains ``actual``, else ''."""
    for m in mistakes:
        if m.output != name:
            continue
        if actual.shape != expected.shape:
            if m.shape is not None and actual.shape == tuple(m.shape):
                return m.hint
            continue
        if m.nonfinite and not np.all(np.isfinite(actual)):
            return m.hint
        if m.alt is not None and _close(actual, m.alt):
            return m.hint
        if m.where is not None:
            wrong = relative_errors(actual, expected) > TOLERANCE
            if wrong.any() and not (wrong & ~np.asarray(m.where)).any():
                return m.hint
    if actual.shape == expected.shape and np.all(np.isfinite(actual)) and np.any(expected):
        ratio = float(np.vdot(actual, expected) / np.vdot(expected, expected))
        if abs(ratio + 1) < 1e-6 and _close(actual, -expected):
            return f"{name} has the wrong sign everywhere."
        if ratio != 0 and _close(actual, ratio * expected):
            return f"{name} is off by a constant factor: yours = {ratio:.4g} x expected."
    return ""


def _fmt(v):
    return f"{v:.4g}" if np.isfinite(v) else str(v)


# --- running the student's code -----------------------------------------------------------------
def _student_frame(exc, folder):
    """'line N of FILE' for the deepest traceback frame in the student's folder."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename).startswith(folder + os.sep):
            where = f"line {frame.lineno} of {os.path.basename(frame.filename)}"
    return where


def _call(fn, args):
    """Call fn on copies of the arguments (so in-place changes cannot spoil the comparison)."""
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def _as_outputs(out, names):
    if out is None:
        raise ValueError("returned None (a missing `return`?)")
    if len(names) == 1:
        return (np.asarray(out, dtype=np.float64),)
    if not isinstance(out, (tuple, list)) or len(out) != len(names):
        got = len(out) if isinstance(out, (tuple, list)) else 1
        raise ValueError(f"returned {got} value(s), expected {len(names)}: "
                         f"({', '.join(names)})")
    for name, o in zip(names, out):
        if o is None:
            raise ValueError(f"returned None for {name}")
    return tuple(np.asarray(o, dtype=np.float64) for o in out)


def _numerical(module, check, case, folder):
    """The numerical gradients of the forward (the student's if written, else the engine's)
    at case.forward_args, projected on case.gy; and which forward was used."""
    forward = getattr(module, check.forward, None)
    label = f"your {check.forward}"
    try:
        _call(forward, case.forward_args)
    except Exception:
        forward, label = check.engine_forward, check.engine
    grads = []
    for i in check.wrt:
        args = [a.copy() if isinstance(a, np.ndarray) else a for a in case.forward_args]

        def f(a, i=i, args=args):
            args[i] = a
            with np.errstate(all="ignore"):
                return forward(*args)
        grads.append(numerical_grad(f, args[i], df=case.gy))
    return tuple(grads), label


def run_check(module, check, cases, folder):
    fn = getattr(module, check.name, None)
    if fn is None:
        return Result(check.name, "FAIL", detail=f"{check.name} is missing from the file")
    worst = 0.0
    for case in cases:
        try:
            out = _as_outputs(_call(fn, case.args), case.names)
        except NotImplementedError as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if os.path.abspath(f.filename).startswith(folder + os.sep)]
            last = frames[-1] if frames else None
            own = last is None or os.path.basename(last.filename) == f"{module.__name__}.py"
            return Result(check.name, NOT_WRITTEN, detail="" if own else
                          f"(it uses {last.name} of {os.path.basename(last.filename)}, which "
                          f"is not yet written)")
        except Exception as exc:
            where = _student_frame(exc, folder)
            return Result(check.name, "FAIL", case=case.label, hint=check.hint,
                          detail=f"raised {type(exc).__name__}: {exc}"
                                 + (f" ({where})" if where else ""))
        for name, actual, expected in zip(case.names, out, case.expected):
            expected = np.asarray(expected, dtype=np.float64)
            if actual.shape != expected.shape:
                hint = diagnose(name, actual, expected, case.mistakes) or check.hint
                return Result(check.name, "FAIL", case=case.label, hint=hint,
                              detail=f"{name} has shape {actual.shape}, expected "
                                     f"{expected.shape}")
            err, idx = compare(actual, expected)
            if err > TOLERANCE:
                hint = diagnose(name, actual, expected, case.mistakes) or check.hint
                where = f" at index {idx}" if idx else ""
                return Result(check.name, "FAIL", error=err, case=case.label, hint=hint,
                              detail=f"{name}: relative error {err:.2g}{where}: yours "
                                     f"{_fmt(actual[idx])}, expected {_fmt(expected[idx])}")
            worst = max(worst, err)
    result = Result(check.name, "PASS", error=worst, engine=check.engine)
    if check.forward and cases[0].forward_args is not None:
        numerical, label = _numerical(module, check, cases[0], folder)
        out = _as_outputs(_call(fn, cases[0].args), cases[0].names)
        result.numerical_error = max(compare(a, n)[0] for a, n in zip(out, numerical))
        result.detail = f"vs the numerical gradient of {label}: {result.numerical_error:.1e}"
        if result.numerical_error > 1e-5:  # central differences are good to ~1e-8 here
            result.status = "FAIL"
            result.hint = (f"your backward agrees with {check.engine} but not with the "
                           f"numerical gradient of {label}: is your forward right?")
    return result


# --- loading ------------------------------------------------------------------------------------
def _purge(stems):
    for stem in stems:
        sys.modules.pop(stem, None)


def load_module(path):
    """Import the file at ``path`` under its stem; syntax and import errors name file and line."""
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        code = compile(source, path, "exec")
    except SyntaxError as exc:
        text = (exc.text or "").strip()
        raise ExerciseLoadError(f"{os.path.basename(path)}, line {exc.lineno}: "
                                f"SyntaxError: {exc.msg}" + (f"\n    {text}" if text else ""))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        sys.modules.pop(name, None)
        line = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
                if os.path.abspath(f.filename) == os.path.abspath(path)]
        at = f", line {line[-1]}" if line else ""
        raise ExerciseLoadError(f"{os.path.basename(path)}{at}: {type(exc).__name__} while "
                                f"importing: {exc}")
    return module


_CASES = {}


def _cases(exercise, rng=None):
    """Each check's cases (or the EngineUnavailable that prevents them). With the default
    generator they are the same on every call, so they are built once per process."""
    if rng is None and exercise.name in _CASES:
        return _CASES[exercise.name]
    generator = rng or np.random.default_rng(0)
    built = []
    for check in exercise.checks:
        try:
            built.append(check.cases(generator))
        except EngineUnavailable as exc:
            built.append(exc)
    if rng is None:
        _CASES[exercise.name] = built
    return built


def untouched(fn):
    """Whether ``fn`` is still the template's stub: its body (after the docstring) is only
    ``raise NotImplementedError``. Read from the source, so nothing runs."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0].body if tree.body and hasattr(tree.body[0], "body") else []
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def check_exercise(folder, exercise, rng=None):
    """Grade one exercise in ``folder``: a list of Results (or raises ExerciseLoadError).

    An exercise whose functions are all untouched stubs is "not yet written" at once: its cases
    are not built, so the engine ops they compare with are not run (nor their kernels compiled).
    """
    folder = os.path.abspath(folder)
    module = load_module(os.path.join(folder, exercise.filename))
    if all(untouched(getattr(module, c.name, None)) for c in exercise.checks):
        return [Result(c.name, NOT_WRITTEN) for c in exercise.checks]
    results = []
    for check, cases in zip(exercise.checks, _cases(exercise, rng)):
        if isinstance(cases, EngineUnavailable):
            results.append(Result(check.name, "SKIP", detail=f"cannot compare: {cases}"))
        else:
            results.append(run_check(module, check, cases, folder))
    failed = {r.function for r in results if r.status == "FAIL"}
    for r in results:
        calls = getattr(getattr(module, r.function, None), "__code__", None)
        culprits = sorted(failed & set(calls.co_names if calls else ()) - {r.function})
        if r.status == "FAIL" and culprits:
            r.hint = f"it calls {', '.join(culprits)}, which fails: fix that first."
    return results
