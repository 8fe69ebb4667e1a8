"""``python -m minitorch_cnn COMMAND ...``: the commands of the package.

- ``train [options]`` (the default): train a model, LeNet-5 on the bundled MNIST sample
  unless told otherwise, and print ``test accuracy: ...`` last;
- ``evaluate CKPT``: top-1 and top-5 accuracy of a checkpoint;
- ``summary MODEL --input C H W``: per-layer shapes, parameters, multiply-adds, receptive fields;
- ``plot ...``: training curves, filters, feature maps, receptive fields (needs matplotlib);
- ``exercises init|check DIR``: the gradient-checking exercises;
- ``nas [options]``: neural architecture search (REINFORCE controller or random search);
- ``compress CKPT [options]``: prune, weight-share and Huffman-code a checkpoint (``.mtc``);
- ``export CKPT --out FILE.onnx [--input C H W]``: a checkpoint's model as an ONNX file.

``python -m minitorch_cnn COMMAND --help`` shows a command's options and their defaults;
``--version`` prints the version.
"""
import importlib
import sys

# command -> the module whose main(argv) runs it (imported only when the command is given)
COMMANDS = {
    "train": "minitorch_cnn.train", "evaluate": "minitorch_cnn.evaluate",
    "summary": "minitorch_cnn.summary", "plot": "minitorch_cnn.viz",
    "exercises": "minitorch_cnn.exercises.__main__", "nas": "minitorch_cnn.nas.command",
    "compress": "minitorch_cnn.compress.command", "export": "minitorch_cnn.onnx.command",
}
WITH_COMMAND_NAME = ("train",)  # train.main also takes argv with or without "train"


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
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}; expected one of {', '.join(COMMANDS)}",
              file=sys.stderr)
        return 2
    run = importlib.import_module(COMMANDS[command]).main
    return run(argv if command in WITH_COMMAND_NAME else argv[1:])


if __name__ == "__main__":
    sys.exit(main())
