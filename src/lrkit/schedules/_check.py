"""Parameter checks shared by the schedule families.

Each check raises ConfigError with a one-line message of the form
``<family>.<param> = <value>: <rule>; <fix>`` and returns the value, normalised.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

from lrkit.errors import ConfigError

__all__ = [
    "choice",
    "count",
    "fail",
    "finite_values",
    "flag",
    "increasing_ints",
    "learning_rate",
    "length",
    "non_negative",
    "positive",
    "real",
    "unit_interval",
]


def flag(where: str, value: Any) -> bool:
    """A true/false switch: a bool, 0 or 1, or the words true/false (any case).

    ``bool("false")`` is True: a JSON or form value ``"false"`` must not switch it on.

    >>> flag("exponential.staircase", "False"), flag("x", 1)
    (False, True)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise fail(where, value, "must be true or false", "pass true or false")


def finite_values(where: str, values: Any) -> Any:
    """``values`` (a schedule's LRs), refused if any is NaN or infinite.

    A schedule of valid parameters can still overflow (``exponential(decay_rate=1e308)``
    reaches inf at its second step); an infinite LR is never what the user meant.

    >>> finite_values("exponential", [0.1, float("inf")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrkit.errors.ConfigError: exponential = inf at step 1: the learning rate overflows; ...
    """
    import numpy as np

    arr = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ConfigError(f"{where} = {arr[bad[0]]} at step {int(bad[0])}: the learning rate "
                          "overflows; use parameters that keep it finite, e.g. a decay_rate "
                          "closer to 1")
    return values


def fail(where: str, value: Any, rule: str, fix: str) -> ConfigError:
    """Build the ConfigError for ``where`` (``family.param``) holding ``value``."""
    return ConfigError(f"{where} = {value!r}: {rule}; {fix}")


def real(where: str, value: Any) -> float:
    """A finite real number (bools are refused: ``True`` is never a learning rate)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise fail(where, value, "must be a number", "pass a finite float")
    try:
        out = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        raise fail(where, f"{str(value)[:12]}...", "is too large", "pass a finite float") from None
    if not math.isfinite(out):
        raise fail(where, value, "must be finite", "pass a finite float")
    return out


def learning_rate(where: str, value: Any) -> float:
    """A finite learning rate >= 0."""
    out = real(where, value)
    if out < 0:
        raise fail(where, value, "a learning rate cannot be negative", "pass a value >= 0")
    return out


def non_negative(where: str, value: Any) -> float:
    """A finite number >= 0 that is not a learning rate (a factor, a threshold, a rate)."""
    out = real(where, value)
    if out < 0:
        raise fail(where, value, "cannot be negative", "pass a value >= 0")
    return out


def positive(where: str, value: Any) -> float:
    """A finite number > 0."""
    out = real(where, value)
    if out <= 0:
        raise fail(where, value, "must be positive", "pass a value > 0")
    return out


def unit_interval(where: str, value: Any, *, closed: bool = False) -> float:
    """A number in (0, 1), or [0, 1] when ``closed``."""
    out = real(where, value)
    ok = 0.0 <= out <= 1.0 if closed else 0.0 < out < 1.0
    if not ok:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise fail(where, value, f"must lie in {interval}", f"pass a fraction in {interval}")
    return out


def count(where: str, value: Any, *, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (integral floats such as 100.0 are accepted)."""
    if isinstance(value, bool):
        raise fail(where, value, "must be an integer", f"pass an integer >= {minimum}")
    if isinstance(value, Real) and not isinstance(value, Integral):
        as_float = float(value)
        if not (math.isfinite(as_float) and as_float.is_integer()):
            raise fail(where, value, "must be an integer", f"pass an integer >= {minimum}")
        value = int(as_float)
    if not isinstance(value, Integral):
        raise fail(where, value, "must be an integer", f"pass an integer >= {minimum}")
    if value < minimum:
        raise fail(where, value, f"must be >= {minimum}", f"pass an integer >= {minimum}")
    return int(value)


def length(where: str, value: Any) -> float:
    """A positive number of steps; fractional lengths are allowed (some libraries use them)."""
    out = real(where, value)
    if out <= 0:
        raise fail(where, value, "a number of steps must be positive",
                   "pass a value > 0, e.g. 1000")
    return int(out) if out.is_integer() else out


def increasing_ints(where: str, values: Iterable[Any], *, strict: bool = True,
                    minimum: int = 0) -> tuple[int, ...]:
    """A sorted tuple of integer steps (strictly increasing unless ``strict`` is False)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise fail(where, values, "must be a list of integer steps", "pass e.g. [30, 60, 90]")
    out = tuple(count(f"{where}[{i}]", v, minimum=minimum) for i, v in enumerate(values))
    for a, b in itertools.pairwise(out):
        if b < a or (strict and b == a):
            order = "strictly increasing" if strict else "sorted"
            raise fail(where, list(out), f"must be {order}", f"sort them, e.g. {sorted(set(out))}")
    return out


def choice(where: str, value: Any, options: Sequence[str]) -> str:
    """One of ``options``."""
    if value not in options:
        raise fail(where, value, f"must be one of {', '.join(map(repr, options))}",
                   f"pick one of {list(options)}")
    return str(value)
