"""``python -m minitorch_cnn COMMAND ...``: the commands of the package.

- ``train [options]`` (the default): train a model, LeNet-5 on the bundled MNIST sample
  unless told otherwise, and print ``test accuracy: ...`` last;
- ``evaluate CKPT``: top-1 and top-5 accuracy of a checkpoint;
- ``summary MODEL --input C H W``: per-layer shapes, parameters, multiply-adds, receptive fields;
- ``plot ...``: training curves, filters, feature maps, receptive fields (needs matplotlib);
- ``exercises init|check DIR``: the gradient-checking exercises.
- ``export CKPT --out FILE.onnx [--input C H W]``: a checkpoint's model as an ONNX file.
"""
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
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
    elif command == "export":
        from .onnx.command import export_main as run
    else:
        print(f"error: unknown command {command!r}; expected train, evaluate, summary, plot or "
              "exercises", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
