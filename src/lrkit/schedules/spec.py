"""The JSON spec round trip: build a schedule from ``{"family": name, <parameters>}``.

``Schedule.to_spec`` writes a spec; ``from_spec`` reads one back, checking every name, and
reads the ``warmup_steps`` key that any family accepts (a warmup joined in front).

>>> from lrkit.schedules import Cosine
>>> s = Cosine(peak_lr=0.1, total_steps=100)
>>> from_spec(s.to_spec()) == s
True
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from lrkit._check import PART as check
from lrkit.errors import SpecError
from lrkit.schedules.base import Schedule, factories, families, parameter_names
from lrkit.schedules.compose import warmup

__all__ = ["build", "from_spec", "warmup_prefixed"]


def _from_json(value: Any) -> Any:
    if isinstance(value, Mapping) and "family" in value:
        return from_spec(value)
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value


def from_spec(spec: Mapping[str, Any]) -> Schedule:
    """Build a schedule from its JSON spec (the inverse of ``Schedule.to_spec``).

    Any family also accepts ``warmup_steps`` (and ``warmup_init_lr``, ``warmup_shape``):
    the schedule is then a linear (or exponential) warmup joined to the family, whose
    ``total_steps``, if it has one, counts the whole run including the warmup.

    >>> s = from_spec({"family": "cosine", "peak_lr": 0.1, "total_steps": 1000,
    ...                "warmup_steps": 100})
    >>> s(0), s(100), round(s(550), 6)
    (0.0, 0.1, 0.05)
    """
    if not isinstance(spec, Mapping):
        raise SpecError(f"spec = {spec!r}: must be a JSON object; pass e.g. "
                        '{"family": "constant", "base_lr": 0.1}')
    params = dict(spec)
    name = params.pop("family", None)
    if name is None:
        raise SpecError(f"spec = {dict(spec)!r}: has no 'family'; add e.g. \"family\": \"cosine\"")
    fams = families()
    known = sorted(fams) + sorted(factories())
    if name == "reduce_on_plateau":
        raise SpecError("family = 'reduce_on_plateau': is driven by a metric, not by the step; "
                        "build it with lrkit.schedules.ReduceOnPlateau.from_spec(spec)")
    if name not in known:
        hint = difflib.get_close_matches(str(name), known, n=1)
        fix = f"did you mean {hint[0]!r}?" if hint else f"pick one of {', '.join(known)}"
        raise SpecError(f"family = {name!r}: unknown schedule family; {fix}")
    # a family that owns a field named warmup_steps (linear_warmup) keeps it as its own
    own = set(parameter_names(name)[0]) if name in fams else set()
    warm = {k: params.pop(k) for k in ("warmup_steps", "warmup_init_lr", "warmup_shape")
            if k in params and k not in own}
    if warm and "warmup_steps" not in warm:
        raise SpecError(f"{name}.warmup_steps: missing while {sorted(warm)} was given; "
                        "add warmup_steps=<number of warmup updates>")
    params = {k: _from_json(v) for k, v in params.items()}
    if warm:
        return warmup_prefixed(name, params, **warm)
    return build(name, params)


def build(name: str, params: Mapping[str, Any]) -> Schedule:
    """Construct family or alias ``name`` from keyword ``params``, checking their names."""
    aliases = factories()
    maker: Callable[..., Schedule] = aliases[name] if name in aliases else families()[name]
    allowed, required = parameter_names(name)
    for key, value in params.items():
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"valid names: {', '.join(allowed)}"
            raise SpecError(f"{name}.{key} = {value!r}: unknown parameter; {fix}")
    missing = [k for k in required if k not in params]
    if missing:
        raise SpecError(f"{name}.{missing[0]}: missing required parameter; "
                        f"add {', '.join(f'{k}=...' for k in missing)}")
    return maker(**params)


def warmup_prefixed(name: str, params: Mapping[str, Any], warmup_steps: Any,
                    warmup_init_lr: float = 0.0, warmup_shape: str = "linear") -> Schedule:
    """Build spec family ``name`` with a warmup prefix; its ``total_steps`` counts the warmup.

    >>> s = warmup_prefixed("cosine", {"peak_lr": 1.0, "total_steps": 6}, warmup_steps=2)
    >>> s.pieces[1].total_steps
    4
    """
    steps = check.count(f"{name}.warmup_steps", warmup_steps, minimum=0)
    check.choice(f"{name}.warmup_shape", warmup_shape, ("linear", "exponential"))
    init = check.learning_rate(f"{name}.warmup_init_lr", warmup_init_lr)
    if warmup_shape == "exponential" and init <= 0:
        raise check.fail(f"{name}.warmup_init_lr", warmup_init_lr,
                         "an exponential warmup cannot start at 0",
                         "pass warmup_init_lr > 0, e.g. peak / 1000")
    params = dict(params)
    if "total_steps" in params and steps:
        total = check.length(f"{name}.total_steps", params["total_steps"])
        if total <= steps:
            raise check.fail(f"{name}.warmup_steps", steps,
                             f"must be less than total_steps={total}",
                             "shorten the warmup (a few percent of the run is usual)")
        params["total_steps"] = total - steps
    return warmup(build(name, params), steps, init_lr=warmup_init_lr, shape=warmup_shape)
