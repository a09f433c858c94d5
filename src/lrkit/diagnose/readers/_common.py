"""Helpers every reader shares: size caps, one-line errors, numbers, tables, epoch axes.

>>> number("NA") is None, number("nan") != number("nan"), number("1e-3")
(True, True, 0.001)
"""

from __future__ import annotations

import fnmatch
import math
import os
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from lrkit.diagnose.curves import Curve
from lrkit.errors import DataError

__all__ = [
    "EPOCH_COLUMNS",
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_POINTS",
    "STEP_COLUMNS",
    "Column",
    "check_file",
    "clip",
    "epoch_progress",
    "exists",
    "fail",
    "find_files",
    "number",
    "purge_restarts",
    "read_text",
    "table_to_curves",
]

#: A log bigger than this is refused with a clear error rather than read into memory.
MAX_BYTES = 200 * 1024 * 1024
#: At most this many (step, value) points in all, over every curve of one read.
MAX_POINTS = 5_000_000
#: At most this many columns (metrics) in one table: a W&B export of 50 runs x 3 metrics
#: x 3 companions is 450; 100,000 can only be damage or abuse.
MAX_COLUMNS = 10_000

#: Column names taken as the update index, in order of preference (compared lower-case).
STEP_COLUMNS = ("step", "global_step", "_step", "iteration", "iter", "steps", "batch",
                "trainer/global_step", "train/global_step", "training step")
#: Column names taken as the epoch.
EPOCH_COLUMNS = ("epoch", "epochs", "train/epoch", "trainer/epoch")

# Spellings of "no value here" (Keras writes NA, pandas writes empty cells).
_MISSING = frozenset({"", "na", "n/a", "none", "null", "-"})


def clip(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: error messages echo names
    and values from the input, and an uploaded file can make those megabytes long.

    >>> clip("x" * 10, 5)
    'xx...'
    """
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def fail(path: str | Path, rule: str, fix: str) -> DataError:
    """A one-line DataError: ``path = '<path>': <rule>; <fix>`` (path and rule clipped)."""
    return DataError(f"path = '{clip(str(path))}': {clip(rule, 300)}; {fix}")


#: Entries a folder search visits before giving up: a log folder holds hundreds; a home
#: directory or ``/`` millions (``lrkit diagnose /`` must not walk the whole disk).
MAX_WALK = 100_000


def find_files(folder: Path, pattern: str, *, limit: int = MAX_WALK) -> list[Path]:
    """Regular files under ``folder`` whose name matches ``pattern`` (fnmatch), sorted.

    Like ``folder.rglob(pattern)`` but bounded: symlinked folders are not followed,
    unreadable folders are skipped, and past ``limit`` entries the search stops with a
    DataError asking for the run's own folder.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a").mkdir(); _ = (d / "a" / "m.csv").write_text("x")
    >>> [p.name for p in find_files(d, "*.csv")]
    ['m.csv']
    """
    found: list[Path] = []
    seen = 0
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        seen += len(entries)
        if seen > limit:
            raise fail(folder, f"holds more than {limit:,} files and folders",
                       "pass the run's own log folder, not a parent of many")
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif fnmatch.fnmatch(entry.name, pattern) and entry.is_file():
                    found.append(Path(entry.path))
            except OSError:
                continue
    return sorted(found)


def exists(path: Path) -> bool:
    """``path.exists()``, with a one-line error for a path the system refuses to look up
    (a name over 255 bytes, a loop of symlinks) instead of an OSError."""
    try:
        return path.exists()
    except OSError as err:
        raise fail(path, f"cannot be looked up ({err.strerror})", "check the path") from None


class Column(Sequence[float | None]):
    """One table column stored compactly: a float per cell and a byte saying "has a value".

    A million-row CSV held as Python lists of floats costs ~32 bytes a cell; this costs 9,
    and :meth:`arrays` hands numpy the buffer without a per-cell loop.

    >>> c = Column(); c.append(1.5); c.append(None)
    >>> list(c), c.any_value()
    ([1.5, None], True)
    """

    __slots__ = ("_present", "_values")

    def __init__(self) -> None:
        self._values = array("d")
        self._present = bytearray()

    @classmethod
    def sparse(cls, n: int, rows: Sequence[int], values: Sequence[float]) -> Column:
        """A column of ``n`` cells holding ``values`` at ``rows`` and nothing elsewhere."""
        col = cls()
        dense = np.full(n, np.nan)
        present = np.zeros(n, dtype=np.uint8)
        idx = np.asarray(rows, dtype=np.int64)
        dense[idx] = np.asarray(values, dtype=np.float64)
        present[idx] = 1
        col._values = array("d", dense.tobytes())
        col._present = bytearray(present.tobytes())
        return col

    def append(self, cell: float | None) -> None:
        """Add one cell (None = no value in this row)."""
        self._values.append(math.nan if cell is None else cell)
        self._present.append(cell is not None)

    def any_value(self) -> bool:
        """True when at least one cell holds a value."""
        return 1 in self._present

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(values with NaN where empty, boolean mask of cells that hold a value)."""
        values = np.frombuffer(self._values, dtype=np.float64).copy() if self._values \
            else np.zeros(0)
        present = np.frombuffer(bytes(self._present), dtype=np.uint8).astype(bool)
        return values, present

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, i: int) -> float | None:  # type: ignore[override]
        return self._values[i] if self._present[i] else None

    def __iter__(self) -> Iterator[float | None]:
        for v, p in zip(self._values, self._present, strict=True):
            yield v if p else None


