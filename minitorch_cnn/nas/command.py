"""``python -m minitorch_cnn nas``: search a CNN architecture on the bundled MNIST sample (or a
data set folder) with the REINFORCE controller or random search.

    python -m minitorch_cnn nas --strategy reinforce --trials 20 --layers 3 --limit 500
    python -m minitorch_cnn train --model nas:runs/nas/best.json

Under ``mpiexec -n K`` rank 0 runs the controller and ranks 1..K-1 train children in parallel,
K-1 per controller update unless ``--batch`` says otherwise (see ``nas.mpi``).
"""
import argparse
import os
import sys
import time
from types import SimpleNamespace

from ..random import manual_seed
from . import mpi
from .child import as_tensor_dataset
from .search import LocalEvaluator, search
from .space import STRIDES, SearchSpace
from .strategies import RandomSearch, Reinforce
from .trials import CONFIG, check_fresh, load_json, write_json

# what --resume takes from the stopped search (all but --trials, --out and --device)
RUN_CONFIG = ("strategy", "layers", "child_epochs", "limit", "seed", "batch", "dataset",
              "val_fraction", "strides", "lr", "entropy")


def parser():
    p = argparse.ArgumentParser(prog="python -m minitorch_cnn nas",
                                description="Neural architecture search (Zoph & Le 2017): an "
                                            "LSTM controller trained with REINFORCE, or random "
                                            "search, over a small CNN space.")
    p.add_argument("--strategy", choices=("reinforce", "random"), default="reinforce")
    p.add_argument("--trials", type=int, default=20, help="children to train in all")
    p.add_argument("--layers", type=int, default=3, help="convolutional layers of a child")
    p.add_argument("--child-epochs", type=int, default=1, help="training epochs of a child")
    p.add_argument("--limit", type=int, default=500,
                   help="images of the training split used (0: all)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="of those, held out for the reward")
    p.add_argument("--dataset", nargs="+", default=["mnist-sample"], metavar="NAME [DIR]",
                   help="mnist-sample | mnist DIR | cifar10 DIR | folder DIR (as for train)")
    p.add_argument("--strides", type=int, nargs="+", default=list(STRIDES), choices=STRIDES,
                   help="the strides a layer may have (1: no strided layers)")
    p.add_argument("--batch", type=int, default=None,
                   help="children per controller update (default: 1, or the MPI workers)")
    p.add_argument("--lr", type=float, default=0.005, help="the controller's Adam step")
    p.add_argument("--entropy", type=float, default=0.0, help="entropy bonus weight")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="where children train: cpu or cuda")
    p.add_argument("--out", default=os.path.join("runs", "nas"), metavar="DIR")
    p.add_argument("--resume", action="store_true",
                   help="continue the search in --out (its own arguments, --trials aside)")
    return p


def _data(args):
    """(train, validation, in_channels, num_classes) as the train command builds them."""
    from ..command_data import build_data  # the command layer: one way to read every data set
    config = SimpleNamespace(dataset=args.dataset, model="nas:", image_size=None,
                             augment=False, limit=args.limit, seed=args.seed,
                             val_fraction=args.val_fraction, test_limit=1)
    train_set, val_set, _, num_classes, channels = build_data(config)
    if not len(val_set) or not len(train_set):
        raise ValueError(f"--limit {args.limit} with --val-fraction {args.val_fraction} "
                         f"leaves no training or no validation images")
    return as_tensor_dataset(train_set), as_tensor_dataset(val_set), channels, num_classes


def run(args):
    for name in ("trials", "layers", "child_epochs", "batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    config_path = os.path.join(args.out, CONFIG)
    if args.resume:
        if not os.path.exists(config_path):
            raise ValueError(f"--resume: {config_path} does not exist; nothing to resume")
        for key, value in load_json(config_path).items():
            if key in RUN_CONFIG:
                setattr(args, key, value)
    comm = mpi.world()
    workers = comm.Get_size() - 1 if comm is not None else 0
    if args.batch is None:
        args.batch = max(workers, 1)
    manual_seed(args.seed)
    space = SearchSpace(args.layers, strides=tuple(sorted(set(args.strides))))
    train_set, val_set, channels, num_classes = _data(args)
    evaluator = LocalEvaluator(train_set, val_set, channels, num_classes, args.child_epochs,
                               args.seed, args.device)
    if comm is not None and comm.Get_rank() > 0:
        mpi.serve(comm, evaluator)
        return 0
    dispatcher = mpi.Dispatcher(comm) if workers else None
    try:  # whatever happens on rank 0, the workers are told to stop
        return _lead(args, space, dispatcher or evaluator, max(workers, 1), channels,
                     num_classes, len(train_set), len(val_set))
    finally:
        if dispatcher is not None:
            dispatcher.close()


def _lead(args, space, evaluate, trainers, channels, num_classes, n_train, n_val):
    """Rank 0 (or the only process): the strategy, the files and the loop."""
    if args.strategy == "reinforce":
        strategy = Reinforce(space, lr=args.lr, entropy_weight=args.entropy)
    else:
        strategy = RandomSearch(space, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    if not args.resume:
        check_fresh(args.out)
        write_json(os.path.join(args.out, CONFIG), {k: getattr(args, k) for k in RUN_CONFIG})
    print(f"nas: {args.strategy} search, {args.trials} trials of {args.layers}-layer children, "
          f"{n_train} training / {n_val} validation images, {args.child_epochs} child "
          f"epoch(s), {trainers} child trainer(s)", flush=True)
    began = time.perf_counter()
    search(strategy, evaluate, args.trials, args.out, args.batch, args.resume,
           meta={"in_channels": channels, "num_classes": num_classes},
           log=lambda s: print(s, flush=True))
    print(f"wall time {time.perf_counter() - began:.1f} s; train the best with: python -m "
          f"minitorch_cnn train --model nas:{os.path.join(args.out, 'best.json')}")
    return 0


def main(argv=None):
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the finished rounds are on disk; the one running is run again
        print(f"\ninterrupted: continue with --resume --out {args.out}", file=sys.stderr)
        return 130
