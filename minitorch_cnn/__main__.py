"""``python -m minitorch_cnn COMMAND ...``: the commands of the package.

- ``train [options]`` (the default): train a model, LeNet-5 on the bundled MNIST sample
  unless told otherwise, and print ``test accuracy: ...`` last;
- ``evaluate CKPT``: top-1 and top-5 accuracy of a checkpoint;
- ``summary MODEL --input C H W``: per-layer shapes, parameters, multiply-adds, receptive fields;
- ``plot ...``: training curves, filters, feature maps, receptive fields (needs matplotlib);
- ``exercises init|check DIR``: the gradient-checking exercises.

``python -m minitorch_cnn COMMAND --help`` shows a command's options and their defaults;
``--version`` prints the version.
"""
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):  # the commands; "train --help" shows train's options
        commands = __doc__.split("\n", 1)[1].replace("``", "")
        print(f"usage: python -m minitorch_cnn [COMMAND] [options]\n{commands}")
        return 0
    if argv[:1] == ["--version"]:
        from . import __version__
        print(f"minitorch_cnn {__version__}")
        return 0
    command = argv[0] if argv and not argv[0].startswith("-") else "train"
    if command in ("train", "evaluate"):
        from .train import main as run
        return run(argv)
    rest = argv[1:]
    if command == "summary":
        from .summary import main as run
    elif command == "plot":
        from .viz import main as run
    elif command == "exercises":
        from .exercises.__main__ import main as run
    else:
        print(f"error: unknown command {command!r}; expected train, evaluate, summary, plot or "
              "exercises", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