def _arrays(cells: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(cells, Column):
        return cells.arrays()
    present = np.fromiter((v is not None for v in cells), dtype=bool, count=len(cells))
    values = np.fromiter((math.nan if v is None else v for v in cells), dtype=np.float64,
                         count=len(cells))
    return values, present


def check_file(path: Path, what: str = "log file") -> Path:
    """Refuse a missing, empty or oversized file with a one-line error."""
    if not exists(path):
        raise fail(path, f"no such {what}", "check the path")
    if not path.is_file():
        raise fail(path, f"is not a {what}", "pass the file itself")
    size = path.stat().st_size
    if size == 0:
        raise fail(path, "the file is empty", "point lrkit at a log that has data in it")
    if size > MAX_BYTES:
        raise fail(path, f"{size / 2**20:.0f} MiB is over the {MAX_BYTES // 2**20} MiB limit",
                   "export a subset of the metrics or down-sample the log first")
    return path


def read_text(path: Path) -> str:
    """The whole file as text (UTF-8, BOM tolerated), with a clear error for binary data."""
    check_file(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise fail(path, f"not UTF-8 text (byte {err.start})",
                   "pass a text log (CSV, JSON) or an event file") from None
    if "\x00" in text:
        raise fail(path, "contains NUL bytes, so it is not a text log",
                   "pass a text log (CSV, JSON) or an event file")
    return text


def number(cell: object) -> float | None:
    """A cell as a float; None for a missing cell or a non-number. NaN and Inf are kept."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        try:
            return float(cell)
        except OverflowError:  # a JSON integer of hundreds of digits
            return math.inf if cell > 0 else -math.inf
    if not isinstance(cell, str):
        return None
    text = cell.strip()
    if text.lower() in _MISSING:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def epoch_progress(epoch: np.ndarray, steps: np.ndarray | None, *,
                   end_of_epoch: bool = False) -> np.ndarray:
    """Turn a logged epoch column into training progress (1.0 = one epoch done).

    A fractional column (Hugging Face) already is progress. An integer column is an epoch
    *index*: rows logged at an epoch's end (Keras, Lightning ``on_epoch``) are at
    ``index + 1``; rows logged during an epoch get the fraction of the epoch done, from
    the steps seen in that epoch.

    >>> epoch_progress(np.array([0., 1., 2.]), None, end_of_epoch=True).tolist()
    [1.0, 2.0, 3.0]
    >>> epoch_progress(np.array([0., 0., 1., 1.]), np.array([0., 1., 2., 3.])).tolist()
    [0.5, 1.0, 1.5, 2.0]
    """
    epoch = np.asarray(epoch, dtype=np.float64)
    finite = epoch[np.isfinite(epoch)]
    if finite.size == 0 or np.any(finite != np.round(finite)):
        return epoch
    if steps is None or end_of_epoch:
        return epoch + 1.0
    spe = steps_per_epoch_from_index(epoch, steps)
    if spe is None:
        return epoch + 1.0
    # Step s of epoch e is progress e + (s - first step of e + 1) / steps_per_epoch
    # (elementwise: one pass however many epochs the log has).
    with np.errstate(invalid="ignore", over="ignore"):
        out = epoch + np.clip((steps - epoch * spe + 1.0) / spe, 0.0, 1.0)
    out[~np.isfinite(epoch)] = np.nan
    return out


def steps_per_epoch_from_index(epoch: np.ndarray, steps: np.ndarray) -> float | None:
    """Updates per epoch, from rows that carry both a step and an integer epoch index."""
    ok = np.isfinite(epoch) & np.isfinite(steps)
    if ok.sum() < 2:
        return None
    e, s = epoch[ok], steps[ok]
    order = np.lexsort((s, e))
    e, s = e[order], s[order]
    # The last row of each epoch (sorted by epoch, then step) holds its largest step.
    ends = np.append(np.flatnonzero(np.diff(e) != 0), len(e) - 1)
    if len(ends) < 2:
        return None
    keys, last = e[ends], s[ends]
    # The last step seen in each complete epoch: the gaps between them are epoch lengths.
    with np.errstate(invalid="ignore", over="ignore"):
        gaps = np.diff(last) / np.diff(keys)
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else None


def purge_restarts(steps: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Which points of a log in written order survive a resume, and where it resumed.

    A run resumed from a checkpoint logs steps it had already logged; as TensorBoard does,
    the later points win: a point at step ``s`` removes every earlier one at ``>= s``.

    Returns:
        (keep, resumed_at): a boolean mask over ``steps`` and the steps at which logging
        went back.

    >>> keep, at = purge_restarts(np.array([0., 1., 2., 3., 2., 3., 4.]))
    >>> keep.astype(int).tolist(), at
    ([1, 1, 0, 0, 1, 1, 1], [2.0])
    """
    steps = np.asarray(steps, dtype=np.float64)
    n = len(steps)
    if n < 2:
        return np.ones(n, dtype=bool), []
    later_min = np.minimum.accumulate(steps[::-1])[::-1]
    later = np.append(later_min[1:], np.inf)
    keep = steps < later
    back = np.flatnonzero(np.diff(steps) < 0) + 1
    return keep, [float(steps[i]) for i in back]


def _pick(names: Sequence[str], wanted: Iterable[str]) -> str | None:
    lower = {n.strip().lower(): n for n in names}
    for w in wanted:
        if w in lower:
            return lower[w]
    return None


def table_to_curves(columns: Mapping[str, Sequence[float | None]], *, source: str,
                    path: Path, run: str = "", step_column: str | None = None,
                    epoch_column: str | None = None, end_of_epoch: bool = False,
                    epoch_is_progress: bool = False, skip: Iterable[str] = (),
                    meta: Mapping[str, object] | None = None) -> list[Curve]:
    """Curves from a column table whose rows may be sparse (None = no value in that row).

    The step and epoch columns are found by name unless given. Each other numeric column
    becomes a curve of the rows where it has a value.

    Args:
        columns: column name -> one cell per row (float, NaN kept, or None when empty).
        source: the reader's name, stored on each curve.
        path: the file, for error messages.
        run: the run name stored on each curve.
        step_column, epoch_column: override the detected axis columns.
        end_of_epoch: integer epochs mark the end of that epoch (Keras rows).
        epoch_is_progress: the epoch column already is progress (Hugging Face), even when
            every value happens to be a whole number.
        skip: columns that are neither axes nor metrics (timestamps, ids).
        meta: facts about the run stored on every curve (e.g. Hugging Face's max_steps).

    Raises:
        DataError: no axis can be made, no numeric metric column, or too many points.
    """
    names = list(columns)
    if not names:
        raise fail(path, "no numeric metric column found",
                   "log at least one metric, e.g. a 'loss' column beside 'step'")
    step_col = step_column or _pick(names, STEP_COLUMNS)
    epoch_col = epoch_column or _pick(names, EPOCH_COLUMNS)
    n_rows = max((len(v) for v in columns.values()), default=0)
    if n_rows == 0:
        raise fail(path, "has a header but no data rows", "log at least one value")
    total = n_rows * max(len(names) - 1, 1)
    if total > MAX_POINTS * 4:
        raise fail(path, f"{n_rows:,} rows x {len(names)} columns is over the limit",
                   "export fewer rows or metrics")

    def col(name: str | None) -> np.ndarray | None:
        return None if name is None else _arrays(columns[name])[0]

    steps_all = col(step_col)
    epochs_all = col(epoch_col)
    if steps_all is not None:
        # Rows without a step (rare) take the previous row's: the log was written in order.
        steps_all = _fill_forward(steps_all)
    progress_all = None
    if epochs_all is not None:
        if steps_all is not None and np.isnan(epochs_all).any():
            epochs_all = _epoch_by_step(epochs_all, steps_all)
        progress_all = epochs_all if epoch_is_progress else epoch_progress(
            epochs_all, steps_all, end_of_epoch=end_of_epoch)
    skipped = {step_col, epoch_col, *skip}
    curves = []
    points = 0
    for name in names:
        if name in skipped:
            continue
        values, keep = _arrays(columns[name])
        if not keep.any():
            continue
        values = values[keep]
        steps = steps_all[keep] if steps_all is not None else None
        epochs = progress_all[keep] if progress_all is not None else None
        if steps is not None and np.isnan(steps).all():
            steps = None
        if steps is None and epochs is None:
            # No axis column at all: the row number is the best step we have.
            steps = np.flatnonzero(keep).astype(np.float64)
        if epochs is not None and np.isnan(epochs).any():
            epochs = None if steps is not None else _fill_forward(epochs)
        points += int(keep.sum())
        if points > MAX_POINTS:
            raise fail(path, f"more than {MAX_POINTS:,} logged values",
                       "export fewer rows or metrics")
        curves.append(Curve.of(name, values, steps=steps, epochs=epochs, run=run,
                               source=source, meta=dict(meta or {})))
    if not curves:
        raise fail(path, "no numeric metric column found",
                   "log at least one metric, e.g. a 'loss' column beside 'step'")
    return curves


def _fill_forward(arr: np.ndarray) -> np.ndarray:
    # Each NaN takes the last value before it (vectorised: a Python loop is seconds on a
    # million rows).
    arr = np.asarray(arr, dtype=np.float64)
    idx = np.where(np.isnan(arr), 0, np.arange(len(arr)))
    np.maximum.accumulate(idx, out=idx)
    out = arr[idx]
    # Leading NaNs have no earlier value: they stay NaN.
    return out


def _epoch_by_step(epochs: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Fill missing epoch cells from rows at the same or a nearby step (Lightning's LR rows)."""
    known = np.isfinite(epochs) & np.isfinite(steps)
    if not known.any():
        return epochs
    ks, ke = steps[known], epochs[known]
    order = np.argsort(ks, kind="stable")
    ks, ke = ks[order], ke[order]
    out = epochs.copy()
    todo = np.flatnonzero(~np.isfinite(epochs) & np.isfinite(steps))
    # A step after the last epoch-tagged row belongs to that row's epoch; one before the
    # first belongs to the first.
    j = np.searchsorted(ks, steps[todo], side="right")
    out[todo] = ke[np.maximum(j - 1, 0)]
    return out
