"""``from_optax``: the lrkit schedule equal to an optax schedule constructor's result.

optax evaluates ``schedule(count)`` with ``count`` = 0 on the first update, so the value at
``t`` is the rate of update ``t``. No jax import is needed. optax's own rules are kept:
``piecewise_constant_schedule`` multiplies by cumulative scales *at* each boundary,
``join_schedules`` runs each schedule on local time, ``warmup_cosine_decay_schedule``'s
``decay_steps`` counts the warmup, and a non-positive ``transition_steps`` gives a
constant ``init_value``.

>>> s = from_optax("warmup_cosine_decay_schedule", init_value=0.0, peak_value=1.0,
...                warmup_steps=2, decay_steps=6)
>>> [round(float(x), 4) for x in s.values(8)]
[0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lrkit._check import PART as check
from lrkit.interop._params import bind, lookup, prune_join, sub_specs
from lrkit.schedules import (
    Constant,
    Cosine,
    Exponential,
    Interpolate,
    Join,
    LinearWarmup,
    Piecewise,
    Polynomial,
    Schedule,
)

__all__ = ["OPTAX_SCHEDULES", "from_optax"]


def _value(where: str, value: Any) -> float:
    return check.learning_rate(where, value)


def _constant_schedule(*, value: float) -> Schedule:
    return Constant(_value("constant_schedule.value", value))


def _polynomial_schedule(*, init_value: float, end_value: float, power: float,
                         transition_steps: int, transition_begin: int = 0) -> Schedule:
    return _polynomial("polynomial_schedule", init_value, end_value, power, transition_steps,
                       transition_begin)


def _linear_schedule(*, init_value: float, end_value: float, transition_steps: int,
                     transition_begin: int = 0) -> Schedule:
    return _polynomial("linear_schedule", init_value, end_value, 1.0, transition_steps,
                       transition_begin)


def _polynomial(where: str, init_value: Any, end_value: Any, power: Any, transition_steps: Any,
                transition_begin: Any) -> Schedule:
    init = _value(f"{where}.init_value", init_value)
    end = _value(f"{where}.end_value", end_value)
    steps = check.real(f"{where}.transition_steps", transition_steps)
    power = check.positive(f"{where}.power", power)
    if steps <= 0:  # optax: a constant init_value
        return Constant(init)
    begin = _begin(where, transition_begin)
    decay = Polynomial(init, total_steps=steps, end_lr=end, power=power)
    return decay if begin == 0 else Join(pieces=[Constant(init), decay], boundaries=[begin])


def _begin(where: str, value: Any) -> int:
    """``transition_begin`` as optax uses it: a whole step, negative values meaning 0."""
    begin = check.real(f"{where}.transition_begin", value)
    if not begin.is_integer():
        raise check.fail(f"{where}.transition_begin", value, "must be an integer",
                         "pass a whole number of steps")
    return max(int(begin), 0)


def _scales(where: str, value: Any) -> list[tuple[float, float]]:
    """``boundaries_and_scales`` as sorted (boundary, scale) pairs: a dict (JSON keys may be
    strings) or a list of pairs, which is how the CLI writes it."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items = []
        for i, pair in enumerate(value):
            if (isinstance(pair, str | bytes) or not isinstance(pair, Sequence)
                    or len(pair) != 2):
                raise check.fail(f"{where}[{i}]", pair, "must be a [boundary, scale] pair",
                                 "pass e.g. [[100, 0.1], [200, 0.1]]")
            items.append((pair[0], pair[1]))
    else:
        raise check.fail(where, value, "must map boundaries to scales",
                         "pass e.g. {100: 0.1, 200: 0.1} or [[100, 0.1], [200, 0.1]]")
    out: dict[float, float] = {}
    for key, scale in items:
        try:
            bound = float(key)
        except (TypeError, ValueError):
            raise check.fail(f"{where}", key, "boundaries must be step numbers",
                             "pass integer steps") from None
        out[check.real(f"{where}[{key!r}]", bound)] = check.non_negative(
            f"{where}[{key!r}]", scale)
    return sorted(out.items())


