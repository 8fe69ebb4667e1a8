"""The commands as a new user meets them: help that lists every command and default, a version,
one ``error:`` line for a missing extra, ``plot`` and ``summary`` taking the registry's names."""
import sys

import pytest

import minitorch_cnn as mt

from minitorch_cnn import evaluate as evaluate_cmd
from minitorch_cnn.compress import command as compress_cmd
from minitorch_cnn import train as train_cmd
from minitorch_cnn import viz
from minitorch_cnn.summary import main as summary_main


@pytest.fixture
def no_matplotlib(monkeypatch):
    """As if matplotlib were not installed (``import matplotlib`` raises ImportError)."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)


def test_missing_matplotlib_is_one_error_line(no_matplotlib, tmp_path, capsys):
    assert viz.main(["filters", "--out", str(tmp_path / "f.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: plotting needs matplotlib") and len(err.splitlines()) == 1
    assert "pip install" in err


def test_plot_takes_the_checkpoint_model(tmp_path, capsys):
    out = tmp_path / "run"
    assert train_cmd.main(["--limit", "40", "--test-limit", "20", "--batch-size", "40",
                           "--workers", "0", "--epochs", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    model = viz.model_from(None, str(out / "model.npz"))
    assert model.model_spec["name"] == "lenet5-relu"
    assert viz.main(["filters", "--model", "LeNet5", "--checkpoint", str(out / "model.npz"),
                     "--out", str(tmp_path / "f.png")]) == 2
    assert "contradicts" in capsys.readouterr().err


def test_summary_takes_registry_names_aliases_and_input_sizes(capsys):
    summary_main(["lenet5-relu"])
    relu = capsys.readouterr().out
    assert "Input: (1, 1, 28, 28)" in relu  # the model's own input size, not 3x224x224
    assert "(ReLU)" in relu and "(MaxPool2d)" in relu  # the alias's fixed variant='relu'
    summary_main(["LENET5"])
    classic = capsys.readouterr().out
    assert "Input: (1, 1, 28, 28)" in classic and "(ReLU)" not in classic
    summary_main(["lenet5-ReLU", "--input", "1", "28", "28", "--num-classes", "7"])
    assert "Output: (1, 7)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        summary_main(["lenet7"])
    assert "valid models" in capsys.readouterr().err


def test_help_lists_every_command_and_version_works(capsys):
    import re
    from minitorch_cnn import __main__ as main_module
    assert main_module.main(["--help"]) == 0
    text = capsys.readouterr().out
    commands = set(main_module.COMMANDS)
    assert {"train", "evaluate", "summary", "plot", "exercises"} <= commands
    for command in commands:
        assert re.search(rf"^- {command}\b", text, re.M), f"--help does not list {command}"
    assert main_module.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"minitorch_cnn {mt.__version__}"


@pytest.mark.parametrize("make", [train_cmd.parser, evaluate_cmd.evaluate_parser,
                                  compress_cmd.parser])
def test_help_shows_every_default(make):
    p = make()
    text = " ".join(p.format_help().split())
    for action in p._actions:
        if action.option_strings and action.default not in (None, False, "==SUPPRESS=="):
            assert f"(default: {action.default})" in text.replace("- ", "-"), action.dest


def test_exercises_check_of_an_untouched_folder_builds_nothing(tmp_path, monkeypatch, capsys):
    import io
    import time
    from minitorch_cnn import exercises
    from minitorch_cnn.exercises import checker
    exercises.init(str(tmp_path))
    monkeypatch.setattr(checker, "_CASES", {})

    def never(rng):
        raise AssertionError("built the cases of an exercise that is not written")
    for ex in exercises.EXERCISES:
        for c in ex.checks:
            monkeypatch.setattr(c, "cases", never)
    began = time.perf_counter()
    report = exercises.check(str(tmp_path), out=io.StringIO())
    assert time.perf_counter() - began < 2.0
    statuses = {r.status for rs in report.values() for r in rs}
    assert statuses == {exercises.NOT_WRITTEN}


def test_untouched_tells_a_stub_from_a_written_function(tmp_path):
    from minitorch_cnn.exercises import checker
    path = tmp_path / "ex.py"
    path.write_text('def stub(x):\n    """doc"""\n    raise NotImplementedError\n\n'
                    'def bare(x):\n    raise NotImplementedError()\n\n'
                    'def started(x):\n    y = x\n    raise NotImplementedError\n\n'
                    'def done(x):\n    return x\n')
    module = checker.load_module(str(path))
    assert checker.untouched(module.stub) and checker.untouched(module.bare)
    assert not checker.untouched(module.started) and not checker.untouched(module.done)
    assert not checker.untouched(None)


def test_init_draws_in_place_in_blocks_that_do_not_depend_on_threads():
    """What made ``VGG16()`` take 18 s, then 2-3 s: every weight drawn whole in float64 and
    cast into a fresh array, then in float64 chunks on one thread. Now drawn in the tensor's
    dtype in place, large tensors in blocks from spawned generators over the worker threads;
    the values depend on the seed, not on the thread count."""
    import tracemalloc
    import numpy as np
    from minitorch_cnn.nn import init
    w = mt.empty(2000, 2000)  # float32, 16 MB: 16 blocks
    mt.nn.init.normal_(mt.empty(2 * init._BLOCK))  # the generator and pool exist before
    tracemalloc.start()
    mt.nn.init.normal_(w, 0.0, 0.01)
    mt.nn.init.uniform_(w, -0.5, 0.5)
    mt.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1e6, f"peak {peak} bytes drawing a 16 MB tensor"
    assert abs(float(w.numpy().std()) - np.sqrt(2 / 2000)) < 1e-3
    drawn = []
    for n in (1, 2):
        with mt.set_num_threads(n):
            mt.manual_seed(5)
            drawn.append(mt.nn.init.normal_(mt.empty(3 * init._BLOCK + 7), 0.1, 0.02).numpy())
    np.testing.assert_array_equal(drawn[0], drawn[1])
    blocks = drawn[0][:-7].reshape(3, -1)
    assert abs(np.corrcoef(blocks)[0, 1]) < 0.01  # independent streams, not one repeated
    # a small tensor: the generator's own draws in its dtype, scaled
    mt.manual_seed(5)
    a, b = mt.empty(300, 100), mt.empty(7, 3, 3, dtype=np.float64)
    mt.nn.init.normal_(a, 0.1, 0.02)
    mt.nn.init.uniform_(b, -0.3, 0.3)
    g = np.random.default_rng(5)
    z = g.standard_normal((300, 100), dtype=np.float32) * np.float32(0.02) + np.float32(0.1)
    np.testing.assert_array_equal(a.numpy(), z)
    np.testing.assert_array_equal(b.numpy(), g.random((7, 3, 3)) * 0.6 - 0.3)
    h = mt.empty(10, 10, dtype=np.float16)
    assert abs(float(mt.nn.init.normal_(h, 5.0, 0.1).numpy().mean()) - 5.0) < 0.1


def test_init_threads_do_not_start_numba():
    """The init's threads only call NumPy: a plain pool, not the convolutions' (which imports
    Numba and starts its threads, 0.6 s of the 1.5 s that ``VGG16()`` spent drawing)."""
    import subprocess
    code = ("import sys, minitorch_cnn as mt; from minitorch_cnn.nn import init\n"
            "with mt.set_num_threads(2):\n"
            "    mt.nn.init.normal_(mt.empty(4 * init._BLOCK))\n"
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_vgg_draws_its_weights_once(monkeypatch):
    """``VGG16()`` draws each of its 138 M weights once: its layers skip the default uniform
    draw that VGG's own He normal (convs) and N(0, 0.01) (fc) replace
    (``nn.init.no_default_init``), and every weight still ends up initialised."""
    import numpy as np
    from minitorch_cnn import models
    from minitorch_cnn.nn import init
    with init.no_default_init():
        skipped = mt.nn.Linear(3, 2)
    assert not init.skips_default()
    drawn = []
    monkeypatch.setattr(init, "kaiming_uniform_",
                        lambda t, **kw: drawn.append(t.shape) or t)
    model = models.VGG11(num_classes=10)
    assert not drawn, f"layers drew their default init: {drawn}"
    assert models.VGG11(num_classes=10, init_weights=False) and drawn, \
        "without VGG's own initialisation the default one must run"
    for name, p in model.named_parameters():
        values = p.numpy()
        assert np.isfinite(values).all(), name
        if name.endswith("bias"):
            assert not values.any(), name
        elif name.startswith("classifier"):
            assert abs(values.std() - 0.01) < 1e-3, name
        else:  # kaiming_normal_, mode fan_out: std sqrt(2 / (O * 3 * 3))
            expected = np.sqrt(2.0 / (values.shape[0] * 9))
            assert abs(values.std() / expected - 1) < 0.1, name
    assert skipped.weight.shape == (2, 3)
