"""MLflow tracking stores, read as plain files: the file store and the SQLite store.

File store (``mlruns/``): ``<experiment>/<run_id>/metrics/<key>`` holds one
``<timestamp_ms> <value> <step>`` line per point (a key with ``/`` is nested folders),
``meta.yaml`` names the run, ``params/<key>`` holds the logged hyperparameters.
SQLite store (MLflow 3's default ``mlflow.db``): table ``metrics(key, value, timestamp,
run_uuid, step, is_nan)`` joined to ``runs`` for the name, and ``params`` for the LR.
Deleted runs (``lifecycle_stage: deleted``) are skipped. No MLflow import is needed.

>>> import pathlib, tempfile
>>> run = pathlib.Path(tempfile.mkdtemp()) / "mlruns" / "1" / "abc"
>>> (run / "metrics").mkdir(parents=True)
>>> _ = (run / "meta.yaml").write_text("run_id: abc\\nrun_name: demo\\n")
>>> _ = (run / "metrics" / "loss").write_text("1700000000000 2.0 0\\n1700000000001 1.5 1\\n")
>>> [(c.run, c.name, c.values.tolist()) for c in read(run.parent.parent)]
[('demo', 'loss', [2.0, 1.5])]
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import (
    MAX_BYTES,
    MAX_POINTS,
    check_file,
    fail,
    purge_restarts,
)

__all__ = ["read", "read_file_store", "read_sqlite", "sniff"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_LR_PARAMS = ("lr", "learning_rate", "learning-rate", "base_lr", "peak_lr", "max_lr",
              "init_lr", "optimizer_lr")

Points = list[tuple[float, float, float]]  # (timestamp_ms, value, step)


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is an MLflow store (0 = not at all)."""
    if path.is_file():
        try:
            with path.open("rb") as fh:
                magic = fh.read(16)
        except OSError:
            return 0
        return 70 if magic == _SQLITE_MAGIC else 0
    if path.is_dir() and _run_dirs(path, limit=1):
        return 70
    return 0


def _yaml_value(meta: Path, key: str) -> str | None:
    # MLflow's meta.yaml is a few hundred bytes; a bigger one is not MLflow's.
    if not meta.is_file() or meta.stat().st_size > 1_000_000:
        return None
    for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(rf"^{key}:\s*(.*?)\s*$", line)
        if m:
            return m.group(1).strip("'\"")
    return None


def _run_dirs(root: Path, limit: int | None = None) -> list[Path]:
    """Run folders (holding ``metrics/`` and ``meta.yaml``) at, below or two levels below."""
    found = []
    for level in ([root], sorted(root.glob("*")), sorted(root.glob("*/*"))):
        for d in level:
            if ".trash" in d.parts:
                continue
            if (d / "metrics").is_dir() and (d / "meta.yaml").is_file():
                found.append(d)
                if limit and len(found) >= limit:
                    return found
    return found


def _float_or_zero(text: str | None) -> float:
    # A hand-edited or damaged meta.yaml must not stop the runs from being read.
    try:
        value = float(text or 0)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) else 0.0


def _declared_lr(params: dict[str, str]) -> float | None:
    for key in _LR_PARAMS:
        if key in params:
            try:
                value = float(params[key])
            except ValueError:
                continue
            if math.isfinite(value) and value > 0:
                return value
    return None


def _curves(run: str, metrics: dict[str, Points], params: dict[str, str]) -> list[Curve]:
    curves = []
    for key, pts in sorted(metrics.items()):
        pts.sort(key=lambda p: p[0])  # written order: timestamps
        arr = np.array(pts, dtype=np.float64)
        if len(arr) > 1 and np.all(arr[:, 2] == arr[0, 2]):
            arr[:, 2] = np.arange(len(arr))  # logged without step=: the order is the axis
        keep, resumed_at = purge_restarts(arr[:, 2])
        arr = arr[keep]
        meta: dict[str, object] = {"resumed_at": resumed_at} if resumed_at else {}
        curves.append(Curve.of(key, arr[:, 1], steps=arr[:, 2], run=run, source="mlflow",
                               meta=meta))
    lr = _declared_lr(params)
    if lr is not None and not any(c.kind == "lr" for c in curves):
        curves.append(Curve.of("params/lr", [lr], steps=[0.0], kind="lr", run=run,
                               source="mlflow", meta={"declared": True}))
    return curves