def _piecewise_constant_schedule(*, init_value: float,
                                 boundaries_and_scales: Any = None) -> Schedule:
    where = "piecewise_constant_schedule.boundaries_and_scales"
    lr = _value("piecewise_constant_schedule.init_value", init_value)
    bounds: list[int] = []
    lrs = [lr]
    for bound, scale in _scales(where, boundaries_and_scales):
        # optax scales once count >= boundary; on integer counts that is from ceil(boundary)
        step = max(math.ceil(bound), 0)
        if step == 0:
            lrs[0] *= scale
            continue
        bounds.append(step)
        lrs.append(lrs[-1] * scale)
    return Piecewise(boundaries=bounds, lrs=lrs) if bounds else Constant(lrs[0])


def _exponential_decay(*, init_value: float, transition_steps: int, decay_rate: float,
                       transition_begin: int = 0, staircase: bool = False,
                       end_value: float | None = None) -> Schedule:
    return _exponential("exponential_decay", init_value, transition_steps, decay_rate,
                        transition_begin, staircase, end_value)


def _exponential(where: str, init_value: Any, transition_steps: Any, decay_rate: Any,
                 transition_begin: Any, staircase: Any, end_value: Any) -> Schedule:
    init = _value(f"{where}.init_value", init_value)
    steps = check.real(f"{where}.transition_steps", transition_steps)
    rate = check.non_negative(f"{where}.decay_rate", decay_rate)
    if steps <= 0 or rate == 0:  # optax: a constant init_value
        return Constant(init)
    return Exponential(init, decay_rate=rate, decay_steps=steps, staircase=bool(staircase),
                       transition_begin=_begin(where, transition_begin),
                       end_lr=None if end_value is None else _value(f"{where}.end_value",
                                                                    end_value))


def _cosine_decay_schedule(*, init_value: float, decay_steps: int, alpha: float = 0.0,
                           exponent: float = 1.0) -> Schedule:
    init = _value("cosine_decay_schedule.init_value", init_value)
    alpha = check.non_negative("cosine_decay_schedule.alpha", alpha)
    return Cosine(init, total_steps=check.length("cosine_decay_schedule.decay_steps",
                                                 decay_steps),
                  end_lr=alpha * init,
                  exponent=check.positive("cosine_decay_schedule.exponent", exponent))


def _interpolate(where: str, kind: str, init_value: Any, boundaries_and_scales: Any) -> Schedule:
    lr = _value(f"{where}.init_value", init_value)
    steps = [0]
    lrs = [lr]
    for bound, scale in _scales(f"{where}.boundaries_and_scales", boundaries_and_scales):
        if bound < 0 or not bound.is_integer():
            raise check.fail(f"{where}.boundaries_and_scales", bound,
                             "boundaries must be integer steps >= 0", "pass e.g. {100: 0.1}")
        steps.append(int(bound))
        lrs.append(lrs[-1] * scale)  # cumulative, as optax's cumprod
    if len(steps) == 1:
        return Constant(lr)
    return Interpolate(steps=steps, lrs=lrs, kind=kind)


def _piecewise_interpolate_schedule(*, interpolate_type: str, init_value: float,
                                    boundaries_and_scales: Any = None) -> Schedule:
    kind = check.choice("piecewise_interpolate_schedule.interpolate_type", interpolate_type,
                        ("linear", "cosine"))
    return _interpolate("piecewise_interpolate_schedule", kind, init_value,
                        boundaries_and_scales)


def _transition(where: str, value: Any) -> int:
    steps = check.real(f"{where}.transition_steps", value)
    if steps <= 0:
        raise check.fail(f"{where}.transition_steps", value, "must be positive",
                         "pass the number of updates of the cycle")
    return int(steps)


def _linear_onecycle_schedule(*, transition_steps: int, peak_value: float,
                              pct_start: float = 0.3, pct_final: float = 0.85,
                              div_factor: float = 25.0,
                              final_div_factor: float = 1e4) -> Schedule:
    where = "linear_onecycle_schedule"
    steps = _transition(where, transition_steps)
    peak = _value(f"{where}.peak_value", peak_value)
    div = check.positive(f"{where}.div_factor", div_factor)
    final = check.positive(f"{where}.final_div_factor", final_div_factor)
    # built as optax builds it: a dict literal, so a later equal key replaces an earlier one
    knots = {int(check.real(f"{where}.pct_start", pct_start) * steps): div,
             int(check.real(f"{where}.pct_final", pct_final) * steps): 1.0 / div,
             steps: 1.0 / final}
    return _interpolate(where, "linear", peak / div, knots)


