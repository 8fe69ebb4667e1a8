"""The training command: ``python -m minitorch_cnn.train [train] [options]`` and
``python -m minitorch_cnn.train evaluate CKPT``.

With no options it trains LeNet-5 (ReLU variant) on the bundled MNIST sample (4,000 training
digits, 10% held out for validation, 1,000 test digits) for 8 epochs with Adam (lr 0.002,
batch 64, cosine schedule), shows a tqdm bar per epoch,
writes ``runs/train/{last.npz, model.npz, metrics.csv, curves.png}`` and prints, last,
``test accuracy: 0.9670``. ``--resume runs/train/last.npz`` continues an interrupted run, in
its folder and with its options, with the same results as an uninterrupted one (Ctrl-C stops
cleanly; checkpoints are written atomically at the end of each epoch).
"""
import argparse
import csv
import math
import os
import sys
import time

import numpy as np
from tqdm import tqdm

import minitorch_cnn as mt
from minitorch_cnn import cli, data, optim, run_guard
from minitorch_cnn import train_distributed as dist_run
from minitorch_cnn.command_data import build_data
from minitorch_cnn.models import registry
from minitorch_cnn.models import spec as model_spec
from minitorch_cnn.nn import functional as F

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULERS = ("none", "step", "multistep", "exponential", "cosine", "plateau")
# what is taken from a checkpoint on --resume, so that the run continues as it began
RUN_CONFIG = ("model", "dataset", "batch_size", "lr", "optimizer", "momentum", "weight_decay",
              "scheduler", "augment", "seed", "val_fraction", "limit", "test_limit", "image_size",
              "shift", "clip_grad_norm")
# every numeric option's range, checked before any work (cli.check_ranges)
TRAIN_RANGES = {"epochs": cli.at_least(1), "batch_size": cli.at_least(1), "lr": cli.positive(),
                "momentum": (0, 1, False, False), "weight_decay": cli.at_least(0),
                "image_size": cli.at_least(1), "val_fraction": (0, 1, False, True),
                "limit": cli.at_least(0), "test_limit": cli.at_least(0), "seed": cli.at_least(0),
                "workers": cli.at_least(0), "shift": cli.at_least(0),
                "clip_grad_norm": cli.at_least(0)}


def get_device(name):
    try:
        return mt.backend.as_device(name)
    except RuntimeError as e:  # no GPU or no CuPy: a usage error here, not a crash
        raise ValueError(str(e)) from None


def build_optimizer(args, model):
    params = model.parameters()
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr, momentum=args.momentum,
                         weight_decay=args.weight_decay)
    if args.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=args.lr, momentum=args.momentum,
                             weight_decay=args.weight_decay)
    cls = optim.Adam if args.optimizer == "adam" else optim.AdamW
    return cls(params, lr=args.lr, weight_decay=args.weight_decay)


