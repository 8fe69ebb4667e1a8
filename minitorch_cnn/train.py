"""The training command: ``python -m minitorch_cnn.train [train] [options]`` and
``python -m minitorch_cnn.train evaluate CKPT``.

With no options it trains LeNet-5 (ReLU variant) on the bundled MNIST sample (4,000 training
digits, 10% held out for validation, 1,000 test digits) for 8 epochs with Adam (lr 0.002,
batch 64, cosine schedule), shows a tqdm bar per epoch,
writes ``runs/train/{last.npz, model.npz, metrics.csv, curves.png}`` and prints, last,
``test accuracy: 0.97..``. ``--resume runs/train/last.npz`` continues an interrupted run with
the same results as an uninterrupted one (Ctrl-C stops cleanly; checkpoints are written
atomically at the end of each epoch).
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
from minitorch_cnn import data, optim
from minitorch_cnn import run_guard
from minitorch_cnn.data import transforms as T
from minitorch_cnn.models import registry
from minitorch_cnn.nn import functional as F

DATASETS = {"mnist-sample": "the bundled 5,000 MNIST digits", "mnist": "mnist DIR (IDX files)",
            "cifar10": "cifar10 DIR (python batches)", "folder": "folder DIR (ImageFolder)"}
STATS = {"mnist": ((0.1307,), (0.3081,)), "cifar10": ((0.4914, 0.4822, 0.4465),
                                                      (0.2470, 0.2435, 0.2616))}
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULERS = ("none", "step", "multistep", "exponential", "cosine", "plateau")
# what is taken from a checkpoint on --resume, so that the run continues as it began
RUN_CONFIG = ("model", "dataset", "batch_size", "lr", "optimizer", "momentum", "weight_decay",
              "scheduler", "augment", "seed", "val_fraction", "limit", "test_limit", "image_size")
RUN_CONFIG += ("clip_grad_norm",)


def build_data(args):
    """(train, validation, test) datasets, the number of classes and of input channels."""
    kind, *rest = args.dataset
    if kind not in DATASETS:
        raise ValueError(f"unknown dataset {kind!r}; valid datasets: "
                         + "; ".join(f"{k} ({v})" for k, v in DATASETS.items()))
    if (kind == "mnist-sample") != (not rest) or len(rest) > 1:
        raise ValueError(f"--dataset {kind}: expected {DATASETS[kind]}")
    mean, std = STATS.get("mnist" if kind.startswith("mnist") else kind, ((0.5,) * 3,) * 2)
    channels = len(mean)
    rgb_only = channels == 1 and not registry.accepts_in_channels(args.model)
    train_tf, test_tf = [], []
    if args.image_size:
        train_tf.append(T.Resize((args.image_size,) * 2))
        test_tf.append(T.Resize((args.image_size,) * 2))
    if args.augment:
        size = args.image_size or (28 if kind.startswith("mnist") else 32)
        train_tf.append(T.RandomCrop(size, padding=size // 8))
        if not kind.startswith("mnist"):  # mirrored digits are not digits
            train_tf.append(T.RandomHorizontalFlip())
    tail = [T.ToTensor(), T.Normalize(mean, std)]
    if rgb_only:  # a model made for RGB photos sees the grey image in all three channels
        tail.append(T.Lambda(lambda x: mt.cat([x, x, x], axis=0)))
        channels = 3
    train_tf, test_tf = T.Compose(train_tf + tail), T.Compose(test_tf + tail)

    def make(train, tf):
        if kind == "mnist-sample":
            return data.MNISTSample(train=train, transform=tf)
        if kind == "mnist":
            return data.MNIST(rest[0], train=train, transform=tf)
        if kind == "cifar10":
            return data.CIFAR10(rest[0], train=train, transform=tf)
        return data.ImageFolder(os.path.join(rest[0], "train" if train else "test"),
                                transform=tf)
    full, plain, test = make(True, train_tf), make(True, test_tf), make(False, test_tf)
    num_classes = len(getattr(full, "classes", range(10)))
    n = len(full) if not args.limit else min(args.limit, len(full))
    order = np.random.default_rng(args.seed).permutation(len(full))[:n]
    n_val = int(round(n * args.val_fraction))
    train = data.Subset(full, order[n_val:])
    val = data.Subset(plain, order[:n_val])  # validation without augmentation
    if getattr(args, "test_limit", 0):
        test = data.Subset(test, range(min(args.test_limit, len(test))))
    return train, val, test, num_classes, channels


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
            loss = F.cross_entropy(logits, y)
            value = loss.item()
            if opt is not None:
                if not math.isfinite(value):
                    raise run_guard.NonFiniteLoss(
                        f"the training loss is {value} at batch {batch + 1} of {desc}: "
                        + run_guard.diagnose(model, F.cross_entropy, x, y))
                opt.zero_grad()
                loss.backward()
                if clip_grad_norm:
                    norm = mt.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm).item()
                    if not math.isfinite(norm):
                        raise run_guard.NonFiniteLoss(
                            f"the gradient norm is {norm} at batch {batch + 1} of {desc}: "
                            + run_guard.diagnose(model, F.cross_entropy, x, y))
                opt.step()
            scores, labels = logits.numpy(), y.numpy()
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


def train(args):
    ckpt = None
    if args.resume:
        ckpt = mt.load(args.resume)
        for key in RUN_CONFIG:  # the run goes on as it began
            setattr(args, key, ckpt["args"].get(key, getattr(args, key)))
    mt.manual_seed(args.seed)
    device = get_device(args.device)
    train_set, val_set, test_set, num_classes, channels = build_data(args)
    model = registry.create_for_data(args.model, num_classes, channels).to(device)
    opt = build_optimizer(args, model)
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

    def checkpoint(epoch):
        bad = run_guard.non_finite_parameters(model)
        if bad:
            raise run_guard.NonFiniteLoss(f"after epoch {epoch} the parameters "
                                          f"{', '.join(bad)} are NaN or Inf; not saved")
        run_guard.save_checkpoint(
            {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": None if scheduler is None else scheduler.state_dict(),
             "epoch": epoch, "rng": mt.get_rng_state(), "history": history,
             "args": vars(args)}, last)
    checkpoint(start)  # resumable from the first batch on
    print(f"{type(model).__name__}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set)} training, {len(val_set)} validation, {len(test_set)} test images; "
          f"device {device}")
    try:
        for epoch in range(start, args.epochs):
            loaders[0].set_epoch(epoch)
            began = time.perf_counter()
            train_loss, train_acc, _ = run_epoch(model, loaders[0], device, opt,
                                                 f"epoch {epoch + 1}/{args.epochs}",
                                                 clip_grad_norm=args.clip_grad_norm)
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
    mt.save(model.state_dict(), os.path.join(args.out, "model.npz"))
    _, test_acc, test_top5 = run_epoch(model, loaders[2], device, desc="test")
    print(f"checkpoint, weights and metrics in {args.out}/; test top-5 accuracy: "
          f"{test_top5:.4f}")
    print(f"test accuracy: {test_acc:.4f}")
    return 0


def evaluate(args):
    ckpt = mt.load(args.checkpoint)
    saved = ckpt.get("args") if "model" in ckpt and isinstance(ckpt["model"], dict) else None
    config = argparse.Namespace(**(saved or {}))
    config.dataset = args.dataset or getattr(config, "dataset", ["mnist-sample"])
    config.model = args.model or getattr(config, "model", None)
    if config.model is None:
        raise ValueError(f"{args.checkpoint} is a bare state dict: say which model with --model")
    for key, default in (("image_size", None), ("augment", False), ("seed", 0), ("limit", 0),
                         ("val_fraction", 0.0)):
        setattr(config, key, getattr(config, key, default))
    config.test_limit = args.limit or getattr(config, "test_limit", 0)
    device = get_device(args.device)
    _, _, test_set, num_classes, channels = build_data(config)
    model = registry.create_for_data(config.model, num_classes, channels)
    model.load_state_dict(ckpt["model"] if saved else ckpt)
    model.to(device)
    loader = data.DataLoader(test_set, args.batch_size)
    loss, top1, top5 = run_epoch(model, loader, device, desc="test")
    print(f"{args.checkpoint}: {len(test_set)} test images, loss {loss:.4f}")
    print(f"top-1 accuracy: {top1:.4f}")
    print(f"top-5 accuracy: {top5:.4f}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn train",
                                description="Train a model of the zoo (default: LeNet-5 on the "
                                            "bundled MNIST sample).")
    p.add_argument("--model", default="lenet5-relu",
                   help="a model of minitorch_cnn.models (lenet5 is the 1998-style sigmoid "
                        "network, lenet5-relu the ReLU + max-pool one)")
    p.add_argument("--dataset", nargs="+", default=["mnist-sample"], metavar="NAME [DIR]",
                   help="mnist-sample | mnist DIR | cifar10 DIR | folder DIR (with train/ "
                        "and test/ sub-folders)")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: 0.002 for adam and adamw, 0.001 for rmsprop, "
                        "0.05 for sgd)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--momentum", type=float, default=0.9, help="for sgd and rmsprop")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--scheduler", choices=SCHEDULERS, default="cosine")
    p.add_argument("--augment", action="store_true",
                   help="random crops after padding by 1/8 of the size (+ flips for photos)")
    p.add_argument("--image-size", type=int, default=None, help="resize images to this size")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--limit", type=int, default=0, help="use only this many training images")
    p.add_argument("--test-limit", type=int, default=0, help="test on only this many images")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1,
                   help="batches prepared in a background thread (0: none)")
    p.add_argument("--resume", metavar="CKPT", help="continue from a last.npz checkpoint")
    p.add_argument("--clip-grad-norm", type=float, default=0.0, metavar="MAX",
                   help="scale the gradients so that their total L2 norm is at most MAX "
                        "(mt.nn.utils.clip_grad_norm_; default 0: off)")
    p.add_argument("--out", default=os.path.join("runs", "train"), metavar="DIR")
    return p


def evaluate_parser():
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn evaluate",
                                description="Top-1 and top-5 accuracy of a checkpoint on the "
                                            "test split of its dataset.")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--model", help="needed for a bare state dict (model.npz)")
    p.add_argument("--dataset", nargs="+", metavar="NAME [DIR]",
                   help="default: the dataset the checkpoint was trained on")
    p.add_argument("--limit", type=int, default=0, help="only the first N test images")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="cpu")
    return p


def main(argv=None):
    """``[train] [options]`` or ``evaluate CKPT [options]``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in ("train", "evaluate") else "train"
    try:
        if command == "evaluate":
            return evaluate(evaluate_parser().parse_args(argv))
        args = parser().parse_args(argv)
        if args.lr is None:
            args.lr = {"sgd": 0.05, "rmsprop": 1e-3}.get(args.optimizer, 2e-3)
        with run_guard.stop_on_signals():
            return train(args)
    except run_guard.Stopped as e:  # outside the epochs (set-up, the final test)
        print(f"\ninterrupted by {e}", file=sys.stderr)
        return e.exit_status
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