def _cosine_onecycle_schedule(*, transition_steps: int, peak_value: float,
                              pct_start: float = 0.3, div_factor: float = 25.0,
                              final_div_factor: float = 1e4) -> Schedule:
    where = "cosine_onecycle_schedule"
    steps = _transition(where, transition_steps)
    peak = _value(f"{where}.peak_value", peak_value)
    div = check.positive(f"{where}.div_factor", div_factor)
    final = check.positive(f"{where}.final_div_factor", final_div_factor)
    knots = {int(check.real(f"{where}.pct_start", pct_start) * steps): div,
             steps: 1.0 / (div * final)}
    return _interpolate(where, "cosine", peak / div, knots)


def _warmup_constant_schedule(*, init_value: float, peak_value: float,
                              warmup_steps: int) -> Schedule:
    return _polynomial("warmup_constant_schedule", init_value, peak_value, 1.0, warmup_steps, 0)


def _warmup(where: str, init_value: Any, peak_value: Any, warmup_steps: Any,
            decay: Schedule) -> Schedule:
    init = _value(f"{where}.init_value", init_value)
    peak = _value(f"{where}.peak_value", peak_value)
    steps = check.real(f"{where}.warmup_steps", warmup_steps)
    if steps <= 0:  # join_schedules switches to the decay at once
        return decay
    if not steps.is_integer():
        raise check.fail(f"{where}.warmup_steps", warmup_steps, "must be an integer",
                         "pass a whole number of steps")
    return Join(pieces=[LinearWarmup(init, peak, int(steps)), decay], boundaries=[int(steps)])


def _warmup_cosine_decay_schedule(*, init_value: float, peak_value: float, warmup_steps: int,
                                  decay_steps: int, end_value: float = 0.0,
                                  exponent: float = 1.0) -> Schedule:
    where = "warmup_cosine_decay_schedule"
    peak = _value(f"{where}.peak_value", peak_value)
    end = _value(f"{where}.end_value", end_value)
    alpha = 0.0 if peak == 0.0 else end / peak
    length = (check.real(f"{where}.decay_steps", decay_steps)
              - check.real(f"{where}.warmup_steps", warmup_steps))
    if length <= 0:
        raise check.fail(f"{where}.decay_steps", decay_steps,
                         f"must exceed warmup_steps={warmup_steps} (it counts the warmup)",
                         "pass the total number of updates")
    # decay_steps counts the warmup; the floor is alpha * peak as optax computes it
    decay = Cosine(peak, total_steps=length, end_lr=alpha * peak,
                   exponent=check.positive(f"{where}.exponent", exponent))
    return _warmup(where, init_value, peak_value, warmup_steps, decay)


def _warmup_exponential_decay_schedule(*, init_value: float, peak_value: float,
                                       warmup_steps: int, transition_steps: int,
                                       decay_rate: float, transition_begin: int = 0,
                                       staircase: bool = False,
                                       end_value: float | None = None) -> Schedule:
    where = "warmup_exponential_decay_schedule"
    decay = _exponential(where, peak_value, transition_steps, decay_rate, transition_begin,
                         staircase, end_value)
    return _warmup(where, init_value, peak_value, warmup_steps, decay)


