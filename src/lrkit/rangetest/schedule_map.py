"""Map the range test's constant-LR suggestion to the peak LR of a schedule shape.

A range test measures where a *constant* LR works. A decaying schedule spends much of
the run below its peak, so its best peak is higher. lrkit's map keeps the run's *mean*
LR equal to the best constant LR:

    peak_lr = constant_lr / mean_t shape(t),   shape = the schedule at peak 1

so ``constant`` maps to itself, cosine (mean 1/2) to 2x, a linear warmup of 10% then
constant to ~1.05x. This was chosen from measurements, not folklore: on the eight
calibration tasks (benchmarks/rangetest/calibrate.py, RESULTS.md "schedule map"), taking
the range-test suggestion times a ratio rho as the peak and training with the schedule,
rho = 2 gave the lowest worst-case normalised regret of rho in {0.5, 0.71, ..., 8} for
both cosine (0.11) and one-cycle (0.08); 1 / mean(shape) is 1.98-1.99 for both.

>>> round(peak_lr_for("cosine", 0.01, 1000), 4)
0.02
>>> peak_lr_for(None, 0.01, 1000)
0.01
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lrkit.schedules import fill_schedule

__all__ = ["mean_fraction", "peak_lr_for"]


def mean_fraction(schedule: str | Mapping[str, Any] | None, total_steps: int) -> float:
    """Mean of the schedule over ``total_steps`` updates with its LR parameter set to 1.

    >>> mean_fraction("constant", 10)
    1.0
    """
    total = max(1, int(total_steps))
    values = fill_schedule(schedule, 1.0, total).values(total)
    return float(np.mean(values))


def peak_lr_for(schedule: str | Mapping[str, Any] | None, constant_lr: float,
                total_steps: int) -> float:
    """The peak LR for ``schedule`` whose mean LR equals ``constant_lr``."""
    if not (math.isfinite(constant_lr) and constant_lr > 0):
        return math.nan
    fraction = mean_fraction(schedule, total_steps)
    return constant_lr / fraction if fraction > 0 else constant_lr
