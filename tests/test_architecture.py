"""The layers of the package (docs/engine.md) as a checked table: every import points down, the
kernels import nothing of the package, only the commands use the front door, and run-time
settings are read once and switched with setters, not with the environment."""
import ast
import importlib.util
import inspect
import os
import pathlib
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F
from minitorch_cnn import kernels, threads
from helpers import assert_close

PACKAGE = pathlib.Path(mt.__file__).parent

# module prefix -> layer (low to high); a module may import its own layer and those below it.
# The first tier of ops is what Tensor's methods and operators run; the second builds on Tensor.
LAYERS = {
    "minitorch_cnn.kernels": 0,
    "minitorch_cnn.config": 1,
    "minitorch_cnn.threads": 2, "minitorch_cnn.backend": 2,
    "minitorch_cnn.random": 3, "minitorch_cnn.autograd": 3, "minitorch_cnn.cuda": 3,
    "minitorch_cnn.ops.activation": 4, "minitorch_cnn.ops.sorting": 4,
    "minitorch_cnn.ops.arguments": 4, "minitorch_cnn.ops.broadcast": 4,
    "minitorch_cnn.ops.elementwise": 4, "minitorch_cnn.ops.functions": 4,
    "minitorch_cnn.ops.linalg": 4, "minitorch_cnn.ops.reduce": 4, "minitorch_cnn.ops.shape": 4,
    "minitorch_cnn.tensor": 5, "minitorch_cnn.tensor_methods": 5,
    "minitorch_cnn.ops": 6, "minitorch_cnn.creation": 6, "minitorch_cnn.gradcheck": 6,
    "minitorch_cnn.serialization": 6, "minitorch_cnn.distributed": 6,
    "minitorch_cnn.checked_read": 6, "minitorch_cnn.anomaly": 3,
    "minitorch_cnn.tensor_functions": 6,
    "minitorch_cnn.ops.dense_concat": 6,
    "minitorch_cnn.nn.functional": 7,
    "minitorch_cnn.nn": 8,
    "minitorch_cnn.optim": 9, "minitorch_cnn.data": 9, "minitorch_cnn.distributions": 9,
    "minitorch_cnn.models": 11,
    "minitorch_cnn.summary": 12, "minitorch_cnn.nas": 12, "minitorch_cnn.compress": 12,
    "minitorch_cnn.onnx": 12,
    "minitorch_cnn.compress.qtensor": 12, "minitorch_cnn.compress.qmodules": 12,
    "minitorch_cnn.train": 13, "minitorch_cnn.viz": 13, "minitorch_cnn.exercises": 13,
    "minitorch_cnn.nas.command": 13, "minitorch_cnn.train_distributed": 13,
    "minitorch_cnn.compress.command": 13, "minitorch_cnn.cli": 13, "minitorch_cnn.evaluate": 13,
    "minitorch_cnn.command_data": 13, "minitorch_cnn.run_guard": 13,
    "minitorch_cnn.onnx.command": 13,
    "minitorch_cnn.__main__": 13,
}
COMMANDS = 13
KERNEL_DEPENDENCIES = {"numpy", "numba", "cupy", "cupyx"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "templates" in rel.parts:  # the exercises' student files
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield ".".join(parts), path, rel.name == "__init__"


def _layer(module):
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len,
               default=None)
    return None if best is None else LAYERS[best]


