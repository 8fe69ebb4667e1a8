"""Peak resident memory of one case, one side, in a fresh process of its own:
``python -m benchmarks.peak_rss --case NAME --side ours|torch [--steps N] [--threads N]``
prints ``{"base_mib": ..., "peak_mib": ...}`` as JSON: the process's resident set after importing
its library (minitorch_cnn, or torch and torchvision) and before building the case, and its
high-water mark (``VmHWM`` of /proc/self/status; ``ru_maxrss`` elsewhere) after ``steps`` steps.

Both sides run the same way, each in a new process (the harness's own has every earlier case's
arrays and allocator state in it, and our side must not share a process with torch's OpenMP:
``torch_side.py``), so the two peaks compare: the model, its gradients and optimizer state, the
batch and the largest set of live activations and temporaries of a step, plus the library.
"""
import argparse
import json
import resource
import sys


def _status_mib(field):
    """``field`` (VmRSS, VmHWM) of /proc/self/status in MiB; None where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_mib():
    peak = _status_mib("VmHWM")
    if peak is None:  # ru_maxrss: kilobytes on Linux, bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
            2 ** 20 if sys.platform == "darwin" else 1024)
    return peak


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peak_rss")
    parser.add_argument("--case", required=True)
    parser.add_argument("--side", choices=["ours", "torch"], required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    from .harness import all_cases
    case, = (c for c in all_cases() if c.name == args.case)
    if args.side == "torch":
        import torch
        try:
            import torchvision  # noqa: F401  (the model cases build with it: count it in)
        except ImportError:
            pass
        if args.threads:
            torch.set_num_threads(args.threads)
        make = lambda: case.torch(torch)  # noqa: E731
    else:
        import minitorch_cnn as mt
        if args.threads:
            mt.set_num_threads(args.threads)
        make = lambda: case.ours("cpu")  # noqa: E731
    base = _status_mib("VmRSS") or _peak_mib()
    step = make()
    for _ in range(args.steps):
        step()
    print(json.dumps({"base_mib": base, "peak_mib": _peak_mib()}))


if __name__ == "__main__":
    main()
