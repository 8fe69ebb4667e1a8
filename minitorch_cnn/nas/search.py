"""The search loop: propose, train the children, learn from their rewards, record, repeat.

Each round the strategy proposes ``batch`` architectures, the evaluator trains them (one after
the other here, or in parallel on MPI ranks, ``nas.mpi``), the strategy updates once from their
rewards, and then the round is recorded: its lines appended to ``trials.jsonl``, the strategy's
state to ``state.npz``, the best so far to ``best.json``. A stopped search resumes after its last
recorded round; trial lines written after the last saved state (a crash between the two) are
dropped and run again, identically, as every trial's child has its own seed.
"""
import os
import time

from ..serialization import load, save
from .child import child_seed, train_child
from .trials import (BEST, STATE, TRIALS, append_trials, best_of, check_fresh, read_trials,
                     rewrite_trials, write_json)


class LocalEvaluator:
    """Trains the children of ``[(trial, arch)]`` one after the other in this process."""

    def __init__(self, train_set, val_set, in_channels, num_classes, epochs=1, seed=0,
                 device="cpu"):
        self.train_set, self.val_set = train_set, val_set
        self.in_channels, self.num_classes = in_channels, num_classes
        self.epochs, self.seed, self.device = epochs, seed, device

    def train(self, trial, arch):
        return train_child(arch, self.train_set, self.val_set, self.in_channels,
                           self.num_classes, self.epochs, child_seed(self.seed, trial),
                           device=self.device)

    def __call__(self, tasks):
        return [self.train(trial, arch) for trial, arch in tasks]


def _restore(out, strategy):
    """The records of a stopped search in ``out``, with ``strategy`` set to its saved state."""
    path, state_path = os.path.join(out, TRIALS), os.path.join(out, STATE)
    records = read_trials(path) if os.path.exists(path) else []
    state = load(state_path) if os.path.exists(state_path) else None
    done = state["trials"] if state is not None else 0
    if len(records) < done:
        raise ValueError(f"{path} holds {len(records)} trials but {state_path} was saved after "
                         f"{done}: the log was truncated")
    if state is not None:
        if state["strategy_name"] != strategy.name:
            raise ValueError(f"--resume: {out} is a {state['strategy_name']} search, not "
                             f"{strategy.name}")
        strategy.load_state_dict(state["strategy"])
    if len(records) > done:  # recorded after the last saved state: run again
        records = records[:done]
        rewrite_trials(path, records)
    return records


def search(strategy, evaluate, trials, out, batch=1, resume=False, meta=None, log=print):
    """Run ``strategy`` until ``trials`` trials are recorded in ``out``; returns the records.

    ``evaluate([(trial, arch)]) -> [{"reward", "params", "seconds", ...}]`` trains children;
    ``meta`` (``in_channels``, ``num_classes`` ...) is added to ``best.json``.
    """
    if trials < 1 or batch < 1:
        raise ValueError(f"search: trials and batch must be positive, got {trials}, {batch}")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, TRIALS)
    if not resume:
        check_fresh(out)
    records = _restore(out, strategy) if resume else []
    if records:
        log(f"resumed after trial {len(records)} of {out}")
    began = time.perf_counter()
    while len(records) < trials:
        n, k = len(records), min(batch, trials - len(records))
        archs = strategy.propose(k)
        results = evaluate(list(enumerate(archs, n)))
        baseline = strategy.update(archs, [r["reward"] for r in results])
        new = [{"trial": n + i, "strategy": strategy.name, "arch": arch, **result,
                "baseline": baseline} for i, (arch, result) in enumerate(zip(archs, results))]
        append_trials(path, new)
        records += new
        save({"trials": len(records), "strategy_name": strategy.name,
              "strategy": strategy.state_dict()}, os.path.join(out, STATE))
        best = best_of(records)
        write_json(os.path.join(out, BEST), {**best, **(meta or {})})
        for r in new:
            log(f"trial {r['trial'] + 1}/{trials}: reward {r['reward']:.4f} (best "
                f"{best['reward']:.4f}), {r['params']:,} parameters, {r['seconds']:.1f} s")
    log(f"{len(records)} trials in {out}/ ({time.perf_counter() - began:.1f} s this run); best: "
        f"trial {best_of(records)['trial'] + 1}, reward {best_of(records)['reward']:.4f}")
    return records
