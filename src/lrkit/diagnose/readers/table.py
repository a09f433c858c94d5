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
from pathlib import Path

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import fail, number, read_text, table_to_curves

__all__ = ["parse_delimited", "read", "sniff"]

_DELIMITERS = (",", "\t", ";")
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".log", ".dat")


def _delimiter(first_line: str) -> str | None:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def parse_delimited(path: Path, text: str | None = None) -> dict[str, list[float | None]]:
    """Parse a delimited text table into ``{column: [cell, ...]}`` (cells as floats or None).

    A last row cut short (a log still being written) is padded; any other row with a
    different number of cells than the header is an error.

    Raises:
        DataError: no header, no delimiter, repeated or ragged columns.
    """
    text = read_text(path) if text is None else text
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise fail(path, "the file has no lines", "point lrkit at a log that has data in it")
    delim = _delimiter(lines[0])
    if delim is None:
        raise fail(path, "the first line has no ',', tab or ';' separator",
                   "write a header row such as 'step,loss,lr'")
    rows = list(csv.reader(lines, delimiter=delim))
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise fail(path, f"column names repeat ({', '.join(dup)})",
                   "give every column its own name")
    if sum(number(h) is None for h in header) < len(header) / 2:
        raise fail(path, "the first row is numbers, not a header",
                   "add a header row such as 'step,loss,lr'")
    body = rows[1:]
    columns: dict[str, list[float | None]] = {h: [] for h in header}
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            if i == len(rows) and len(row) < len(header):
                row = row + [""] * (len(header) - len(row))  # a last row cut short
            else:
                raise fail(path, f"line {i} has {len(row)} cells but the header has "
                           f"{len(header)}", "repair or remove that line")
        for name, cell in zip(header, row, strict=True):
            columns[name].append(number(cell))
    # A text column (dates, run ids) has cells but no numbers: it is not a metric.
    for name in header:
        raw_cells = [r[header.index(name)] for r in body if len(r) == len(header)]
        if raw_cells and all(c is None for c in columns[name]) and any(
                c.strip() for c in raw_cells):
            del columns[name]
    if not body:
        raise fail(path, "has a header but no data rows", "log at least one value")
    return columns


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is a plain delimited table (0 = not at all)."""
    if path.suffix.lower() not in _TEXT_SUFFIXES or not head.strip():
        return 0
    return 10 if _delimiter(head.splitlines()[0]) else 0


def read(path: Path) -> list[Curve]:
    """Read a plain CSV/TSV log into curves (see the module docstring)."""
    return table_to_curves(parse_delimited(path), source="csv", path=path)