def read_file_store(root: Path) -> list[Curve]:
    """Read every live run under an ``mlruns/`` folder, an experiment or a run folder."""
    runs = _run_dirs(root)
    if not runs:
        raise fail(root, "no MLflow run folders (with meta.yaml and metrics/) found",
                   "pass the mlruns/ folder or one run's folder")
    curves: list[Curve] = []
    points = 0
    size = 0
    # Runs in the order they started (as the sqlite reader does), not by their random ids.
    runs.sort(key=lambda d: (_float_or_zero(_yaml_value(d / "meta.yaml", "start_time")),
                             d.name))
    for run_dir in runs:
        if _yaml_value(run_dir / "meta.yaml", "lifecycle_stage") == "deleted":
            continue
        name = _yaml_value(run_dir / "meta.yaml", "run_name") or run_dir.name
        metrics: dict[str, Points] = {}
        for file in sorted((run_dir / "metrics").rglob("*")):
            if not file.is_file():
                continue
            size += file.stat().st_size
            if size > MAX_BYTES:
                raise fail(root, f"metric files over {MAX_BYTES // 2**20} MiB",
                           "pass one run's folder at a time")
            key = file.relative_to(run_dir / "metrics").as_posix()
            metrics[key] = _metric_file(file)
            points += len(metrics[key])
        if points > MAX_POINTS:
            raise fail(root, f"more than {MAX_POINTS:,} metric points",
                       "pass one run's folder at a time")
        params = {p.relative_to(run_dir / "params").as_posix():
                  p.read_text(encoding="utf-8", errors="replace").strip()
                  for p in (run_dir / "params").rglob("*") if p.is_file()
                  and p.stat().st_size < 10_000} if (run_dir / "params").is_dir() else {}
        curves += _curves(name, {k: v for k, v in metrics.items() if v}, params)
    if not curves:
        raise fail(root, "the MLflow runs hold no metric points",
                   "log metrics with mlflow.log_metric(key, value, step=...)")
    return curves


def _metric_file(file: Path) -> Points:
    pts = []
    for i, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(),
                             start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            ts, value = float(parts[0]), float(parts[1])
            step = float(parts[2]) if len(parts) > 2 else 0.0
        except (ValueError, IndexError):
            raise fail(file, f"line {i} is not '<timestamp> <value> <step>'",
                       "repair the metric file or remove that line") from None
        pts.append((ts, value, step))
    return pts


def read_sqlite(path: Path) -> list[Curve]:
    """Read every live run's metrics from an MLflow SQLite tracking database."""
    check_file(path, "database")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise fail(path, f"cannot open the SQLite file ({err})", "pass an mlflow.db") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"metrics", "runs"} <= tables:
            raise fail(path, "a SQLite file without MLflow's 'metrics' and 'runs' tables",
                       "pass the MLflow tracking database (mlflow.db)")
        (count,) = con.execute("SELECT COUNT(*) FROM metrics").fetchone()
        if count > MAX_POINTS:
            raise fail(path, f"{count:,} metric points is over the {MAX_POINTS:,} limit",
                       "export one run's metrics")
        names = {uuid: str(name or uuid) for uuid, name, stage in con.execute(
            "SELECT run_uuid, name, lifecycle_stage FROM runs ORDER BY start_time, run_uuid")
            if stage != "deleted"}
        by_run: dict[str, dict[str, Points]] = defaultdict(lambda: defaultdict(list))
        for key, value, ts, uuid, step, is_nan in con.execute(
                "SELECT key, value, timestamp, run_uuid, step, is_nan FROM metrics"):
            if uuid not in names:
                continue
            # MLflow stores a NaN as value 0 with is_nan = 1.
            v = float("nan") if is_nan else float(value)
            by_run[uuid][str(key)].append((float(ts or 0), v, float(step or 0)))
        params: dict[str, dict[str, str]] = defaultdict(dict)
        if "params" in tables:
            for key, value, uuid in con.execute("SELECT key, value, run_uuid FROM params"):
                params[uuid][str(key)] = str(value)
    except sqlite3.DatabaseError as err:
        raise fail(path, f"the SQLite database is damaged ({err})",
                   "pass an intact mlflow.db") from None
    except (TypeError, ValueError, OverflowError):
        raise fail(path, "a metric row holds a value that is not a number",
                   "pass the mlflow.db that MLflow wrote") from None
    finally:
        con.close()
    curves: list[Curve] = []
    for uuid in names:
        metrics = by_run.get(uuid)
        if not metrics:
            continue
        curves += _curves(names[uuid], dict(metrics), params.get(uuid, {}))
    if not curves:
        raise fail(path, "the MLflow database holds no metric points",
                   "log metrics with mlflow.log_metric(key, value, step=...)")
    return curves


def read(path: Path) -> list[Curve]:
    """Read an MLflow file store folder or SQLite database."""
    if path.is_dir():
        return read_file_store(path)
    return read_sqlite(path)
