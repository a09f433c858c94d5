"""Value checks for every layer: each returns the value, normalised, or raises ConfigError.

One set of rules, two ways to name what failed:

* ``INPUT``: the parameter is one the user passes by name (``batch_size``, ``task``, ``lr``),
  so the error names it the way each surface spells it: the Python name from the library,
  ``--batch-size`` from the CLI, the JSON field from the web API (``ConfigError.render``).
* ``PART``: the parameter is a part of a schedule spec or of a library's config
  (``cosine.total_steps``, ``hf:cosine.num_cycles``, ``family``); it reads the same on every
  surface.

Messages follow the project form ``<parameter> = <value>: <rule>; <fix>``; the error keeps
those parts either way.

>>> INPUT.count("batch_size", 256.0)
256
>>> try:
...     INPUT.positive("base_lr", -1, example="0.1")
... except ConfigError as err:
...     print(err.render("cli"))
--base-lr = -1: must be positive; pass a value > 0, e.g. 0.1
>>> try:
...     PART.count("cosine.warmup_steps", 2.5)
... except ConfigError as err:
...     print(err.render("cli"))
cosine.warmup_steps = 2.5: must be a whole number; pass an integer >= 1
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

from lrkit.errors import ConfigError

__all__ = ["INPUT", "PART", "Checks", "finite_values"]


@dataclasses.dataclass(frozen=True)
class Checks:
    """The checks, naming the parameter per surface (``spelled``) or the same everywhere.

    Args:
        spelled: True for a parameter the user passes by name (see the module docstring).
        flags: the CLI flag of a parameter whose flag is not its name with dashes
            (``n_trials`` is ``--trials``); see ``renamed``.
    """

    spelled: bool
    flags: tuple[tuple[str, str], ...] = ()

    def renamed(self, **flags: str) -> Checks:
        """These checks, with the CLI flags of parameters not spelled ``--their-name``.

        >>> try:
        ...     INPUT.renamed(n_trials="--trials").count("n_trials", 0)
        ... except ConfigError as err:
        ...     print(err.render("python"), "|", err.render("cli").split(";")[0])
        n_trials = 0: must be >= 1; pass an integer >= 1 | --trials = 0: must be >= 1
        """
        return dataclasses.replace(self, flags=(*self.flags, *flags.items()))

    def fail(self, name: str, value: Any, rule: str, fix: str) -> ConfigError:
        """The ConfigError for ``name`` holding ``value`` (to raise)."""
        if self.spelled:
            return ConfigError(parameter=name, value=value, rule=rule, fix=fix,
                               flag=dict(self.flags).get(name))
        return ConfigError(f"{name} = {value!r}: {rule}; {fix}", parameter=name, value=value,
                           rule=rule, fix=fix)

    def flag(self, name: str, value: Any) -> bool:
        """A true/false switch: a bool, 0 or 1, or the words true/false (any case).

        ``bool("false")`` is True: a JSON or form value ``"false"`` must not switch it on.

        >>> PART.flag("exponential.staircase", "False"), PART.flag("x", 1)
        (False, True)
        """
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise self.fail(name, value, "must be true or false", "pass true or false")

    def real(self, name: str, value: Any) -> float:
        """A finite real number (bools and strings are refused: ``True`` is never a rate)."""
        if isinstance(value, bool) or not isinstance(value, Real):
            raise self.fail(name, value, "must be a number", "pass a finite float")
        try:
            out = float(value)
        except OverflowError:  # an int beyond float range, e.g. 10**400
            raise self.fail(name, f"{str(value)[:12]}...", "is too large",
                            "pass a finite float") from None
        if not math.isfinite(out):
            raise self.fail(name, value, "must be finite", "pass a finite float")
        return out

    def learning_rate(self, name: str, value: Any) -> float:
        """A finite learning rate >= 0."""
        out = self.real(name, value)
        if out < 0:
            raise self.fail(name, value, "a learning rate cannot be negative",
                            "pass a value >= 0")
        return out

    def non_negative(self, name: str, value: Any) -> float:
        """A finite number >= 0 that is not a learning rate (a factor, a threshold, a rate)."""
        out = self.real(name, value)
        if out < 0:
            raise self.fail(name, value, "cannot be negative", "pass a value >= 0")
        return out

    def positive(self, name: str, value: Any, *, example: str | None = None) -> float:
        """A finite number > 0 (``example`` is quoted in the fix)."""
        out = self.real(name, value)
        if out <= 0:
            raise self.fail(name, value, "must be positive",
                            "pass a value > 0" + (f", e.g. {example}" if example else ""))
        return out

    def fraction(self, name: str, value: Any, *, low: float = 0.0, high: float = 1.0,
                 low_open: bool = False, high_open: bool = False,
                 example: str | None = None) -> float:
        """A number from ``low`` to ``high``, each end open or closed.

        >>> PART.fraction("momentum", 0.9, high_open=True)
        0.9
        """
        out = self.real(name, value)
        ok_low = out > low if low_open else out >= low
        ok_high = out < high if high_open else out <= high
        if not (ok_low and ok_high):
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            fix = f"pass e.g. {example}" if example else f"pass a fraction in {interval}"
            raise self.fail(name, value, f"must lie in {interval}", fix)
        return out

    def unit_interval(self, name: str, value: Any, *, closed: bool = False) -> float:
        """A number in (0, 1), or [0, 1] when ``closed``."""
        return self.fraction(name, value, low_open=not closed, high_open=not closed)

    def count(self, name: str, value: Any, *, minimum: int = 1, example: str | None = None,
              exact: bool = False) -> int:
        """An integer >= ``minimum``.

        Integral floats such as 256.0 (from JSON) are accepted, unless ``exact``: a value the
        caller keeps as given (not the returned int) must already be an int.
        """
        fix = f"pass e.g. {example}" if example else f"pass an integer >= {minimum}"
        if isinstance(value, bool) or (exact and not isinstance(value, Integral)):
            raise self.fail(name, value, "must be an integer", fix)
        if isinstance(value, Real) and not isinstance(value, Integral):
            as_float = float(value)
            if not (math.isfinite(as_float) and as_float.is_integer()):
                raise self.fail(name, value, "must be a whole number", fix)
            value = int(as_float)
        if not isinstance(value, Integral):
            raise self.fail(name, value, "must be an integer", fix)
        if value < minimum:
            raise self.fail(name, value, f"must be >= {minimum}", fix)
        return int(value)

    def length(self, name: str, value: Any) -> float:
        """A positive number of steps; fractional lengths are allowed (some libraries use them)."""
        out = self.real(name, value)
        if out <= 0:
            raise self.fail(name, value, "a number of steps must be positive",
                            "pass a value > 0, e.g. 1000")
        return int(out) if out.is_integer() else out

    def increasing_ints(self, name: str, values: Iterable[Any], *, strict: bool = True,
                        minimum: int = 0) -> tuple[int, ...]:
        """A sorted tuple of integer steps (strictly increasing unless ``strict`` is False)."""
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise self.fail(name, values, "must be a list of integer steps",
                            "pass e.g. [30, 60, 90]")
        out = tuple(self.count(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(values))
        for a, b in itertools.pairwise(out):
            if b < a or (strict and b == a):
                order = "strictly increasing" if strict else "sorted"
                raise self.fail(name, list(out), f"must be {order}",
                                f"sort them, e.g. {sorted(set(out))}")
        return out

    def choice(self, name: str, value: Any, options: Sequence[str]) -> str:
        """Exactly one of ``options``."""
        if value not in options:
            raise self.fail(name, value, f"must be one of {', '.join(map(repr, options))}",
                            f"pick one of {list(options)}")
        return str(value)

    def lookup(self, name: str, value: Any, options: Iterable[str]) -> str:
        """One of ``options``, forgiving case and ``-``/``_``; a typo gets the closest name.

        >>> INPUT.lookup("optimizer", "AdamW", ["sgd", "adamw"])
        'adamw'
        """
        known = list(options)
        if not isinstance(value, str):
            raise self.fail(name, value, "must be a name", f"pick one of {', '.join(known)}")
        key = value.strip().lower().replace("_", "-")
        for option in known:
            if option.replace("_", "-") == key:
                return option
        hint = difflib.get_close_matches(key, known, n=1)
        fix = f"did you mean {hint[0]!r}?" if hint else f"pick one of {', '.join(known)}"
        raise self.fail(name, value, "unknown name", fix)


#: A parameter the user passes by name: spelled per surface.
INPUT = Checks(spelled=True)
#: A part of a schedule spec or a library's config: the same on every surface.
PART = Checks(spelled=False)


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
