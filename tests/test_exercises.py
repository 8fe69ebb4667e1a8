"""The exercise checker: reference solutions pass, each broken variant fails with its hint,
unwritten functions are "not yet written", and bad folders or files are named clearly.

Reference solutions live in tests/exercise_solutions/solutions/; each file of
tests/exercise_solutions/broken/ (named <exercise file>__<mistake>.py) redefines one function
with a usual mistake and says, in its header, which function and which hint it expects.
"""
import io
import os
import shutil
import subprocess
import sys

import pytest

from minitorch_cnn import exercises
from minitorch_cnn.exercises import NOT_WRITTEN

HERE = os.path.dirname(__file__)
SOLUTIONS = os.path.join(HERE, "exercise_solutions", "solutions")
BROKEN = os.path.join(HERE, "exercise_solutions", "broken")
BROKEN_FILES = sorted(f for f in os.listdir(BROKEN) if f.endswith(".py"))


def _solved(tmp_path):
    for name in os.listdir(SOLUTIONS):
        if name.endswith(".py"):
            shutil.copy(os.path.join(SOLUTIONS, name), tmp_path / name)
    return tmp_path


def _results(report, filename):
    results = report[filename]
    assert isinstance(results, list), results
    return {r.function: r for r in results}


def _check(folder, name=None):
    out = io.StringIO()
    return exercises.check(str(folder), name, out=out), out.getvalue()


def test_every_exercise_has_a_template_and_a_solution():
    for ex in exercises.EXERCISES:
        assert (exercises.templates() / ex.filename).is_file()
        assert os.path.exists(os.path.join(SOLUTIONS, ex.filename))


def test_reference_solutions_pass(tmp_path):
    report, text = _check(_solved(tmp_path))
    for ex in exercises.EXERCISES:
        for name, r in _results(report, ex.filename).items():
            assert r.status in ("PASS", "SKIP"), f"{ex.filename} {name}: {r}\n{text}"
            if r.status == "PASS" and r.numerical_error is not None:
                assert r.numerical_error < 1e-5


def test_templates_report_not_yet_written(tmp_path):
    assert len(exercises.init(str(tmp_path))) == len(exercises.EXERCISES)
    report, text = _check(tmp_path)
    for ex in exercises.EXERCISES:
        results = _results(report, ex.filename)
        assert all(r.status in (NOT_WRITTEN, "SKIP") for r in results.values()), text
    assert "Traceback" not in text and NOT_WRITTEN in text


def test_init_keeps_existing_work(tmp_path):
    (tmp_path / "ex01_linear.py").write_text("# my work\n")
    written = exercises.init(str(tmp_path))
    assert "ex01_linear.py" not in written
    assert (tmp_path / "ex01_linear.py").read_text() == "# my work\n"


@pytest.mark.parametrize("broken", BROKEN_FILES)
def test_broken_variant_fails_with_its_hint(tmp_path, broken):
    filename = broken.split("__")[0] + ".py"
    source = open(os.path.join(BROKEN, broken), encoding="utf-8").read()
    header = dict(line[2:].split(": ", 1) for line in source.splitlines()
                  if line.startswith(("# function: ", "# expect: ")))
    folder = _solved(tmp_path)
    with open(folder / filename, "a", encoding="utf-8") as f:
        f.write("\n\n" + source)
    report, text = _check(folder, filename)
    results = _results(report, filename)
    r = results[header["function"]]
    if r.status == "SKIP":
        pytest.skip(r.detail)
    assert r.status == "FAIL", text
    assert header["expect"] in f"{r.detail} {r.hint}", text
    # the other functions pass, unless they call the broken one (then with the same hint) or
    # the broken one is the forward of their numerical check
    others = [o for o in results.values() if o.function != r.function]
    assert all(o.status in ("PASS", "SKIP") or header["expect"] in o.hint
               or f"it calls {header['function']}" in o.hint
               or o.hint.startswith("your backward agrees") for o in others), text


def test_partial_work_and_one_exercise(tmp_path):
    exercises.init(str(tmp_path))
    shutil.copy(os.path.join(SOLUTIONS, "ex01_linear.py"), tmp_path / "ex01_linear.py")
    report, text = _check(tmp_path, "1")
    assert list(report) == ["ex01_linear.py"]
    assert {r.status for r in report["ex01_linear.py"]} == {"PASS"}
    assert "relative error" in text


