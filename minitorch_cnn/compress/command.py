"""``python -m minitorch_cnn compress CKPT``: Deep Compression of a trained checkpoint.

Prune (then fine-tune), share weights (then fine-tune the centroids), write ``DIR/model.mtc``,
load it back and test it; print a per-layer table like the paper's Table 2 and end with::

    compressed size: <N> bytes (<R>x smaller)
    test accuracy: before <A>, after <B>

where N is the size of the file, R the float32 bytes of the original parameters over N, A the
checkpoint's test accuracy and B that of the model loaded from the file (or of its int8
version with ``--int8``).
"""
import argparse
import os
import sys


import minitorch_cnn as mt
from .. import cli, data, optim
from ..models import registry
from ..command_data import build_data
from ..train import get_device, run_epoch
from . import mtc
from .prune import prune_magnitude
from .sharing import share_weights


def parser():
    p = argparse.ArgumentParser(
        prog="python -m minitorch_cnn compress",
        description="Prune, weight-share and Huffman-code a trained checkpoint (Deep "
                    "Compression) into DIR/model.mtc.",
        formatter_class=cli.DefaultsHelpFormatter)
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint written by train "
                   "(runs/train/last.npz)")
    p.add_argument("--prune", default="0.92", metavar="AMOUNT",
                   help="fraction of weights removed per layer: a float in [0, 1), or "
                        "LAYER=AMOUNT,... for chosen layers")
    p.add_argument("--bits", default="8/5", metavar="CONV/FC",
                   help="bits of the shared-weight indices of conv / fully connected layers; "
                        "the default is the paper's")
    p.add_argument("--prune-steps", type=int, default=3, metavar="S",
                   help="prune iteratively in S steps (the kept fraction shrinks "
                        "geometrically), fine-tuning after each")
    p.add_argument("--finetune-epochs", type=int, default=2, metavar="N",
                   help="epochs of retraining after each pruning step and after weight sharing")
    p.add_argument("--lr", type=float, default=5e-4, help="fine-tuning learning rate (Adam)")
    p.add_argument("--int8", action="store_true",
                   help="also quantize the compressed model to int8 and test that")
    p.add_argument("--batch-size", type=int, default=64, help="fine-tuning and test batch size")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--out", default=os.path.join("runs", "compress"), metavar="DIR",
                   help="where model.mtc goes")
    return p


def parse_prune(text):
    """``"0.9"`` -> 0.9; ``"features.0=0.5,classifier.1=0.95"`` -> a dict."""
    try:
        if "=" not in text:
            return float(text)
        return {k.strip(): float(v) for k, v in (item.split("=") for item in text.split(","))}
    except ValueError:
        raise ValueError(f"--prune: expected AMOUNT or LAYER=AMOUNT,..., got {text!r}") from None


def parse_bits(text):
    parts = text.split("/")
    try:
        values = tuple(int(v) for v in parts)
    except ValueError:
        values = ()
    if len(values) not in (1, 2):
        raise ValueError(f"--bits: expected CONV/FC (two ints in 1..16), got {text!r}")
    return values * 2 if len(values) == 1 else values


def load_checkpoint(path):
    """(model with the checkpoint's weights, its saved training arguments)."""
    ckpt = mt.load(path)
    if not (isinstance(ckpt, dict) and isinstance(ckpt.get("model"), dict)):
        raise ValueError(f"{path}: not a checkpoint written by train (no 'model' state)")
    args = dict(ckpt.get("args") or {})
    spec = ckpt.get("model_spec")
    args.setdefault("dataset", ["mnist-sample"])
    for key, default in (("image_size", None), ("augment", False), ("seed", 0), ("limit", 0),
                         ("val_fraction", 0.1), ("test_limit", 0)):
        args.setdefault(key, default)
    if spec:
        spec = dict(spec)
        model = registry.create(str(spec["name"]), **dict(spec.get("kwargs") or {}))
        args.setdefault("model", str(spec["name"]))
    elif args.get("model"):
        _, _, _, num_classes, channels = build_data(argparse.Namespace(**args))
        model = registry.create_for_data(args["model"], num_classes, channels)
    else:
        raise ValueError(f"{path}: the checkpoint names no model (neither model_spec nor "
                         "args['model'])")
    model.load_state_dict(ckpt["model"])
    return model, args


