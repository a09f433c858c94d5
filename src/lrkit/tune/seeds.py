"""Coarse-to-fine: read the calculator's and the range test's LR suggestions as search seeds.

The seeds are enqueued as the first trials, and the search space is narrowed to a band
around them (``SearchSpace.around``). Both readers take the object the producing API
returns, its ``to_dict()`` document, or the path of a file holding that JSON
(``lrkit calc --json > calc.json``, ``lrkit find --json > find.json`` or
``RangeTestResult.save``).

>>> suggestions_from_calc({"initial_lr": 0.003, "final_lr": 3e-05})
[0.003]
>>> suggestions_from_rangetest({"suggested_lr": 0.02, "peak_lr": 0.05})
[0.05]
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lrkit._io import read_input
from lrkit.errors import DataError

__all__ = ["suggestions_from_calc", "suggestions_from_rangetest"]


def _document(source: Any, what: str) -> Mapping[str, Any]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise DataError(parameter=what, value=str(path), rule="no such file",
                            fix=f"pass the JSON that 'lrkit {'calc' if what == 'calc' else 'find'}"
                                " --json' wrote")
        text = read_input(path, what)  # never a FIFO or /dev/zero: they block or never end
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise DataError(parameter=what, value=str(path),
                            rule=f"not readable JSON ({str(err)[:80]})",
                            fix="pass the JSON output of that command (its --json)") from None
    elif isinstance(source, Mapping):
        doc = source
    elif hasattr(source, "to_dict"):
        doc = source.to_dict()
    else:
        raise DataError(parameter=what, value=source,
                        rule="expected a result object, its dict or a JSON file path",
                        fix="pass the result itself or the file it was saved to")
    if not isinstance(doc, Mapping):
        raise DataError(parameter=what, rule=f"the JSON must be an object, got "
                        f"{type(doc).__name__}", fix="pass the file that command wrote")
    return doc


def _lr(value: Any) -> float | None:
    if isinstance(value, Mapping):
        value = value.get("lr")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def suggestions_from_calc(source: Any) -> list[float]:
    """The calculator's initial LR, as a one-element list.

    Raises:
        DataError: the document has no positive ``initial_lr``.
    """
    lr = _lr(_document(source, "calc").get("initial_lr"))
    if lr is None:
        raise DataError(parameter="calc", rule="no positive 'initial_lr' in the document",
                        fix="pass the output of 'lrkit calc --json'")
    return [lr]


def suggestions_from_rangetest(source: Any) -> list[float]:
    """The range test's LR for the task's schedule (``peak_lr``), else its constant-LR one.

    Raises:
        DataError: the result has no usable suggestion (e.g. the test flagged it).
    """
    if hasattr(source, "suggestion") and not isinstance(source, Mapping):
        lr = _lr(getattr(source, "peak_lr", None)) or _lr(source.suggestion)
    else:
        doc = _document(source, "rangetest")
        lr = next((v for v in (_lr(doc.get(k)) for k in ("peak_lr", "suggested_lr",
                                                         "suggestion")) if v), None)
    if lr is None:
        raise DataError(parameter="rangetest",
                        rule="no positive 'peak_lr' or 'suggested_lr' in the result",
                        fix="rerun the range test, or give the search an LR to try first")
    return [lr]
