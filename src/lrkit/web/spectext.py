"""Write a schedule spec in the compact ``family(key=value, ...)`` form that ``parse`` reads.

The explorer shows imported schedules in this form so a user can read and edit them.

>>> from lrkit.schedules import parse
>>> text = compact({"family": "cosine", "peak_lr": 0.1, "total_steps": 1000, "end_lr": 0.0})
>>> text
'cosine(peak_lr=0.1, total_steps=1000, end_lr=0.0)'
>>> parse(compact(parse(text).to_spec())) == parse(text)
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lrkit.errors import SpecError

__all__ = ["compact"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = {"true", "false", "none", "null"}


def compact(spec: Mapping[str, Any]) -> str:
    """The compact text of a JSON spec (nested schedules become nested calls).

    Raises:
        SpecError: ``spec`` has no family or holds a value with no compact spelling.

    >>> compact({"family": "join", "pieces": [{"family": "constant", "base_lr": 1e-3},
    ...          {"family": "step", "base_lr": 0.1, "step_size": 30}], "boundaries": [5]})
    'join(pieces=[constant(base_lr=0.001), step(base_lr=0.1, step_size=30)], boundaries=[5])'
    """
    if not isinstance(spec, Mapping) or "family" not in spec:
        raise SpecError(f"spec = {spec!r}: must be an object with a 'family'")
    args = ", ".join(f"{k}={_value(v, k)}" for k, v in spec.items() if k != "family")
    return f"{spec['family']}({args})"


def _value(value: Any, where: str) -> str:
    if isinstance(value, Mapping):
        return compact(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v, where) for v in value) + "]"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        plain = _WORD.fullmatch(value) and value.lower() not in _RESERVED
        return value if plain else repr(value)
    raise SpecError(f"{where} = {value!r}: has no compact spelling; use the JSON spec")
