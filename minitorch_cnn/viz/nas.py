"""Architecture searches compared: best-so-far reward against trials."""
import os

import numpy as np

from .common import _plt, _save

def plot_nas_searches(folders, out, title=None):
    """Best-so-far reward against trials for the searches in ``folders`` (their
    ``trials.jsonl``), each trial's own reward as a dot: strategies compared on one budget."""
    from ..nas.trials import TRIALS, read_trials
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for folder in folders:
        records = read_trials(os.path.join(folder, TRIALS))
        if not records:
            raise ValueError(f"{os.path.join(folder, TRIALS)} holds no trials")
        trial = np.arange(1, len(records) + 1)
        reward = np.array([r["reward"] for r in records])
        strategy, name = records[0].get("strategy", "?"), os.path.basename(
            os.path.normpath(folder))
        label = strategy if name == strategy else f"{strategy} ({name})"
        line, = ax.step(trial, np.maximum.accumulate(reward), where="post", label=label)
        ax.plot(trial, reward, ".", color=line.get_color(), alpha=0.4)
    ax.set_xlabel("trial")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("validation accuracy (best so far; dots: each child)")
    ax.set_title(title or "architecture search")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, out)
