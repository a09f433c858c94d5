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
from pathlib import Path
from typing import Any

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import (
    MAX_COLUMNS,
    MAX_POINTS,
    Column,
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


def records_to_columns(records: list[dict[str, Any]]) -> dict[str, Column]:
    """Sparse records -> ``{column: [cell per record]}`` with None where a key is absent.

    Each record's own keys are visited once, so the work is the number of cells in the
    input (not records x every key ever seen), and the table it would make is checked
    against the size limits before it is built.

    Raises:
        DataError: more than MAX_COLUMNS keys, or more cells than the limits allow.

    >>> {k: list(v) for k, v in records_to_columns([{"a": 1}, {"b": "2"}]).items()}
    {'a': [1.0, None], 'b': [None, 2.0]}
    """
    rows: dict[str, list[int]] = {}
    values: dict[str, list[float]] = {}
    for i, rec in enumerate(records):
        for name, raw in rec.items():
            value = _cell(raw)
            if value is None:
                rows.setdefault(name, [])
                continue
            rows.setdefault(name, []).append(i)
            values.setdefault(name, []).append(value)
        if len(rows) > MAX_COLUMNS:
            raise fail("<records>", f"more than {MAX_COLUMNS:,} different keys",
                       "log fewer metrics")
    n = len(records)
    if n * max(len(values) - 1, 1) > MAX_POINTS * 4:
        raise fail("<records>", f"{n:,} records x {len(values)} keys is over the limit",
                   "export fewer rows or metrics")
    return {name: Column.sparse(n, idx, values[name]) for name, idx in rows.items()
            if idx}


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


def _parse(path: Path) -> list[dict[str, Any]]:
    text = read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise fail(path, f"invalid JSON at line {err.lineno} ({err.msg})",
                       "repair the file or export it again") from None
        except (ValueError, RecursionError) as err:
            raise fail(path, json_problem(err), "repair the file or export it again") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise fail(path, "a JSON array that is not a list of objects",
                       "write one object per logged point")
        return [flatten(r) for r in data]
    lines = [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    records: list[dict[str, Any]] = []
    for k, (i, line) in enumerate(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            if k == len(lines) - 1 and records:
                break  # the last line of a log still being written
            raise fail(path, f"line {i} is not valid JSON ({err.msg})",
                       "repair or remove that line") from None
        except (ValueError, RecursionError) as err:
            raise fail(path, f"line {i}: {json_problem(err)}",
                       "repair or remove that line") from None
        if not isinstance(rec, dict):
            raise fail(path, f"line {i} is not a JSON object",
                       "write one object per line, e.g. {\"step\": 0, \"loss\": 2.3}")
        records.append(flatten(rec))
        if len(records) > MAX_POINTS:
            raise fail(path, f"more than {MAX_POINTS:,} lines", "export fewer rows")
    if not records:
        raise fail(path, "no JSON objects found", "write one object per line")
    return records


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
    return table_to_curves(records_to_columns(_parse(path)), source="jsonl", path=path)
