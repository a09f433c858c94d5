"""Plain CSV / TSV logs: a header row, then one row per logged point.

Any column can be a metric; ``step`` (or ``global_step``, ``iteration``, ...) and
``epoch`` are the axes. Empty cells, ``NA`` and ``null`` are "no value"; ``nan`` and
``inf`` are kept, because a NaN loss is exactly what a diagnosis must see.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> _ = p.write_text("step,loss,lr\\n0,2.3,0.1\\n1,nan,0.1\\n")
>>> [(c.name, c.kind, c.values.tolist()) for c in read(p)]
[('loss', 'train_loss', [2.3, nan]), ('lr', 'lr', [0.1, 0.1])]
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import (
    MAX_COLUMNS,
    MAX_POINTS,
    Column,
    check_file,
    clip,
    fail,
    number,
    table_to_curves,
)

__all__ = ["parse_delimited", "read", "sniff"]

_DELIMITERS = (",", "\t", ";")
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".log", ".dat")


def _delimiter(first_line: str) -> str | None:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def parse_delimited(path: Path, text: str | None = None) -> dict[str, Column]:
    """Parse a delimited text table into ``{column: cells}`` (cells as floats or None).

    The file is streamed row by row into compact columns (9 bytes a cell), so time and
    memory grow with its real size: a wide header is looked up by position, never by
    name per row, and the cell and column counts are capped before they are stored.

    A last row cut short (a log still being written) is padded; any other row with a
    different number of cells than the header is an error.

    Args:
        path: the file (read as UTF-8, BOM tolerated) and the name used in errors.
        text: the table's text, when the caller already holds it (the file is not read).

    Raises:
        DataError: no header, no delimiter, repeated, ragged or too many columns, too
            many cells, binary data.
    """
    if text is not None:
        return _parse_lines(path, io.StringIO(text, newline=""))
    check_file(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return _parse_lines(path, fh)
    except UnicodeDecodeError as err:
        raise fail(path, f"not UTF-8 text (byte {err.start} of a block)",
                   "pass a text log (CSV, JSON) or an event file") from None


def _checked_lines(path: Path, lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if "\x00" in line:
            raise fail(path, "contains NUL bytes, so it is not a text log",
                       "pass a text log (CSV, JSON) or an event file")
        yield line


def _parse_lines(path: Path, lines: Iterable[str]) -> dict[str, Column]:
    checked = _checked_lines(path, lines)
    first = next(checked, "")
    if not first.strip() and not any(line.strip() for line in checked):
        raise fail(path, "the file has no lines", "point lrkit at a log that has data in it")
    delim = _delimiter(first.splitlines()[0] if first.strip() else "")
    if delim is None:
        raise fail(path, "the first line has no ',', tab or ';' separator",
                   "write a header row such as 'step,loss,lr'")
    reader = csv.reader(itertools.chain([first], checked), delimiter=delim)
    try:
        header = [h.strip() for h in next(reader)]
        return _columns(path, header, ((reader.line_num, row) for row in reader))
    except csv.Error as err:
        raise fail(path, f"line {reader.line_num} is not valid CSV ({clip(str(err), 80)})",
                   "repair or remove that line") from None


def _columns(path: Path, header: list[str], rows: Iterator[tuple[int, list[str]]]
             ) -> dict[str, Column]:
    width = len(header)
    if width > MAX_COLUMNS:
        raise fail(path, f"{width:,} columns is over the {MAX_COLUMNS:,} column limit",
                   "export fewer metrics")
    seen: set[str] = set()
    dup = [h for h in header if h in seen or seen.add(h)]  # type: ignore[func-returns-value]
    if dup:
        raise fail(path, f"column names repeat ({clip(', '.join(sorted(set(dup))), 120)})",
                   "give every column its own name")
    if sum(number(h) is None for h in header) < width / 2:
        raise fail(path, "the first row is numbers, not a header",
                   "add a header row such as 'step,loss,lr'")
    cols = [Column() for _ in header]
    has_text = [False] * width
    max_rows = MAX_POINTS * 4 // max(width - 1, 1)
    pending: list[tuple[int, list[str]]] = []  # blank rows: an error unless at the end
    prev: tuple[int, list[str]] | None = None
    n_rows = 0

    def take(line_no: int, row: list[str], last: bool) -> None:
        nonlocal n_rows
        if len(row) != width:
            if not (last and len(row) < width):
                raise fail(path, f"line {line_no} has {len(row)} cells but the header has "
                           f"{width}", "repair or remove that line")
            row = row + [""] * (width - len(row))  # a last row cut short
            full = False
        else:
            full = True
        n_rows += 1
        if n_rows > max_rows:
            raise fail(path, f"more than {max_rows:,} rows x {width} columns is over the "
                       f"limit of {MAX_POINTS:,} logged values", "export fewer rows or metrics")
        for j, cell in enumerate(row):
            value = _cell(cell)
            cols[j].append(value)
            if value is None and full and not has_text[j] and cell.strip():
                has_text[j] = True

    for line_no, row in rows:
        if not any(c.strip() for c in row):
            pending.append((line_no, row))
            continue
        if prev is not None:
            take(*prev, last=False)
        for blank in pending:
            take(*blank, last=False)
        pending = []
        prev = (line_no, row)
    if prev is None:
        raise fail(path, "has a header but no data rows", "log at least one value")
    take(*prev, last=True)
    # A text column (dates, run ids) has cells but no numbers: it is not a metric.
    return {name: col for name, col, text in zip(header, cols, has_text, strict=True)
            if not (text and not col.any_value())}


def _cell(cell: str) -> float | None:
    # float() first: most cells are plain numbers, and number()'s checks cost 3x more.
    try:
        return float(cell)
    except ValueError:
        return number(cell)


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is a plain delimited table (0 = not at all)."""
    if path.suffix.lower() not in _TEXT_SUFFIXES or not head.strip():
        return 0
    return 10 if _delimiter(head.splitlines()[0]) else 0


def read(path: Path) -> list[Curve]:
    """Read a plain CSV/TSV log into curves (see the module docstring)."""
    return table_to_curves(parse_delimited(path), source="csv", path=path)
