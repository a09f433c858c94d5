"""Bounded evaluation of a schedule for plotting: never more work than a fixed budget.

A run can be 10^9 updates long; the browser needs at most a couple of thousand points.
Schedules are pure functions of the step, so only the plotted steps (and a bounded number
of probes between them) are ever evaluated.

>>> from lrkit.schedules import parse
>>> curve = sample_curve(parse("cosine(peak_lr=1.0, total_steps=1000000000)"), 10**9)
>>> len(curve.step) <= 2000, curve.step[0], curve.step[-1], curve.downsampled
(True, 0, 999999999, True)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from lrkit._check import INPUT as check
from lrkit.schedules import Schedule

__all__ = ["MAX_POINTS", "MAX_STEPS", "PROBE_BUDGET", "Curve", "probe_steps", "sample_curve"]

MAX_POINTS = 2000
"""The most points one plotted curve carries."""

PROBE_BUDGET = 20_000
"""The most steps evaluated for one curve; the min/max of each plotted bucket comes from these."""

MAX_STEPS = 10**12
"""Longest run the web app plots (float64 represents every step exactly below 2**53)."""


@dataclasses.dataclass(frozen=True)
class Curve:
    """Plotted points of one schedule: integer steps and their learning rates."""

    step: list[int]
    lr: list[float]
    downsampled: bool

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form ``{"step": [...], "lr": [...], "downsampled": bool}``."""
        return {"step": self.step, "lr": self.lr, "downsampled": self.downsampled}


def probe_steps(n: int, budget: int = PROBE_BUDGET) -> NDArray[np.int64]:
    """At most ``budget`` evenly spread steps of ``0 .. n - 1``, always with both ends.

    >>> probe_steps(5).tolist()
    [0, 1, 2, 3, 4]
    >>> probe_steps(10**9, budget=5).tolist()
    [0, 250000000, 500000000, 749999999, 999999999]
    """
    if n <= budget:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, budget).round().astype(np.int64))


def sample_curve(schedule: Schedule, n: int, max_points: int = MAX_POINTS,
                 budget: int = PROBE_BUDGET) -> Curve:
    """The curve of ``schedule`` over updates ``0 .. n - 1`` in at most ``max_points`` points.

    When ``n`` exceeds ``max_points``, the probed steps are cut into ``(max_points - 2) // 2``
    buckets and each bucket keeps its lowest and highest point (in step order), plus
    the first and last update, so steps, spikes and short cycles stay visible instead of
    being aliased away.

    Args:
        schedule: the schedule to evaluate.
        n: number of updates (the x axis runs over ``0 .. n - 1``).
        max_points: most points returned (>= 2).
        budget: most steps evaluated.

    Raises:
        ConfigError: ``n`` is not between 1 and ``MAX_STEPS``.

    >>> from lrkit.schedules import parse
    >>> c = sample_curve(parse("step(base_lr=1.0, step_size=3, gamma=0.5)"), 7)
    >>> c.step, c.lr, c.downsampled
    ([0, 1, 2, 3, 4, 5, 6], [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25], False)
    """
    n = check.count("steps", n, exact=True, example="1000")
    if n > MAX_STEPS:
        raise check.fail("steps", n, f"must be at most {MAX_STEPS:,}",
                         "pass the number of updates to plot")
    probes = probe_steps(n, max(budget, max_points))
    lrs = np.asarray(schedule(probes.astype(np.float64)), dtype=np.float64)
    if len(probes) <= max_points:
        return Curve(probes.tolist(), lrs.tolist(), downsampled=False)
    n_buckets = (max_points - 2) // 2
    if n_buckets < 1:  # too few points for min/max pairs: an even sample
        probes = probe_steps(n, max_points)
        return Curve(probes.tolist(), np.asarray(schedule(probes.astype(np.float64)),
                                                 dtype=np.float64).tolist(), downsampled=True)
    # two points per bucket plus the first and last update, which are always shown
    buckets = np.array_split(np.arange(len(probes)), n_buckets)
    chosen = {0, len(probes) - 1}
    for idx in buckets:
        chosen.add(int(idx[np.argmin(lrs[idx])]))
        chosen.add(int(idx[np.argmax(lrs[idx])]))
    keep = np.array(sorted(chosen), dtype=np.int64)
    return Curve(probes[keep].tolist(), lrs[keep].tolist(), downsampled=True)
