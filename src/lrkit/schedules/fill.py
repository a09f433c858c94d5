"""Fill a schedule *shape* with a learning rate: what every model-driven verb does.

A task fixes the shape of its real run's schedule (``"cosine(warmup_steps=0.1)"``) and
lrkit chooses the height: ``fill_schedule`` writes the chosen LR into the family's own
``lr_parameter`` and the run length into ``total_steps``.

>>> fill_schedule("linear(warmup_steps=10)", 0.1, 110).values(111)[[0, 10, 60, 110]].tolist()
[0.0, 0.1, 0.05, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit._check import INPUT as check
from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, lr_parameters, parameter_names
from lrkit.schedules.parse import parse_spec
from lrkit.schedules.spec import from_spec

__all__ = ["fill_schedule"]

def _shape_spec(schedule: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if schedule is None:
        return {"family": "constant"}
    if isinstance(schedule, str):
        return parse_spec(schedule)
    if isinstance(schedule, Mapping):
        return dict(schedule)
    raise ConfigError(f"task.schedule = {schedule!r}: must be a spec string, a dict or None; "
                      "pass e.g. 'cosine' or {'family': 'cosine', 'warmup_steps': 0.1}")


def fill_schedule(schedule: str | Mapping[str, Any] | None, peak_lr: float,
                  total_steps: int) -> Schedule:
    """Build the schedule of shape ``schedule`` with its LR parameter set to ``peak_lr``.

    ``total_steps`` is filled in when the family has one and the spec leaves it out; a
    ``warmup_steps`` below 1 is read as a fraction of ``total_steps``, and so are
    ``wsd.decay_steps``, ``step.step_size``, ``multistep.milestones`` and
    ``cosine_restarts.cycle_steps`` (so the shape scales with a shorter trial run). An LR
    parameter already in the spec is replaced: the shape is what the task fixes, the height
    is not.

    Args:
        schedule: a spec string (``"cosine"``, ``"onecycle(pct_start=0.3)"``), a spec dict,
            or None for a constant LR.
        peak_lr: the value of the family's LR parameter (``lr_parameters()``).
        total_steps: the number of updates of the run.

    Raises:
        ConfigError: the family has no single LR parameter, or the spec is invalid.

    >>> fill_schedule("cosine(warmup_steps=0.1)", 0.5, 100)(10)
    0.5
    >>> fill_schedule("wsd(decay_steps=0.2)", 1.0, 50).to_spec()["decay_steps"]
    10
    >>> fill_schedule(None, 0.01, 5).to_spec()
    {'family': 'constant', 'base_lr': 0.01}
    """
    spec = _shape_spec(schedule)
    family = spec.get("family")
    heights = lr_parameters()
    if family not in heights:
        raise ConfigError(f"task.schedule family = {family!r}: has no single LR parameter that "
                          f"lrkit can set; use one of {', '.join(sorted(heights))}")
    check.positive("lr", peak_lr, example="0.01")
    spec[heights[family]] = float(peak_lr)
    if "total_steps" in parameter_names(family)[0] and "total_steps" not in spec:
        spec["total_steps"] = int(total_steps)
    warm = spec.get("warmup_steps")
    if isinstance(warm, float) and 0 < warm < 1:
        # at least one warmup update, but never the whole run (a 1-update trial has none)
        spec["warmup_steps"] = min(max(1, round(warm * total_steps)), total_steps - 1)
    for key in _FRACTIONAL.get(family, ()):
        spec[key] = _scaled(spec.get(key), total_steps)
    return from_spec(spec)


# Lengths inside a schedule that may be given as fractions of the run (0 < x < 1), like
# warmup_steps: a shorter trial run (find, auto, tune) then gets the same shape, where an
# absolute count would outlast it.
_FRACTIONAL: dict[str, tuple[str, ...]] = {
    "cosine_restarts": ("cycle_steps",),
    "multistep": ("milestones",),
    "step": ("step_size",),
    "wsd": ("decay_steps",),
}


def _scaled(value: Any, total_steps: int) -> Any:
    """``value`` in updates when it is a fraction of ``total_steps`` (or a list of them).

    >>> _scaled(0.2, 100), _scaled([0.5, 0.75], 100), _scaled([0.5, 0.6], 2), _scaled(30, 100)
    (20, [50, 75], [1], 30)
    """
    if isinstance(value, list | tuple) and value and all(
            isinstance(v, float) and 0 < v < 1 for v in value):
        return sorted({max(1, round(v * total_steps)) for v in value})
    if isinstance(value, float) and 0 < value < 1:
        return max(1, round(value * total_steps))
    return value
