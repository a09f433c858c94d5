"""Keras ``CSVLogger`` files: one row per epoch, ``epoch`` first, then the sorted log keys.

Keras 3 names the LR column ``learning_rate`` (Keras 2: ``lr``) and writes ``NA`` for a
key missing in a row (e.g. ``val_loss`` without validation data). Row ``epoch`` = 0 is
the end of the first epoch, so it sits at progress 1.0.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "training.log"
>>> _ = p.write_text("epoch,loss,lr,val_loss\\n0,2.0,0.01,NA\\n1,1.0,0.01,NA\\n")
>>> [(c.kind, c.epochs.tolist()) for c in read(p)]
[('train_loss', [1.0, 2.0]), ('lr', [1.0, 2.0])]
"""

from __future__ import annotations

from pathlib import Path

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import STEP_COLUMNS, table_to_curves
from lrkit.diagnose.readers.table import parse_delimited

__all__ = ["read", "sniff"]


def _header(head: str) -> list[str]:
    first = head.splitlines()[0] if head.strip() else ""
    sep = "\t" if first.count("\t") > first.count(",") else ","
    return [h.strip() for h in first.split(sep)]


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is a Keras CSVLogger file (0 = not at all)."""
    header = _header(head)
    if len(header) < 2 or header[0] != "epoch":
        return 0
    if any(h.lower() in STEP_COLUMNS for h in header):
        return 0  # per-step rows: not Keras' per-epoch logger
    score = 30
    if header[1:] == sorted(header[1:]):
        score += 5  # Keras sorts its keys
    if "\nNA" in head or ",NA" in head:
        score += 5
    return score


def read(path: Path) -> list[Curve]:
    """Read a Keras CSVLogger file into per-epoch curves."""
    columns = parse_delimited(path)
    return table_to_curves(columns, source="keras", path=path, step_column=None,
                           epoch_column="epoch", end_of_epoch=True)