def _is_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _imports(module, path, is_package):
    """(line, imported module) for every import in the file, function-level ones included;
    ``from pkg import name`` counts as ``pkg.name`` where that is a module, else as ``pkg``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield node.lineno, full if _is_module(full) else base


def test_every_module_has_a_layer():
    missing = [m for m, _, _ in _modules() if m != "minitorch_cnn" and _layer(m) is None]
    assert not missing, f"add these modules to LAYERS (and to docs/engine.md): {missing}"


def test_every_import_points_down():
    wrong = []
    for module, path, is_package in _modules():
        if module == "minitorch_cnn":  # the front door may import anything
            continue
        here = _layer(module)
        for line, target in _imports(module, path, is_package):
            if not target.startswith("minitorch_cnn"):
                continue
            if target == "minitorch_cnn":
                if here != COMMANDS:
                    wrong.append(f"{path.name}:{line} imports the front door minitorch_cnn")
            elif _layer(target) is not None and _layer(target) > here:
                wrong.append(f"{module}:{line} (layer {here}) imports {target} "
                             f"(layer {_layer(target)})")
    assert not wrong, "\n".join(wrong)


def test_kernels_import_only_numpy_numba_and_cupy():
    wrong = []
    for module, path, is_package in _modules():
        if not module.startswith("minitorch_cnn.kernels"):
            continue
        for line, target in _imports(module, path, is_package):
            top = target.split(".")[0]
            if target.startswith("minitorch_cnn"):
                if not target.startswith("minitorch_cnn.kernels"):
                    wrong.append(f"{module}:{line} imports {target}")
            elif top not in KERNEL_DEPENDENCIES and top not in sys.stdlib_module_names:
                wrong.append(f"{module}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_kernels_import_from_a_plain_checkout():
    """No pip install, no path remapping: ``PYTHONPATH=<checkout>`` is enough."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(PACKAGE.parent)
    code = "import minitorch_cnn.kernels as k, minitorch_cnn as mt; print(k.__file__)"
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                          f"{str(PACKAGE.parent)!r}); {code}"], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == str(PACKAGE / "kernels" / "__init__.py")


def test_only_config_reads_the_settings_environment():
    wrong = []
    for module, path, _ in _modules():
        if module == "minitorch_cnn.config":
            continue
        text = path.read_text()
        for var in ("MINITORCH_CNN_KERNELS", "MINITORCH_CNN_THREADS",
                    "MINITORCH_CNN_WORKSPACE_MIB", "NUMBA_ENABLE_CUDASIM"):
            if f'"{var}"' in text or f"'{var}'" in text:
                wrong.append(f"{module} reads {var}")
    assert not wrong, wrong


def test_function_classes_follow_one_naming_rule():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)
    names = [c.__name__ for c in subclasses(mt.Function)
             if c.__module__.startswith("minitorch_cnn.ops")]
    assert names and all(n.endswith("Fn") or n.startswith("_") for n in names), names


def test_core_files_stay_small():
    big = [(m, n) for m, path, _ in _modules()
           if (n := len(path.read_text().splitlines())) > 400]
    assert not big, big


# --- settings: read once, switched by setters ---------------------------------------------------
def _run(code, **env):
    env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True)


def test_settings_come_from_the_environment_once_at_import():
    code = ("import os, minitorch_cnn as mt\n"
            "print(mt.kernels.implementation_for('cpu'), mt.get_num_threads(), "
            "mt.get_workspace_mib())\n"
            "os.environ['MINITORCH_CNN_KERNELS'] = 'default'\n"
            "os.environ['MINITORCH_CNN_THREADS'] = '7'\n"
            "print(mt.kernels.implementation_for('cpu'), mt.get_num_threads())\n")
    out = _run(code, MINITORCH_CNN_KERNELS="reference", MINITORCH_CNN_THREADS="3",
               MINITORCH_CNN_WORKSPACE_MIB="32")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["reference 3 32.0", "reference 3"]
    bad = _run("import minitorch_cnn", MINITORCH_CNN_KERNELS="fastest")
    assert bad.returncode != 0 and "MINITORCH_CNN_KERNELS" in bad.stderr


def test_kernels_use_is_a_setter_and_a_context_manager():
    assert kernels.implementation_for("cpu") == "cpu"
    with kernels.use("reference"):
        assert kernels.implementation_for("cuda") == "reference"
        with kernels.use("default"):
            assert kernels.implementation_for("cpu") == "cpu"
        assert kernels.implementation_for("cpu") == "reference"
    assert kernels.implementation_for("cpu") == "cpu"
    kernels.use("reference")
    try:
        assert kernels.get("relu_fwd", "cpu") is kernels.load("relu_fwd", "reference")
    finally:
        kernels.use("default")