def _fraction(amount, progress):
    """The amount to prune to after ``progress`` (0..1] of the steps: the kept fraction
    1 - amount is reached geometrically (Han et al. 2015 prune and retrain iteratively)."""
    if isinstance(amount, dict):
        return {k: _fraction(v, progress) for k, v in amount.items()}
    return amount if progress >= 1 or amount >= 1 else 1 - (1 - amount) ** progress


def table(rows, bits_default):
    """The paper's Table 2: per layer, weights, % kept, index bits and bytes in the file."""
    lines = [f"{'layer':<28} {'weights':>9} {'kept':>7} {'bits':>5} {'bytes':>9}"]
    for name, n, kept, bits, size in rows:
        shown = "32" if bits is None else str(bits)
        lines.append(f"{name:<28} {n:>9} {100 * kept / max(n, 1):>6.1f}% {shown:>5} "
                     f"{size:>9}")
    total = sum(r[1] for r in rows)
    lines.append(f"{'total':<28} {total:>9} "
                 f"{100 * sum(r[2] for r in rows) / max(total, 1):>6.1f}% {'':>5} "
                 f"{sum(r[4] for r in rows):>9}")
    return "\n".join(lines)


def compress_checkpoint(args):
    amount, bits = parse_prune(args.prune), parse_bits(args.bits)
    if args.finetune_epochs < 0:
        raise ValueError(f"--finetune-epochs must be >= 0, got {args.finetune_epochs}")
    if args.prune_steps < 1:
        raise ValueError(f"--prune-steps must be >= 1, got {args.prune_steps}")
    device = get_device(args.device)
    model, saved = load_checkpoint(args.checkpoint)
    model.to(device)
    train_set, _, test_set, _, _ = build_data(argparse.Namespace(**saved))
    test_loader = data.DataLoader(test_set, args.batch_size)
    train_loader = data.DataLoader(train_set, args.batch_size, shuffle=True,
                                   seed=saved.get("seed", 0))
    original_bytes = sum(4 * p.numel() for p in model.parameters())
    _, before, _ = run_epoch(model, test_loader, device, desc="test")

    def finetune(stage):
        opt = optim.Adam(model.parameters(), lr=args.lr)
        for epoch in range(args.finetune_epochs):
            run_epoch(model, train_loader, device, opt,
                      f"{stage} fine-tune {epoch + 1}/{args.finetune_epochs}")

    if amount:
        for step in range(1, args.prune_steps + 1):
            prune_magnitude(model, _fraction(amount, step / args.prune_steps))
            finetune(f"pruned {step}/{args.prune_steps}")
    share_weights(model, bits=bits)
    finetune("shared")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.mtc")
    rows = mtc.save(model.to("cpu"), path)
    size = os.path.getsize(path)
    loaded = mtc.load(path).to(device)
    _, after, _ = run_epoch(loaded, test_loader, device, desc="test")
    print(table(rows, bits))
    if args.int8:
        from .quantize import quantize_int8
        calibration = [x for x, _ in zip((x for x, _ in train_loader), range(8))]
        qmodel = quantize_int8(loaded.to("cpu"), calibration)
        _, float_acc = after, after
        _, after, _ = run_epoch(qmodel, test_loader, "cpu", desc="int8 test")
        print(f"int8: test accuracy {after:.4f} (float32 {float_acc:.4f})")
    print(f"compressed size: {size} bytes ({original_bytes / size:.1f}x smaller)")
    print(f"test accuracy: before {before:.4f}, after {after:.4f}")
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return compress_checkpoint(parser().parse_args(argv))
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
