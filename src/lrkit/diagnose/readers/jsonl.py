"""JSON lines logs: one JSON object per line (or one JSON array of objects).

Nested objects are flattened with ``/`` (``{"train": {"loss": 1}}`` is ``train/loss``).
A last line cut short (a log still being written) is ignored; a broken line anywhere else
is an error naming its line number.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
>>> _ = p.write_text('{"step": 0, "loss": 2.0}\\n{"step": 1, "loss": 1.5, "lr": 0.1}\\n')
>>> {c.name: c.values.tolist() for c in read(p)}
{'loss': [2.0, 1.5], 'lr': [0.1]}
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import (
    MAX_COLUMNS,
    MAX_POINTS,
    Column,
    check_file,
    fail,
    number,
    read_text,
    table_to_curves,
)

__all__ = ["flatten", "json_problem", "read", "records_to_columns", "sniff"]


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into ``a/b`` keys.

    >>> flatten({"train": {"loss": 1.0}, "step": 3})
    {'train/loss': 1.0, 'step': 3}
    """
    out: dict[str, Any] = {}
    # An explicit stack, not recursion: a hostile file can nest as deep as json allows.
    stack = [(prefix, iter(obj.items()))]
    while stack:
        pre, items = stack[-1]
        for key, value in items:
            name = f"{pre}{key}"
            if isinstance(value, dict):
                stack.append((f"{name}/", iter(value.items())))
                break
            out[name] = value
        else:
            stack.pop()
    return out


class _ColumnBuilder:
    """Sparse records -> columns, one record at a time (nothing but the cells is kept).

    Each record's own keys are visited once, so the work is the number of cells in the
    input (not records x every key ever seen); the key count is capped as it grows and the
    table it would make is checked against the size limits before it is built.
    """

    def __init__(self) -> None:
        self.n = 0
        self.rows: dict[str, list[int]] = {}
        self.values: dict[str, array[float]] = {}

    def add(self, rec: dict[str, Any]) -> None:
        i = self.n
        self.n += 1
        for name, raw in rec.items():
            value = _cell(raw)
            rows = self.rows.get(name)
            if rows is None:
                rows = self.rows[name] = []
                self.values[name] = array("d")
                if len(self.rows) > MAX_COLUMNS:
                    raise fail("<records>", f"more than {MAX_COLUMNS:,} different keys",
                               "log fewer metrics")
            if value is not None:
                rows.append(i)
                self.values[name].append(value)

    def build(self) -> dict[str, Column]:
        kept = [name for name, idx in self.rows.items() if idx]
        if self.n * max(len(kept) - 1, 1) > MAX_POINTS * 4:
            raise fail("<records>", f"{self.n:,} records x {len(kept)} keys is over the limit",
                       "export fewer rows or metrics")
        return {name: Column.sparse(self.n, self.rows[name], self.values[name])
                for name in kept}


def records_to_columns(records: Iterable[dict[str, Any]]) -> dict[str, Column]:
    """Sparse records -> ``{column: [cell per record]}`` with None where a key is absent.

    Linear in the number of cells (see ``_ColumnBuilder``).

    Raises:
        DataError: more than MAX_COLUMNS keys, or more cells than the limits allow.

    >>> {k: list(v) for k, v in records_to_columns([{"a": 1}, {"b": "2"}]).items()}
    {'a': [1.0, None], 'b': [None, 2.0]}
    """
    builder = _ColumnBuilder()
    for rec in records:
        builder.add(rec)
    return builder.build()


def json_problem(err: Exception) -> str:
    """What a JSON text that parses as no Python value is: nested too deeply, or an
    integer too long to convert (Python refuses over 4,300 digits).

    >>> json_problem(RecursionError())
    'JSON nested too deeply to read'
    """
    if isinstance(err, RecursionError):
        return "JSON nested too deeply to read"
    return f"JSON holds a value Python cannot read ({str(err)[:80]})"


def _cell(value: Any) -> float | None:
    # JSON has no NaN, but Python's json (and many loggers) write NaN / Infinity tokens,
    # and some write the strings "NaN" / "inf": number() keeps both as floats.
    return number(value)


def _parse(path: Path) -> dict[str, Column]:
    """The file's records as columns; JSON lines are streamed, never held as text."""
    check_file(path)
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        text = read_text(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise fail(path, f"invalid JSON at line {err.lineno} ({err.msg})",
                       "repair the file or export it again") from None
        except (ValueError, RecursionError) as err:
            raise fail(path, json_problem(err), "repair the file or export it again") from None
        del text
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise fail(path, "a JSON array that is not a list of objects",
                       "write one object per logged point")
        return records_to_columns(flatten(r) for r in data)
    builder = _ColumnBuilder()
    broken: tuple[int, str] | None = None  # a bad line: an error unless it is the last one
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                if broken is not None:
                    raise fail(path, f"line {broken[0]} is not valid JSON ({broken[1]})",
                               "repair or remove that line")
                if "\x00" in line:
                    raise fail(path, "contains NUL bytes, so it is not a text log",
                               "pass a text log (CSV, JSON) or an event file")
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as err:
                    broken = (i, err.msg)
                    continue
                except (ValueError, RecursionError) as err:
                    raise fail(path, f"line {i}: {json_problem(err)}",
                               "repair or remove that line") from None
                if not isinstance(rec, dict):
                    raise fail(path, f"line {i} is not a JSON object",
                               "write one object per line, e.g. {\"step\": 0, \"loss\": 2.3}")
                builder.add(flatten(rec))
                if builder.n > MAX_POINTS:
                    raise fail(path, f"more than {MAX_POINTS:,} lines", "export fewer rows")
    except UnicodeDecodeError as err:
        raise fail(path, f"not UTF-8 text (byte {err.start} of a block)",
                   "pass a text log (CSV, JSON) or an event file") from None
    if broken is not None and builder.n == 0:
        raise fail(path, f"line {broken[0]} is not valid JSON ({broken[1]})",
                   "repair or remove that line")
    # a broken last line is a log still being written: ignored
    if builder.n == 0:
        raise fail(path, "no JSON objects found", "write one object per line")
    return builder.build()


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is JSON lines (0 = not at all)."""
    first = head.lstrip()[:1]
    if path.suffix.lower() in (".jsonl", ".ndjson") and first in ("{", "["):
        return 20
    if path.suffix.lower() == ".json" and first == "[":
        return 15
    if first == "{" and "\n{" in head:
        return 12
    if path.suffix.lower() == ".json" and first == "{":
        return 5  # a single object: maybe one record, maybe another format's JSON
    return 0


def read(path: Path) -> list[Curve]:
    """Read a JSON lines log into curves (see the module docstring)."""
    return table_to_curves(_parse(path), source="jsonl", path=path)