def test_backward_written_forward_not_uses_the_engine_forward(tmp_path):
    exercises.init(str(tmp_path))
    source = open(os.path.join(SOLUTIONS, "ex01_linear.py")).read()
    source = source.replace("    return x @ w.T + b\n", "    raise NotImplementedError\n")
    (tmp_path / "ex01_linear.py").write_text(source)
    report, _ = _check(tmp_path, "linear")
    results = _results(report, "ex01_linear.py")
    assert results["linear_forward"].status == NOT_WRITTEN
    assert results["linear_backward"].status == "PASS"
    assert "F.linear" in results["linear_backward"].detail


def test_unwritten_helper_of_another_exercise_is_named(tmp_path):
    exercises.init(str(tmp_path))
    shutil.copy(os.path.join(SOLUTIONS, "ex11_conv_transpose.py"), tmp_path)
    report, _ = _check(tmp_path, "conv_transpose")
    r = _results(report, "ex11_conv_transpose.py")["conv_transpose2d_forward"]
    if r.status != "SKIP":
        assert r.status == NOT_WRITTEN and "col2im of ex05_im2col.py" in r.detail


def test_syntax_error_names_file_and_line(tmp_path):
    exercises.init(str(tmp_path))
    (tmp_path / "ex02_activations.py").write_text("import numpy as np\n\ndef relu_forward(x)\n")
    report, text = _check(tmp_path, "activations")
    assert isinstance(report["ex02_activations.py"], exercises.ExerciseLoadError)
    assert "ex02_activations.py, line 3: SyntaxError" in text


def test_import_error_names_file_and_line(tmp_path):
    exercises.init(str(tmp_path))
    (tmp_path / "ex01_linear.py").write_text("x = 1\ny = undefined_name\n")
    _, text = _check(tmp_path, "linear")
    assert "ex01_linear.py, line 2: NameError" in text


def test_runtime_error_names_the_student_line(tmp_path):
    exercises.init(str(tmp_path))
    (tmp_path / "ex01_linear.py").write_text(
        "def linear_forward(x, w, b):\n    return x @ w.T + b\n\n\n"
        "def linear_backward(gy, x, w, b):\n    return gy[99], 1, 2\n")
    report, _ = _check(tmp_path, "linear")
    r = _results(report, "ex01_linear.py")["linear_backward"]
    assert r.status == "FAIL" and "IndexError" in r.detail
    assert "line 6 of ex01_linear.py" in r.detail


def test_wrong_number_of_outputs_and_none(tmp_path):
    exercises.init(str(tmp_path))
    (tmp_path / "ex01_linear.py").write_text(
        "def linear_forward(x, w, b):\n    y = x @ w.T + b\n\n\n"
        "def linear_backward(gy, x, w, b):\n    return gy @ w, gy.T @ x\n")
    report, _ = _check(tmp_path, "linear")
    results = _results(report, "ex01_linear.py")
    assert "returned None (a missing `return`?)" in results["linear_forward"].detail
    assert "returned 2 value(s), expected 3: (gx, gw, gb)" in results["linear_backward"].detail


def test_folder_without_exercises(tmp_path):
    with pytest.raises(FileNotFoundError, match="no exercise files in .*init"):
        exercises.check(str(tmp_path), out=io.StringIO())


def test_unknown_exercise_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="conv_naive"):
        exercises.check(str(tmp_path), "convolution", out=io.StringIO())


def test_command_line(tmp_path):
    run = [sys.executable, "-m", "minitorch_cnn.exercises"]
    done = subprocess.run(run + ["init", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0 and "wrote 11" in done.stdout
    shutil.copy(os.path.join(SOLUTIONS, "ex08_dropout.py"), tmp_path / "ex08_dropout.py")
    done = subprocess.run(run + ["check", str(tmp_path), "dropout"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and "dropout_backward  PASS" in done.stdout, done.stdout
    done = subprocess.run(run + ["check", str(tmp_path / "nowhere")], capture_output=True,
                          text=True)
    assert done.returncode == 2 and "no exercise files" in done.stderr
