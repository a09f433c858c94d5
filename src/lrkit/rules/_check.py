"""Input checks for the calculator: each returns the normalised value or raises ConfigError.

Messages follow the project form ``<param> = <value>: <rule>; <fix>``. The error keeps its
parts, so the parameter reads as the Python name from the library, as the ``lrkit calc``
flag from the CLI and as the JSON field from the web API (``ConfigError.render``).

>>> positive("base_lr", 0.1)
0.1
>>> count("batch_size", 256.0)
256
>>> positive("base_lr", -1)
Traceback (most recent call last):
...
lrkit.errors.ConfigError: base_lr = -1: must be positive; pass a number > 0, e.g. 0.1
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

from lrkit.errors import ConfigError

__all__ = ["choice", "count", "fail", "flag", "fraction", "positive", "real"]


def flag(name: str) -> str:
    """The CLI flag for a CalcInput field name: ``base_lr`` -> ``--base-lr``."""
    return "--" + name.replace("_", "-")


def fail(name: str, value: Any, rule: str, fix: str) -> ConfigError:
    """The one-line ConfigError for field ``name`` holding ``value``."""
    return ConfigError(parameter=name, value=value, rule=rule, fix=fix)


def real(name: str, value: Any) -> float:
    """A finite real number (bools and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise fail(name, value, "must be a number", "pass a finite number")
    out = float(value)
    if not math.isfinite(out):
        raise fail(name, value, "must be finite", "pass a finite number")
    return out


def positive(name: str, value: Any, example: str = "0.1") -> float:
    """A finite number > 0."""
    out = real(name, value)
    if out <= 0:
        raise fail(name, value, "must be positive", f"pass a number > 0, e.g. {example}")
    return out


def fraction(name: str, value: Any, *, low: float, high: float, low_open: bool = False,
             high_open: bool = False, example: str = "0.9") -> float:
    """A number inside the interval from ``low`` to ``high`` (ends open or closed)."""
    out = real(name, value)
    ok_low = out > low if low_open else out >= low
    ok_high = out < high if high_open else out <= high
    if not (ok_low and ok_high):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise fail(name, value, f"must lie in {interval}", f"pass e.g. {example}")
    return out


def count(name: str, value: Any, *, minimum: int = 1, example: str = "256") -> int:
    """An integer >= ``minimum``; integral floats such as 256.0 (from JSON) are accepted."""
    if isinstance(value, bool):
        raise fail(name, value, "must be an integer", f"pass e.g. {example}")
    if isinstance(value, Real) and not isinstance(value, Integral):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise fail(name, value, "must be a whole number", f"pass e.g. {example}")
        value = int(float(value))
    if not isinstance(value, Integral):
        raise fail(name, value, "must be an integer", f"pass e.g. {example}")
    if value < minimum:
        raise fail(name, value, f"must be >= {minimum}", f"pass e.g. {example}")
    return int(value)


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """One of ``options`` (case-insensitive, ``-`` and ``_`` interchangeable)."""
    known = list(options)
    if not isinstance(value, str):
        raise fail(name, value, "must be a name", f"pick one of {', '.join(known)}")
    key = value.strip().lower().replace("_", "-")
    for option in known:
        if option.replace("_", "-") == key:
            return option
    hint = difflib.get_close_matches(key, known, n=1)
    fix = f"did you mean {hint[0]!r}?" if hint else f"pick one of {', '.join(known)}"
    raise fail(name, value, "unknown name", fix)
