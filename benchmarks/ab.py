"""Two cases of our side timed in alternation, in one process:
``python -m benchmarks.ab "CASE A" "CASE B" [--pairs 30] [--threads 2]``.

On a shared VM the speed of the whole machine drifts by tens of percent within minutes, so two
medians taken one after the other can disagree on which is faster; runs alternated A, B, A, B
see the same drift. Prints each case's median and best, the median of the per-pair ratios
B / A and how often B was faster. Example: int8 vs float32 LeNet-5 (``--group int8``).
"""
import argparse
import contextlib
import statistics
import time

from .harness import WARMUP_RUNS, all_cases


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("a", help="the exact name of case A (python -m benchmarks --list)")
    parser.add_argument("b", help="the exact name of case B")
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    cases = {c.name: c for c in all_cases()}
    missing = [name for name in (args.a, args.b) if name not in cases]
    if missing:
        parser.error(f"no case named {missing[0]!r}")
    import minitorch_cnn as mt
    with mt.set_num_threads(args.threads) if args.threads else contextlib.nullcontext():
        _alternate(args, [cases[args.a].ours("cpu"), cases[args.b].ours("cpu")],
                   mt.get_num_threads())


def _alternate(args, steps, threads):
    for step in steps:
        for _ in range(WARMUP_RUNS):
            step()
    times = ([], [])
    for _ in range(args.pairs):
        for step, kept in zip(steps, times):
            start = time.perf_counter()
            step()
            kept.append((time.perf_counter() - start) * 1e3)
    for name, kept in zip((args.a, args.b), times):
        print(f"{name}: median {statistics.median(kept):.2f} ms, best {min(kept):.2f} ms")
    ratios = [b / a for a, b in zip(*times)]
    faster = sum(r < 1 for r in ratios) / len(ratios)
    print(f"B / A per pair: median {statistics.median(ratios):.2f}; B faster in "
          f"{faster:.0%} of {len(ratios)} pairs ({threads} threads)")


if __name__ == "__main__":
    main()
