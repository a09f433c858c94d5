"""PyTorch Lightning ``CSVLogger`` output: ``<save_dir>/<name>/version_<N>/metrics.csv``.

Rows are sparse: every ``log`` call writes its own row (``step`` always filled, the
other columns empty). ``LearningRateMonitor`` adds ``lr-<Optimizer>`` columns (with
``/pg1``... per parameter group); a metric logged ``on_step`` and ``on_epoch`` appears as
``<name>_step`` and ``<name>_epoch``. The LR rows carry no epoch, so it is filled from
the rows around them. ``hparams.yaml`` beside the file gives the configured ``lr`` when
no LR monitor was used.

>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "metrics.csv").write_text(
...     "epoch,lr-SGD,step,train_loss_step,val_loss\\n"
...     ",0.1,0,,\\n0,,0,2.0,\\n0,,1,1.5,\\n0,,1,,1.4\\n")
>>> [(c.name, c.steps.tolist()) for c in read(d / "metrics.csv")]
[('lr-SGD', [0.0]), ('train_loss_step', [0.0, 1.0]), ('val_loss', [1.0])]
"""

from __future__ import annotations

import re
from pathlib import Path

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import check_file, fail, table_to_curves
from lrkit.diagnose.readers.table import parse_delimited

__all__ = ["hparams_lr", "read", "sniff"]

_LR_KEYS = ("lr", "learning_rate", "base_lr", "peak_lr", "max_lr", "init_lr")


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is a Lightning CSVLogger metrics file (0 = not at all)."""
    first = head.splitlines()[0] if head.strip() else ""
    header = [h.strip() for h in first.split(",")]
    if "step" not in header:
        return 0
    score = 0
    if path.name == "metrics.csv":
        score += 20
    if (path.parent / "hparams.yaml").exists():
        score += 20
    if any(h.startswith("lr-") or h.endswith(("_step", "_epoch")) for h in header):
        score += 15
    if "epoch" in header and header == sorted(header):
        score += 5  # Lightning sorts its header
    return score if score >= 20 else 0


def hparams_lr(path: Path) -> float | None:
    """The LR written in ``hparams.yaml`` (top-level ``lr:`` / ``learning_rate:``), if any.

    Only plain ``key: number`` lines are read; this is enough for the LR and needs no YAML
    library.
    """
    if not path.exists() or path.stat().st_size > 1_000_000:
        return None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"^([A-Za-z_]+):\s*([-+0-9.eE]+)\s*$", line)
        if m and m.group(1).lower() in _LR_KEYS:
            try:
                return float(m.group(2))
            except ValueError:
                return None
    return None


def read(path: Path) -> list[Curve]:
    """Read a Lightning ``metrics.csv`` (and the LR in ``hparams.yaml`` beside it)."""
    check_file(path)
    columns = parse_delimited(path)
    if "step" not in columns:
        raise fail(path, "no 'step' column", "pass the metrics.csv that Lightning's "
                   "CSVLogger wrote (it always has 'step')")
    curves = table_to_curves(columns, source="lightning", path=path, step_column="step",
                             epoch_column="epoch" if "epoch" in columns else None)
    if not any(c.kind == "lr" for c in curves):
        lr = hparams_lr(path.parent / "hparams.yaml")
        if lr is not None:
            # Only the configured value: a schedule, if any, is invisible without
            # LearningRateMonitor, so the detectors treat it as a declared constant.
            curves.append(Curve.of("hparams/lr", [lr], steps=[0.0], kind="lr",
                                   source="lightning", meta={"declared": True}))
    return curves
