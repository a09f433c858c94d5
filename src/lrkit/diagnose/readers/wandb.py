"""Weights & Biases CSV exports (a chart panel's "Export -> CSV" in the W&B web UI).

The first column is the chart's x-axis (``Step``, or a custom name); every other column
is ``"<run name> - <metric>"``, each followed by ``__MIN`` and ``__MAX`` companions that
summarise sampled points and are dropped here. Runs become separate curves by ``run``.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "wandb_export.csv"
>>> _ = p.write_text('"Step","run-a - loss","run-a - loss__MIN","run-a - loss__MAX"\\n'
...                  '0,2.0,2.0,2.0\\n1,1.0,1.0,1.0\\n')
>>> [(c.run, c.name, c.values.tolist()) for c in read(p)]
[('run-a', 'loss', [2.0, 1.0])]
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import fail, table_to_curves
from lrkit.diagnose.readers.table import parse_delimited

__all__ = ["read", "sniff"]

_SEP = " - "


def _header(head: str) -> list[str]:
    first = head.splitlines()[0] if head.strip() else ""
    try:
        return next(csv.reader(io.StringIO(first)))
    except (StopIteration, csv.Error):
        return []


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is a W&B CSV export (0 = not at all)."""
    header = _header(head)
    runs = [h for h in header[1:] if _SEP in h]
    if not runs or len(runs) < (len(header) - 1) / 2:
        return 0
    bonus = 10 if any(h.endswith(("__MIN", "__MAX")) for h in header) else 0
    return 40 + bonus


def read(path: Path) -> list[Curve]:
    """Read a W&B CSV export into one group of curves per run."""
    columns = parse_delimited(path)
    names = list(columns)
    x_name = names[0]
    by_run: dict[str, dict[str, Sequence[float | None]]] = {}
    for name in names[1:]:
        if name.endswith(("__MIN", "__MAX")) or _SEP not in name:
            continue
        run, _, metric = name.rpartition(_SEP)
        by_run.setdefault(run.strip(), {})[metric.strip()] = columns[name]
    if not by_run:
        raise fail(path, "no '<run> - <metric>' columns found",
                   "export the chart again from the W&B web UI (Export -> CSV)")
    is_epoch = "epoch" in x_name.lower()
    curves: list[Curve] = []
    for run, metrics in by_run.items():
        # The x column is shared by every run; a run's own metric may also be 'epoch'.
        table = {x_name: columns[x_name], **{m: v for m, v in metrics.items() if m != x_name}}
        curves += table_to_curves(
            table, source="wandb", path=path, run=run,
            step_column=None if is_epoch else x_name,
            epoch_column=x_name if is_epoch else None,
            epoch_is_progress=is_epoch)
    return curves