def test_set_num_threads_governs_the_pool_and_numba(rng):
    import numba
    before = mt.get_num_threads()
    x = mt.tensor(rng.standard_normal((4, 2, 6, 6)))
    w = mt.tensor(rng.standard_normal((3, 2, 3, 3)))
    expected = F.conv2d(x, w).numpy()
    with mt.set_num_threads(1):
        assert mt.get_num_threads() == 1 and numba.get_num_threads() == 1
        assert_close(F.conv2d(x, w), expected, rtol=1e-12, atol=1e-12)
    assert mt.get_num_threads() == before
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(ValueError, match="set_num_threads"):
            mt.set_num_threads(bad)


def test_chunks_run_in_the_calling_thread_without_openblas(rng, monkeypatch, tmp_path):
    """The fallback where NumPy's BLAS is not an OpenBLAS with per-thread counts."""
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 0 0:0 0 /usr/lib/libmkl_rt.so\n")
    original = threads._openblas_functions
    monkeypatch.setattr(threads, "_openblas_functions",
                        lambda names, maps_path=None: original(names, str(maps)))
    monkeypatch.setattr(threads, "_pool", None)
    monkeypatch.setattr(mt.config, "_num_threads", 2)
    assert threads.blas_set_local_threads() is None
    seen = []
    out = threads.run(lambda lo, hi: seen.append(threading.current_thread()) or hi - lo,
                      [(0, 2), (2, 5)], mt.Device("cpu"))
    assert out == [2, 3] and seen == [threading.main_thread()] * 2
    assert threads._pool is False
    monkeypatch.setattr(threads, "_pool", None)


def test_openblas_lookup_reads_the_process_maps(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 0 0:0 0 /nonexistent/libopenblas.so\n")
    assert threads._openblas_functions(["openblas_set_num_threads"], str(maps)) is None
    assert threads._openblas_functions(["x"], str(tmp_path / "absent")) is None


# --- reference kernels: one array module, taken from the inputs ---------------------------------
def test_reference_kernels_take_their_array_module_from_the_inputs():
    """No reference kernel computes with ``np.`` directly (dtype constants aside): on a real
    GPU the same code runs on CuPy arrays."""
    dtypes = {"bool_", "int8", "int16", "int32", "int64", "uint8", "float16", "float32",
              "float64"}
    for path in (PACKAGE / "kernels" / "reference").glob("*.py"):
        source = path.read_text().replace("if array_module(out) is np:\n        np.add.at", "")
        calls = [name for name in re.findall(r"\bnp\.(\w+)", source) if name not in dtypes]
        assert not calls, (path.name, calls)
        for name, fn in inspect.getmembers(importlib.import_module(
                f"minitorch_cnn.kernels.reference.{path.stem}"), inspect.isfunction):
            assert fn.__module__.startswith("minitorch_cnn.kernels"), (path.name, name)


@pytest.mark.cudasim
@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device or simulator")
def test_reference_kernels_serve_the_cuda_device(rng):
    x = mt.tensor(rng.standard_normal((2, 3, 6, 6)), device="cuda", requires_grad=True)
    w = mt.tensor(rng.standard_normal((3, 1, 3, 3)), device="cuda", requires_grad=True)
    with kernels.use("reference"):
        y = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1, groups=3)), 2)
        y = F.local_response_norm(F.batch_norm(y, None, None, training=True), 3)
        y.sum().backward()
    expected = F.local_response_norm(F.batch_norm(F.max_pool2d(F.relu(F.conv2d(
        x.detach().cpu(), w.detach().cpu(), padding=1, groups=3)), 2), None, None,
        training=True), 3).numpy()
    assert y.device.type == "cuda"
    assert_close(y.cpu(), expected, rtol=1e-10, atol=1e-12)
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()
