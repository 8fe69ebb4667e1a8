"""Timing harness: forward+backward of each case, ours and PyTorch's one after the other.

Ours run in this process, which never imports torch; torch's in a child process per case
(``torch_side.py`` says why). Per case it prints the median time of several runs after warm-up
for our engine and for torch (when installed, with the same number of threads), their ratio
(ours / torch: below 1 is faster), our GFLOP/s, our peak extra memory during one step
(tracemalloc, which sees NumPy's allocations) and, once per run, the machine's own NumPy
float32 GEMM rate as the ceiling to compare with. For the cases marked ``rss`` (or all, with
``--rss``) it then prints both sides' peak resident memory, each measured in a fresh process
(``peak_rss.py``).
"""
import dataclasses
import importlib
import json
import os
import pkgutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Callable, Optional

import numpy as np


@dataclasses.dataclass
class Case:
    """One benchmark.

    ``ours(device)`` builds inputs on ``device`` ("cpu" or "cuda") and returns a zero-argument
    step that runs forward+backward once with minitorch_cnn; ``torch(torch_module)`` does the
    same with PyTorch on the CPU (None when torch has no such op). ``flops`` counts the
    forward+backward floating-point operations of one step (0 where it means little).
    ``rss``: also measure both sides' peak resident memory by default (the big training steps).
    """
    name: str
    group: str
    flops: float
    ours: Callable[[str], Callable[[], None]]
    torch: Optional[Callable[[object], Callable[[], None]]] = None
    rss: bool = False


def all_cases():
    from . import cases
    found = []
    for info in pkgutil.iter_modules(cases.__path__):
        found.extend(importlib.import_module(f"{cases.__name__}.{info.name}").CASES)
    return found


# warm-up: at least WARMUP_RUNS runs and WARMUP_S seconds. The first runs in a process pay for
# the allocator's growth (glibc lifts its mmap threshold only after the first frees) and for
# fresh pages (this VM's first touch of memory): max_unpool2d's step, 22 ms once warm, took
# 140-200 ms for up to 8 runs after a start (sys time 97 ms a run), on either side
WARMUP_RUNS, WARMUP_S = 2, 1.0


def median_ms(step, repeat, sync=None):
    """Median wall time of ``repeat`` runs of ``step`` after the warm-up (ms)."""
    start, runs = time.perf_counter(), 0
    while runs < WARMUP_RUNS or time.perf_counter() - start < WARMUP_S:
        step()
        if sync is not None:
            sync()
        runs += 1
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        if sync is not None:
            sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def peak_extra_mib(step):
    """Peak memory allocated during one call of ``step`` beyond what was held before (MiB)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        step()
        return (tracemalloc.get_traced_memory()[1] - base) / 2**20
    finally:
        tracemalloc.stop()


def gemm_gflops(n=2048, repeat=5):
    """The machine's NumPy float32 GEMM rate: the ceiling of im2col + GEMM convolution."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    ms = median_ms(lambda: a @ a, repeat)
    return 2 * n ** 3 / (ms * 1e-3) / 1e9


def _torch_side(*args, threads=None, module="benchmarks.torch_side"):
    """The JSON that ``python -m benchmarks.torch_side *args`` (or ``module``) prints; None
    without torch."""
    command = [sys.executable, "-m", module, *args]
    if threads:
        command += ["--threads", str(threads)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if done.returncode:
        if "No module named 'torch'" in done.stderr:
            return None
        raise RuntimeError(f"torch's side failed: {' '.join(args)}\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def peak_rss(case, side, threads=None, steps=3):
    """(base, peak) resident MiB of ``steps`` steps of ``case``'s ``side`` ("ours" or
    "torch") in a fresh process; None where torch is absent."""
    out = _torch_side("--case", case.name, "--side", side, "--steps", str(steps),
                      threads=threads, module="benchmarks.peak_rss")
    return None if out is None else (out["base_mib"], out["peak_mib"])


def run(cases, repeat=5, device="cpu", with_torch=True, threads=None, rss=None):
    """Time every case; returns a list of result dicts (also printed as a table). ``rss``: peak
    resident memory of the cases marked ``rss`` (None), of all (True) or of none (False)."""
    import minitorch_cnn as mt
    if threads:
        mt.set_num_threads(threads)
    torch = _torch_side("--info", threads=threads) if with_torch else None
    sync = None
    if device == "cuda":
        sync = lambda: mt.backend.synchronize(mt.Device("cuda"))  # noqa: E731
    gemm = gemm_gflops()
    about_torch = f"{torch['version']} ({torch['threads']} threads)" if torch else "absent"
    print(f"NumPy float32 GEMM (2048^2): {gemm:.1f} GFLOP/s (OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}); minitorch_cnn: "
          f"{mt.get_num_threads()} threads; torch: {about_torch}")
    header = f"{'case':<52} {'ours ms':>9} {'torch ms':>9} {'ratio':>6} {'GFLOP/s':>8} {'MiB':>7}"
    print(header)
    print("-" * len(header))
    results = []
    for case in cases:
        step = case.ours(device)
        ours = median_ms(step, repeat, sync=sync)
        memory = peak_extra_mib(step) if device == "cpu" else float("nan")
        theirs = _torch_side("--case", case.name, "--repeat", str(repeat), threads=threads)["ms"] \
            if torch and case.torch else float("nan")
        row = {"case": case.name, "group": case.group, "device": device, "ours_ms": ours,
               "torch_ms": theirs, "ratio": ours / theirs if theirs == theirs else None,
               "gflops": case.flops / (ours * 1e-3) / 1e9 if case.flops else None,
               "peak_extra_mib": memory, "numpy_gemm_gflops": gemm,
               "threads": mt.get_num_threads(), "torch_threads": torch and torch["threads"]}
        results.append(row)
        ratio = f"{row['ratio']:.2f}" if row["ratio"] else "-"
        gflops = f"{row['gflops']:.1f}" if row["gflops"] else "-"
        print(f"{case.name:<52} {ours:9.2f} {theirs:9.2f} {ratio:>6} {gflops:>8} {memory:7.1f}",
              flush=True)
    if device == "cpu" and rss is not False:
        _rss_table([(c, r) for c, r in zip(cases, results) if rss or c.rss], torch, threads)
    return results


def _rss_table(rows, torch, threads):
    """Both sides' peak resident memory (MiB), each in a fresh process; added to the rows."""
    if not rows:
        return
    print("\npeak RSS, MiB (fresh process per side, 3 steps; base: after the library's import)")
    header = (f"{'case':<52} {'ours':>7} {'torch':>7} {'ratio':>6} {'ours base':>9} "
              f"{'torch base':>10}")
    print(header)
    print("-" * len(header))
    nan = (float("nan"),) * 2
    for case, row in rows:
        ours = peak_rss(case, "ours", threads)
        theirs = (peak_rss(case, "torch", threads) if torch and case.torch else None) or nan
        row.update(ours_peak_rss_mib=ours[1], torch_peak_rss_mib=theirs[1],
                   ours_base_rss_mib=ours[0], torch_base_rss_mib=theirs[0])
        ratio = f"{ours[1] / theirs[1]:.2f}" if theirs[1] == theirs[1] else "-"
        print(f"{case.name:<52} {ours[1]:7.0f} {theirs[1]:7.0f} {ratio:>6} {ours[0]:9.0f} "
              f"{theirs[0]:10.0f}", flush=True)


def write_json(results, path):
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
