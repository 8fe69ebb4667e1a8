"""The evaluate command: ``python -m minitorch_cnn evaluate CKPT [options]``, top-1 and top-5
accuracy of a checkpoint on the test split of the data set it was trained on, with the model its
stored spec names."""
import argparse
import sys

import minitorch_cnn as mt
from minitorch_cnn import cli, data
from minitorch_cnn.models import registry
from minitorch_cnn.models import spec as model_spec
from minitorch_cnn.command_data import build_data
from minitorch_cnn.train import get_device, run_epoch

EVALUATE_RANGES = {"limit": cli.at_least(0), "batch_size": cli.at_least(1)}


def evaluate(args):
    cli.check_ranges(args, EVALUATE_RANGES)
    if args.checkpoint.endswith(".onnx"):  # an exported graph, imported by mt.onnx.load
        from .onnx.command import evaluate_onnx
        return evaluate_onnx(args, build_data, run_epoch)
    ckpt = mt.load(args.checkpoint)
    is_checkpoint = "model" in ckpt and isinstance(ckpt["model"], dict)
    saved = (ckpt.get("args") if is_checkpoint
             else mt.serialization.load_metadata(args.checkpoint).get("run"))
    config = argparse.Namespace(**(saved or {}))
    config.dataset = args.dataset or getattr(config, "dataset", ["mnist-sample"])
    stored = model_spec.resolve(args.checkpoint, args.model, getattr(config, "model", None))
    config.model = stored["name"]
    for key, default in (("image_size", None), ("augment", False), ("seed", 0), ("limit", 0),
                         ("val_fraction", 0.0)):
        setattr(config, key, getattr(config, key, default))
    config.test_limit = args.limit or getattr(config, "test_limit", 0)
    device = get_device(args.device)
    _, _, test_set, num_classes, channels = build_data(config)
    model = (model_spec.build(stored) if stored["kwargs"] else
             registry.create_for_data(config.model, num_classes, channels))
    model.load_state_dict(ckpt["model"] if is_checkpoint else ckpt)
    model.to(device)
    loader = data.DataLoader(test_set, args.batch_size)
    loss, top1, top5 = run_epoch(model, loader, device, desc="test")
    print(f"{args.checkpoint}: {len(test_set)} test images, loss {loss:.4f}")
    print(f"top-1 accuracy: {top1:.4f}")
    print(f"top-5 accuracy: {top5:.4f}")
    return 0


def evaluate_parser():
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn evaluate",
                                description="Top-1 and top-5 accuracy of a checkpoint on the "
                                            "test split of its dataset.",
                                formatter_class=cli.DefaultsHelpFormatter)
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint, or an .onnx file")
    p.add_argument("--model", help="only for a file without a stored model (older ones); "
                                   "one that contradicts the stored model is refused")
    p.add_argument("--dataset", nargs="+", metavar="NAME [DIR]",
                   help="default: the dataset the checkpoint was trained on")
    p.add_argument("--limit", type=int, default=0, help="only the first N test images (0: all)")
    p.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    return p


def main(argv=None):
    """``CKPT [options]``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return evaluate(evaluate_parser().parse_args(argv))
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
