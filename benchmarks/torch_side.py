"""PyTorch's side of the benchmarks, run by the harness in a child process of its own:
``python -m benchmarks.torch_side --info`` prints torch's version and thread count,
``python -m benchmarks.torch_side --case NAME --repeat N`` the median ms of that case's torch
step, both as JSON.

Why a separate process: torch and Numba each bring a GNU OpenMP runtime, and in one process
they share whichever was loaded first (same soname), with its settings. minitorch_cnn starts
Numba's threads with passive waiting (``kernels/cpu/__init__.py``); torch, imported first, made
Numba use torch's spinning runtime instead (ResNet-18 step 685 -> 875 ms), and imported second
it would wait passively too, which slows its many short parallel regions (LeNet-5 epoch 245 ->
381 ms). Apart, each runs as its users run it.
"""
import argparse
import json

from .harness import all_cases, median_ms


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.torch_side")
    parser.add_argument("--info", action="store_true")
    parser.add_argument("--case")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.info:
        print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads()}))
        return
    case, = (c for c in all_cases() if c.name == args.case)
    print(json.dumps({"ms": median_ms(case.torch(torch), args.repeat)}))


if __name__ == "__main__":
    main()
