"""The natural length of a schedule, when it has one."""

from __future__ import annotations

import math

from lrkit.schedules.base import Schedule

__all__ = ["horizon"]


def horizon(schedule: Schedule) -> int | None:
    """Steps until the schedule reaches its end (``total_steps``, through joins), or None.

    >>> from lrkit.schedules import parse
    >>> horizon(parse("cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)"))
    1000
    >>> horizon(parse("constant(base_lr=0.1)")) is None
    True
    """
    from lrkit.schedules.compose import Join, Product, Scaled

    if isinstance(schedule, Join):
        tail = horizon(schedule.pieces[-1])
        return None if tail is None else schedule.boundaries[-1] + tail
    if isinstance(schedule, Scaled):
        return horizon(schedule.schedule)
    if isinstance(schedule, Product):
        ends = [h for h in (horizon(schedule.first), horizon(schedule.second)) if h is not None]
        return max(ends) if ends else None
    total = getattr(schedule, "total_steps", None)
    return None if total is None else math.ceil(total)
