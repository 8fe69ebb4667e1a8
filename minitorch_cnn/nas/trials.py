"""A search's files in its folder DIR:

- ``trials.jsonl``: one JSON object per line and trial, appended as trials finish:
  ``trial``, ``arch``, ``reward`` (validation accuracy in [0, 1]), ``params``, ``seconds``, and
  ``strategy``, ``baseline``, ``train_loss``;
- ``best.json``: the best trial so far (the same fields, plus ``in_channels`` and
  ``num_classes``), what ``train --model nas:DIR/best.json`` builds;
- ``state.npz``: the strategy's state after the last recorded trial (controller weights, Adam,
  baseline, random state), and ``config.json``: the search's arguments, for ``--resume``.

Every file but the appended log is written atomically (temporary file + ``os.replace``); a log
line that is not a JSON object with the required keys raises a ValueError naming the line.
"""
import json
import os

from ..serialization import atomic_write
from .build import build
from .space import validate

TRIALS, BEST, STATE, CONFIG = "trials.jsonl", "best.json", "state.npz", "config.json"
REQUIRED = ("trial", "arch", "reward", "params", "seconds")


def write_json(path, obj):
    """Write ``obj`` as JSON to ``path`` atomically."""
    atomic_write(path, lambda f: f.write((json.dumps(obj, indent=1) + "\n").encode()))


def check_fresh(out):
    """A ValueError if ``out`` already holds a search (a new one would write over it)."""
    path = os.path.join(out, TRIALS)
    if os.path.exists(path) and os.path.getsize(path):
        raise ValueError(f"{path} exists: pass --resume to continue that search, or choose "
                         f"another --out")


def append_trials(path, records):
    """Append one line per record to the log ``path`` (flushed to disk before returning)."""
    with open(path, "a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
        f.flush()
        os.fsync(f.fileno())


def rewrite_trials(path, records):
    """Replace the log ``path`` by ``records`` (atomically)."""
    atomic_write(path, lambda f: f.write("".join(json.dumps(r) + "\n" for r in records)
                                         .encode()))


def read_trials(path):
    """The records of the log ``path``, in order; a ValueError naming the first bad line."""
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: line {n} is not JSON ({e.msg}); expected one JSON "
                                 f"object per line") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}: line {n} is not a JSON object")
            missing = [k for k in REQUIRED if k not in record]
            if missing:
                raise ValueError(f"{path}: line {n} has no key {missing[0]!r}")
            if record["trial"] != len(records):
                raise ValueError(f"{path}: line {n} is trial {record['trial']!r}, expected "
                                 f"{len(records)}")
            records.append(record)
    return records


def best_of(records):
    """The record with the highest reward (the earliest among equals), or None."""
    return max(records, key=lambda r: (r["reward"], -r["trial"]), default=None)


def load_json(path):
    """The JSON content of ``path``; a ValueError naming the file if it is not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a JSON file ({e.msg})") from None


def load_arch(path):
    """(arch, the file's other fields) from ``best.json`` or a file holding an arch dict."""
    content = load_json(path)
    if isinstance(content, dict) and "arch" in content:
        arch, meta = content["arch"], {k: v for k, v in content.items() if k != "arch"}
    else:
        arch, meta = content, {}
    try:
        validate(arch)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return arch, meta


def load_model(path, num_classes=None, in_channels=None):
    """The child network in ``path`` (``nas:PATH`` in the model registry); the numbers of
    classes and channels default to those the search used."""
    arch, meta = load_arch(path)
    return build(arch, in_channels or meta.get("in_channels", 3),
                 num_classes or meta.get("num_classes", 10))
