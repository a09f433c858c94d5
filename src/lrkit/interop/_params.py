"""Keyword checking shared by the ``from_*`` conversions.

Each conversion is a plain function whose keyword-only parameters carry the library's own
names and defaults; ``bind`` checks a caller's keywords against that signature and
answers an unknown or missing name with a one-line ConfigError and a close-match hint.

>>> def f(ctx, *, T_max, eta_min=0.0): ...
>>> bind("CosineAnnealingLR", f, {"T_max": 10})
{'T_max': 10}
>>> bind("CosineAnnealingLR", f, {"T_maks": 10})
Traceback (most recent call last):
...
lrkit.errors.ConfigError: CosineAnnealingLR.T_maks = 10: unknown parameter; did you mean 'T_max'?
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lrkit._check import PART as check
from lrkit.errors import ConfigError
from lrkit.schedules import Schedule

__all__ = ["bind", "keywords", "lookup", "prune_join", "sub_specs"]


def keywords(func: Callable[..., Any]) -> dict[str, Any]:
    """The keyword-only parameters of ``func`` and their defaults (``inspect.Parameter.empty``
    when required): the library's own names, as the conversion mirrors them."""
    return {p.name: p.default for p in inspect.signature(func).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def bind(where: str, func: Callable[..., Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``kwargs`` against the keyword-only parameters of ``func``.

    Raises:
        ConfigError: a name ``func`` does not take (with the closest valid name), or a
            required name that is missing.
    """
    allowed = keywords(func)
    for key, value in kwargs.items():
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), list(allowed), n=1)
            fix = (f"did you mean {hint[0]!r}?" if hint
                   else f"valid names: {', '.join(allowed) or 'none'}")
            raise ConfigError(f"{where}.{key} = {value!r}: unknown parameter; {fix}")
    for key, default in allowed.items():
        if default is inspect.Parameter.empty and key not in kwargs:
            raise ConfigError(f"{where}.{key}: missing required parameter; add {key}=<value>")
    return dict(kwargs)


def lookup(kind: str, name: Any, table: Mapping[str, Any],
           aliases: Mapping[str, str] | None = None) -> str:
    """Resolve ``name`` in ``table`` (or via ``aliases``), or fail with a close-match hint."""
    aliases = aliases or {}
    if isinstance(name, str):
        if name in table:
            return name
        if name in aliases:
            return aliases[name]
    names = sorted(set(table) | set(aliases))
    hint = difflib.get_close_matches(str(name), names, n=1, cutoff=0.5)
    fix = f"did you mean {hint[0]!r}?" if hint else f"pick one of {', '.join(sorted(table))}"
    raise ConfigError(f"{kind} = {name!r}: unknown name; {fix}")


def sub_specs(where: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """Read a list of sub-schedules given as ``(name, kwargs)`` pairs or as mappings.

    A mapping names its class or function under ``"name"`` (or ``"family"``, which is what
    the CLI's nested ``LinearLR(total_iters=5)`` form produces); its other keys are the
    keyword arguments.

    >>> sub_specs("SequentialLR.schedulers",
    ...           [("LinearLR", {"total_iters": 5}), {"name": "ExponentialLR", "gamma": 0.9}])
    [('LinearLR', {'total_iters': 5}), ('ExponentialLR', {'gamma': 0.9})]
    """
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence) or not value:
        raise check.fail(where, value, "must be a non-empty list of (name, kwargs) pairs or "
                         "{'name': ..., ...} mappings",
                         "pass e.g. [('LinearLR', {'total_iters': 5}), "
                         "('CosineAnnealingLR', {'T_max': 95})]")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, Mapping):
            params = dict(item)
            name = params.pop("name", None)
            family = params.pop("family", None)
            name = name if name is not None else family
            if not isinstance(name, str):
                raise check.fail(f"{where}[{i}]", item, "has no 'name'",
                                 "add 'name': <class or function name>")
        elif (isinstance(item, Sequence) and not isinstance(item, str | bytes) and len(item) == 2
              and isinstance(item[0], str) and isinstance(item[1], Mapping)):
            name, params = item[0], dict(item[1])
        else:
            raise check.fail(f"{where}[{i}]", item, "must be a (name, kwargs) pair or a mapping",
                             "pass e.g. ('ExponentialLR', {'gamma': 0.9})")
        out.append((name, params))
    return out


def prune_join(where: str, pieces: Sequence[Schedule], boundaries: Sequence[Any],
               ) -> tuple[list[Schedule], list[int], list[int]]:
    """Drop the pieces a join never reaches (a boundary at 0, repeated boundaries).

    Returns the kept pieces, their start boundaries (for ``Join``) and the kept indices.

    Raises:
        ConfigError: a boundary that is not a sorted integer >= 0, or the wrong count.
    """
    bounds = check.increasing_ints(where, boundaries, strict=False)
    if len(bounds) != len(pieces) - 1:
        raise check.fail(where, list(bounds), f"needs one boundary fewer than the "
                         f"{len(pieces)} schedules", "give the step at which each later "
                         "schedule begins")
    starts = [0, *bounds]
    # piece i runs on [starts[i], starts[i + 1]); the last one never ends
    keep = [i for i in range(len(pieces)) if i == len(bounds) or bounds[i] > starts[i]]
    return [pieces[i] for i in keep], [starts[i] for i in keep[1:]], keep