def _sgdr_schedule(*, cosine_kwargs: Sequence[Mapping[str, Any]]) -> Schedule:
    where = "sgdr_schedule.cosine_kwargs"
    if (isinstance(cosine_kwargs, str | bytes | Mapping) or not isinstance(cosine_kwargs, Sequence)
            or not cosine_kwargs):
        raise check.fail(where, cosine_kwargs, "must be a non-empty list of "
                         "warmup_cosine_decay_schedule keyword dicts",
                         "pass e.g. [dict(init_value=0, peak_value=0.1, warmup_steps=10, "
                         "decay_steps=100)]")
    pieces: list[Schedule] = []
    bounds: list[int] = []
    step = 0
    for i, kwargs in enumerate(cosine_kwargs):
        if not isinstance(kwargs, Mapping):
            raise check.fail(f"{where}[{i}]", kwargs, "must be a dict of keywords",
                             "pass e.g. dict(init_value=0, peak_value=0.1, warmup_steps=10, "
                             "decay_steps=100)")
        params = dict(kwargs)
        # the CLI's nested form dict(...) / warmup_cosine_decay_schedule(...) names itself
        params.pop("family", None)
        piece = _warmup_cosine_decay_schedule(**bind(f"{where}[{i}]",
                                                     _warmup_cosine_decay_schedule, params))
        pieces.append(piece)
        step += int(check.real(f"{where}[{i}].decay_steps", params["decay_steps"]))
        bounds.append(step)
    return pieces[0] if len(pieces) == 1 else Join(pieces=pieces, boundaries=bounds[:-1])


def _join_schedules(*, schedules: Sequence[Any], boundaries: Sequence[int]) -> Schedule:
    where = "join_schedules.schedules"
    if isinstance(schedules, str | bytes | Mapping) or not isinstance(schedules, Sequence):
        sub_specs(where, schedules)  # raises the usual message
    pieces: list[Schedule] = []
    for i, item in enumerate(schedules):
        if isinstance(item, Schedule):  # an lrkit schedule joins as it is
            pieces.append(item)
            continue
        [(name, params)] = sub_specs(f"{where}[{i}]", [item])
        pieces.append(from_optax(name, **params))
    if not pieces:
        sub_specs(where, [])
    kept, starts, _ = prune_join("join_schedules.boundaries", pieces, boundaries)
    return kept[0] if len(kept) == 1 else Join(pieces=kept, boundaries=starts)


# function name -> conversion; each takes the optax function's own keywords and defaults
OPTAX_SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant_schedule": _constant_schedule,
    "cosine_decay_schedule": _cosine_decay_schedule,
    "cosine_onecycle_schedule": _cosine_onecycle_schedule,
    "exponential_decay": _exponential_decay,
    "join_schedules": _join_schedules,
    "linear_onecycle_schedule": _linear_onecycle_schedule,
    "linear_schedule": _linear_schedule,
    "piecewise_constant_schedule": _piecewise_constant_schedule,
    "piecewise_interpolate_schedule": _piecewise_interpolate_schedule,
    "polynomial_schedule": _polynomial_schedule,
    "sgdr_schedule": _sgdr_schedule,
    "warmup_constant_schedule": _warmup_constant_schedule,
    "warmup_cosine_decay_schedule": _warmup_cosine_decay_schedule,
    "warmup_exponential_decay_schedule": _warmup_exponential_decay_schedule,
}
# the short names (optax.schedules.constant_schedule is also reachable as "constant")
_ALIASES = {name.removesuffix("_schedule"): name for name in OPTAX_SCHEDULES
            if name.endswith("_schedule")} | {"join": "join_schedules", "sgdr": "sgdr_schedule"}


def from_optax(function_name: str, /, **kwargs: Any) -> Schedule:
    """The lrkit schedule whose value at ``t`` is the optax schedule's value at count ``t``.

    Args:
        function_name: an optax schedule constructor, with or without its ``_schedule``
            suffix: constant, linear, polynomial, exponential_decay, cosine_decay,
            warmup_cosine_decay, warmup_exponential_decay, warmup_constant,
            piecewise_constant, piecewise_interpolate, cosine_onecycle, linear_onecycle,
            sgdr or join_schedules.
        **kwargs: the function's own keywords. ``boundaries_and_scales`` is a dict or a
            list of ``[boundary, scale]`` pairs; ``join_schedules(schedules=...)`` takes
            lrkit schedules or ``(name, kwargs)`` pairs / ``{"name": ..., **kwargs}``
            mappings of optax constructors.

    Raises:
        ConfigError: an unknown function or keyword (with the closest match), a missing
            keyword, or a value optax refuses.

    >>> from_optax("piecewise_constant", init_value=1.0,
    ...            boundaries_and_scales={2: 0.5, 4: 0.5}).values(5).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    key = lookup("optax schedule", function_name, OPTAX_SCHEDULES, _ALIASES)
    func = OPTAX_SCHEDULES[key]
    return func(**bind(key, func, kwargs))
