"""Log readers, one module per format, and the auto-detection that picks one.

A reader is ``(path) -> list[Curve]``; a sniffer is ``(path, head) -> score`` where
``head`` is the start of the file as text and 0 means "not this format". Both live in
:data:`READERS` / :data:`SNIFFERS` under the format's name. For a folder, the finders in
:data:`FOLDER_FINDERS` are tried in order (a Trainer output folder also holds event
files, but its ``trainer_state.json`` has more), then the best-scoring file in it.

>>> sorted(READERS)
['csv', 'huggingface', 'jsonl', 'keras', 'lightning', 'mlflow', 'tensorboard', 'wandb']
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers import (
    huggingface,
    jsonl,
    keras,
    lightning,
    mlflow,
    table,
    tensorboard,
    wandb,
)
from lrkit.diagnose.readers._common import MAX_BYTES, exists, fail, find_files
from lrkit.errors import ConfigError

__all__ = ["FOLDER_FINDERS", "READERS", "SNIFFERS", "detect_format", "read_logs"]

Reader = Callable[[Path], list[Curve]]
_MAX_SNIFF = 10_000  # files of one folder whose heads are read to guess the format
Sniffer = Callable[[Path, str], int]

READERS: dict[str, Reader] = {
    "csv": table.read,
    "huggingface": huggingface.read,
    "jsonl": jsonl.read,
    "keras": keras.read,
    "lightning": lightning.read,
    "mlflow": mlflow.read,
    "tensorboard": tensorboard.read,
    "wandb": wandb.read,
}

SNIFFERS: dict[str, Sniffer] = {
    "csv": table.sniff,
    "huggingface": huggingface.sniff,
    "jsonl": jsonl.sniff,
    "keras": keras.sniff,
    "lightning": lightning.sniff,
    "mlflow": mlflow.sniff,
    "tensorboard": tensorboard.sniff,
    "wandb": wandb.sniff,
}


def _latest(paths: list[Path]) -> Path | None:
    return max(paths, key=lambda p: (p.stat().st_mtime, str(p))) if paths else None


def _find_mlflow(folder: Path) -> Path | None:
    if mlflow.sniff(folder, ""):
        return folder
    for name in ("mlruns", "mlflow.db"):
        if (folder / name).exists() and mlflow.sniff(folder / name, ""):
            return folder / name
    return None


def _find_lightning(folder: Path) -> Path | None:
    return _latest(find_files(folder, "metrics.csv"))


def _find_tensorboard(folder: Path) -> Path | None:
    return folder if tensorboard.event_files(folder) else None


#: Folder layouts that identify a format, tried in this order; each returns what to read.
FOLDER_FINDERS: dict[str, Callable[[Path], Path | None]] = {
    "huggingface": huggingface.find_state,
    "lightning": _find_lightning,
    "mlflow": _find_mlflow,
    "tensorboard": _find_tensorboard,
}


def _head(path: Path, size: int = 65536) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(size).decode("utf-8", errors="replace")
    except OSError as err:
        raise fail(path, f"cannot be read ({err.strerror})", "check its permissions") from None


def _sniff_file(path: Path) -> tuple[str, int]:
    head = _head(path)
    scores = {name: sniff(path, head) for name, sniff in SNIFFERS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best, scores[best]


def detect_format(path: str | os.PathLike[str]) -> tuple[str, Path]:
    """Which reader to use for ``path``, and the file or folder to give it.

    Raises:
        DataError: the path is missing, empty, or in no format lrkit knows.
    """
    p = Path(path)
    if not exists(p):
        raise fail(p, "no such file or folder", "check the path")
    if p.is_dir():
        for name, find in FOLDER_FINDERS.items():
            found = find(p)
            if found is not None:
                return name, found
        entries = list(itertools.islice(p.iterdir(), _MAX_SNIFF + 1))
        if len(entries) > _MAX_SNIFF:
            raise fail(p, f"holds more than {_MAX_SNIFF:,} entries to look through",
                       "pass the log file itself or the run's own folder")
        files = [f for f in sorted(entries) if f.is_file() and f.stat().st_size > 0]
        scored = sorted(((s, n, f) for f in files for n, s in [_sniff_file(f)] if s > 0),
                        key=lambda t: (-t[0], str(t[2])))
        if not scored:
            raise fail(p, "no training log found in this folder",
                       "pass the log file itself (CSV, JSON lines, event file, "
                       "trainer_state.json, metrics.csv, mlruns/ or mlflow.db)")
        return scored[0][1], scored[0][2]
    if p.stat().st_size == 0:
        raise fail(p, "the file is empty", "point lrkit at a log that has data in it")
    if p.stat().st_size > MAX_BYTES:
        raise fail(p, f"{p.stat().st_size / 2**20:.0f} MiB is over the "
                   f"{MAX_BYTES // 2**20} MiB limit",
                   "export a subset of the metrics or down-sample the log first")
    name, score = _sniff_file(p)
    if score <= 0:
        raise fail(p, "not a log format lrkit reads",
                   "use CSV/TSV, JSON lines, a TensorBoard event file, trainer_state.json, "
                   "Lightning metrics.csv, a Keras CSVLogger file, a W&B CSV export or MLflow")
    return name, p


def read_logs(path: str | os.PathLike[str], format: str | None = None) -> list[Curve]:
    """Read every curve in a training log, detecting its format from the path and content.

    Args:
        path: a log file, or a folder holding one (an event-file log dir, a Trainer output
            dir, a Lightning ``lightning_logs/version_N``, ``mlruns/``...).
        format: force a reader (one of :data:`READERS`) instead of detecting it.

    Returns:
        The curves, each with its ``kind`` (train_loss, val_loss, lr, ...) and run.

    Raises:
        DataError: unreadable, empty, truncated, huge or unknown input (a one-line message).
        ConfigError: ``format`` is not a known reader.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("step,loss\\n0,2.0\\n1,1.0\\n")
    >>> [(c.kind, c.values.tolist()) for c in read_logs(p)]
    [('train_loss', [2.0, 1.0])]
    """
    if format is not None:
        if format not in READERS:
            raise ConfigError(f"format = {format!r}: unknown log format; use one of "
                              f"{', '.join(sorted(READERS))}")
        target = Path(path)
        if not exists(target):
            raise fail(target, "no such file or folder", "check the path")
        if target.is_dir() and format in FOLDER_FINDERS:
            target = FOLDER_FINDERS[format](target) or target
        return READERS[format](target)
    name, target = detect_format(path)
    return READERS[name](target)