def build_scheduler(args, opt):
    s, e = optim.lr_scheduler, args.epochs
    return {"none": lambda: None,
            "step": lambda: s.StepLR(opt, step_size=max(1, e // 3)),
            "multistep": lambda: s.MultiStepLR(opt, [e // 2, 3 * e // 4]),
            "exponential": lambda: s.ExponentialLR(opt, gamma=0.9),
            "cosine": lambda: s.CosineAnnealingLR(opt, T_max=e),
            "plateau": lambda: s.ReduceLROnPlateau(opt, factor=0.1, patience=2)}[args.scheduler]()


def _loss(model, output, images, target):
    """The model's own training loss where it has one (CapsNet: ``model.loss(output, images,
    target)``), else the cross-entropy of the logits."""
    if hasattr(model, "loss"):
        return model.loss(output, images, target)
    return F.cross_entropy(output, target)


def _scores(model, output):
    """The class scores of an output (``model.class_scores`` where the model has it)."""
    return model.class_scores(output) if hasattr(model, "class_scores") else output


def run_epoch(model, loader, device, opt=None, desc="", clip_grad_norm=0.0):
    """One pass; trains when ``opt`` is given (clipping the gradients' total norm to
    ``clip_grad_norm`` when it is set). Returns (mean loss, top-1, top-5 accuracy). A training
    loss or gradient norm that is NaN or Inf raises ``run_guard.NonFiniteLoss`` before the step,
    naming the op that made it."""
    model.train(opt is not None)
    total, loss_sum, top1, top5 = 0, 0.0, 0, 0
    bar = tqdm(loader, desc=desc, unit="batch", leave=opt is not None, disable=None,
               dynamic_ncols=True)
    with mt.set_grad_enabled(opt is not None):
        for batch, (x, y) in enumerate(bar):
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = _loss(model, logits, x, y)
            value = loss.item()
            if opt is not None:
                if not math.isfinite(value):
                    raise run_guard.NonFiniteLoss(
                        f"the training loss is {value} at batch {batch + 1} of {desc}: "
                        + run_guard.diagnose(model, _loss, x, y))
                opt.zero_grad()
                loss.backward()
                if clip_grad_norm:
                    norm = mt.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm).item()
                    if not math.isfinite(norm):
                        raise run_guard.NonFiniteLoss(
                            f"the gradient norm is {norm} at batch {batch + 1} of {desc}: "
                            + run_guard.diagnose(model, _loss, x, y))
                opt.step()
            scores, labels = _scores(model, logits).numpy(), y.numpy()
            ranked = np.argsort(-scores, axis=1)[:, :5]
            total += len(labels)
            loss_sum += value * len(labels)
            top1 += int((ranked[:, 0] == labels).sum())
            top5 += int((ranked == labels[:, None]).any(1).sum())
            bar.set_postfix(loss=f"{loss_sum / total:.4f}", acc=f"{top1 / total:.4f}")
    bar.close()
    return loss_sum / max(total, 1), top1 / max(total, 1), top5 / max(total, 1)


def write_metrics(history, out):
    with open(os.path.join(out, "metrics.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key, ax in (("loss", left), ("acc", right)):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], "o-", label="train")
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if key == "acc" else "cross-entropy loss")
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "curves.png"), dpi=100)
    plt.close(fig)


def resume_config(args, given=frozenset()):
    """The checkpoint ``args.resume``, with ``args`` set to go on with its run: its options, its
    number of epochs and its folder (the one holding the file), except the options ``given``
    on the command line again."""
    ckpt = mt.load(args.resume)
    if not (isinstance(ckpt, dict) and isinstance(ckpt.get("args"), dict)):
        raise ValueError(f"--resume {args.resume}: not a training checkpoint (last.npz); "
                         "model.npz holds only the weights")
    if "model" in given:  # refused where it contradicts the model of the run
        model_spec.resolve(args.resume, args.model, ckpt["args"].get("model"))
    for key in RUN_CONFIG + ("epochs",):  # the run goes on as it began ...
        if key not in given and key in ckpt["args"]:
            setattr(args, key, ckpt["args"][key])
    if "out" not in given:  # ... and where it began
        args.out = os.path.dirname(args.resume) or "."
    cli.check_ranges(args, TRAIN_RANGES)
    planned = ckpt["args"].get("epochs", args.epochs)
    if args.epochs != planned and args.scheduler in ("step", "multistep", "cosine"):
        lr = ckpt["optimizer"]["param_groups"][0]["lr"]
        print(f"note: the {args.scheduler} schedule of {args.resume} was laid out for {planned} "
              f"epochs, not {args.epochs}, and goes on as laid out (learning rate now {lr:.3g})",
              file=sys.stderr)
    if args.epochs < ckpt["epoch"]:
        raise ValueError(f"--epochs {args.epochs}: {args.resume} has {ckpt['epoch']} epochs "
                         "done already")
    return ckpt


def train(args, given=frozenset()):
    ckpt = resume_config(args, given) if args.resume else None
    mt.manual_seed(args.seed)
    rank, world = dist_run.start(args)
    device = get_device(args.device)
    train_set, val_set, test_set, num_classes, channels = build_data(args)
    model = registry.create_for_data(args.model, num_classes, channels).to(device)
    opt = build_optimizer(args, model)
    dist_run.scale_lr(args, opt, world)
    scheduler = build_scheduler(args, opt)
    loaders = [data.DataLoader(d, args.batch_size, shuffle=shuffle, seed=args.seed,
                               num_workers=args.workers)
               for d, shuffle in ((train_set, True), (val_set, False), (test_set, False))]
    history, start = [], 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        history, start = ckpt["history"], ckpt["epoch"]
        mt.set_rng_state(ckpt["rng"])
        print(f"resumed from {args.resume} after epoch {start}")
    param_bytes = sum(p.data.nbytes for p in model.parameters())
    # two checkpoints at once (an atomic save), each the weights and up to two optimizer
    # buffers per parameter (Adam's), and the final weights
    run_guard.check_out_dir(args.out, 2 * 3 * param_bytes + param_bytes)
    last = os.path.join(args.out, "last.npz")
    spec = model.model_spec
    metadata = {"model_spec": spec, "run": {k: getattr(args, k) for k in RUN_CONFIG}}

    def checkpoint(epoch):
        if rank != 0:
            return
        bad = run_guard.non_finite_parameters(model)
        if bad:
            raise run_guard.NonFiniteLoss(f"after epoch {epoch} the parameters "
                                          f"{', '.join(bad)} are NaN or Inf; not saved")
        run_guard.save_checkpoint(
            {"model": dist_run.unwrap(model).state_dict(), "optimizer": opt.state_dict(),
             "scheduler": None if scheduler is None else scheduler.state_dict(),
             "epoch": epoch, "rng": mt.get_rng_state(), "history": history,
             "args": vars(args), "model_spec": spec}, last, metadata=metadata)
    checkpoint(start)  # resumable from the first batch on
    print(f"{spec['name']}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set)} training, {len(val_set)} validation, {len(test_set)} test images; "
          f"device {device}")
    if getattr(args, "distributed", False):
        model, loaders[0], opt = dist_run.wrap(args, model, train_set, opt, start, args.workers)
        print(f"distributed: {world} ranks, global batch {world * args.batch_size}")
    try:
        for epoch in range(start, args.epochs):
            loaders[0].set_epoch(epoch)
            began = time.perf_counter()
            train_loss, train_acc, _ = run_epoch(model, loaders[0], device, opt,
                                                 f"epoch {epoch + 1}/{args.epochs}",
                                                 clip_grad_norm=args.clip_grad_norm)
            train_loss, train_acc = dist_run.average(train_loss, train_acc)
            val_loss, val_acc, _ = (run_epoch(model, loaders[1], device, desc="validation")
                                    if len(val_set) else (math.nan, math.nan, math.nan))
            lr = opt.param_groups[0]["lr"]
            if isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(val_loss if len(val_set) else train_loss)
            elif scheduler is not None:
                scheduler.step()
            history.append({"epoch": epoch + 1, "train_loss": train_loss, "train_acc": train_acc,
                            "val_loss": val_loss, "val_acc": val_acc, "lr": lr,
                            "seconds": round(time.perf_counter() - began, 3)})
            print(f"epoch {epoch + 1}: train loss {train_loss:.4f} acc {train_acc:.4f}, "
                  f"validation loss {val_loss:.4f} acc {val_acc:.4f}", flush=True)
            checkpoint(epoch + 1)
            if rank == 0:
                write_metrics(history, args.out)
    except KeyboardInterrupt as e:
        done = history[-1]["epoch"] if history else start
        print(f"\ninterrupted{f' by {e}' if isinstance(e, run_guard.Stopped) else ''}: {last} "
              f"holds the last complete epoch ({done}); continue with --resume {last}",
              file=sys.stderr)
        return getattr(e, "exit_status", 130)
    except run_guard.NonFiniteLoss as e:
        done = history[-1]["epoch"] if history else start
        print(f"\nerror: {e}\ntraining stopped; {last} holds the last good epoch ({done})",
              file=sys.stderr)
        return 1
    if rank != 0:
        return 0
    mt.save(dist_run.unwrap(model).state_dict(), os.path.join(args.out, "model.npz"),
            metadata=metadata)
    _, test_acc, test_top5 = run_epoch(model, loaders[2], device, desc="test")
    print(f"checkpoint, weights and metrics in {args.out}/; test top-5 accuracy: "
          f"{test_top5:.4f}")
    print(f"test accuracy: {test_acc:.4f}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn train",
                                description="Train a model of the zoo (default: LeNet-5 on the "
                                            "bundled MNIST sample).",
                                formatter_class=cli.DefaultsHelpFormatter)
    p.add_argument("--model", default="lenet5-relu",
                   help="a model of minitorch_cnn.models (lenet5 is the 1998-style sigmoid "
                        "network, lenet5-relu the ReLU + max-pool one)")
    p.add_argument("--dataset", nargs="+", default=["mnist-sample"], metavar="NAME [DIR]",
                   help="mnist-sample | mnist DIR | cifar10 DIR | folder DIR (with train/ "
                        "and test/ sub-folders)")
    p.add_argument("--epochs", type=int, default=8, help="passes over the training set")
    p.add_argument("--batch-size", type=int, default=64, help="images per step")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: 0.002 for adam and adamw, 0.001 for rmsprop, "
                        "0.05 for sgd)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="the update rule")
    p.add_argument("--momentum", type=float, default=0.9, help="for sgd and rmsprop")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty")
    p.add_argument("--scheduler", choices=SCHEDULERS, default="cosine",
                   help="the learning-rate schedule over the epochs")
    p.add_argument("--augment", action="store_true",
                   help="random crops after padding by 1/8 of the size (+ flips for photos)")
    p.add_argument("--image-size", type=int, default=None, help="resize images to this size")
    p.add_argument("--shift", type=int, default=0, metavar="PIXELS",
                   help="random shifts of up to PIXELS in each direction, zero-padded (the "
                        "CapsNet paper's augmentation: 2)")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="part of the training images held out for validation, in [0, 1)")
    p.add_argument("--limit", type=int, default=0,
                   help="use only this many training images (0: all)")
    p.add_argument("--test-limit", type=int, default=0,
                   help="test on only this many images (0: all)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the weights, the split, the shuffling and augmentation")
    p.add_argument("--workers", type=int, default=1,
                   help="batches prepared in a background thread (0: none)")
    p.add_argument("--resume", metavar="CKPT",
                   help="continue the run of a last.npz checkpoint, in its folder, with its "
                        "options (those given again override them)")
    p.add_argument("--clip-grad-norm", type=float, default=0.0, metavar="MAX",
                   help="scale the gradients so that their total L2 norm is at most MAX "
                        "(mt.nn.utils.clip_grad_norm_; 0: off)")
    p.add_argument("--out", default=os.path.join("runs", "train"), metavar="DIR",
                   help="where the checkpoint, weights and metrics go (with --resume: the "
                        "checkpoint's folder)")
    dist_run.add_arguments(p)
    return p


def main(argv=None):
    """``[train] [options]``; returns the exit status (``evaluate`` goes to evaluate.py)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["evaluate"]:
        from .evaluate import main as evaluate
        return evaluate(argv[1:])
    argv = argv[1:] if argv[:1] == ["train"] else argv
    try:
        args = parser().parse_args(argv)
        cli.check_ranges(args, TRAIN_RANGES)
        if args.lr is None:
            args.lr = {"sgd": 0.05, "rmsprop": 1e-3}.get(args.optimizer, 2e-3)
        with run_guard.stop_on_signals():
            return train(args, cli.given_options(parser(), argv))
    except run_guard.Stopped as e:  # outside the epochs (set-up, the final test)
        print(f"\ninterrupted by {e}", file=sys.stderr)
        return e.exit_status
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
