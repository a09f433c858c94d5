"""Turn a decay type, a peak LR and a run length into a schedule, and read it back.

``build`` makes an ``lrkit.schedules`` object (decay after an optional linear warmup),
``evaluate`` samples it over the run (every update, plus the end of training) and
``downsample`` keeps at most ``max_points`` of them for JSON and plots while keeping the
first and last step, the end of the warmup and both sides of every jump exactly.
``settled_step`` implements the schedule-only convergence estimate.

>>> b = build("cosine", peak=1.0, end=0.0, warmup_steps=2, total_steps=10)
>>> b.schedule(2), b.schedule(10)
(1.0, 0.0)
>>> b.key_steps
(0, 2, 10)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from lrkit.schedules import (
    WSD,
    Constant,
    Cosine,
    Exponential,
    InverseSqrt,
    Piecewise,
    Polynomial,
    Schedule,
    warmup,
)

__all__ = [
    "DECAYS",
    "FULL_EVAL_LIMIT",
    "SETTLE_FRACTION",
    "Built",
    "build",
    "default_end_ratio",
    "downsample",
    "evaluate",
    "settled_step",
]

# decay name -> evidence id
DECAYS: dict[str, str] = {
    "cosine": "schedule.cosine",
    "linear": "schedule.linear",
    "step": "schedule.step",
    "multistep": "schedule.multistep",
    "wsd": "schedule.wsd",
    "inverse_sqrt": "schedule.inverse_sqrt",
    "exponential": "schedule.exponential",
    "constant": "schedule.constant",
}

SETTLE_FRACTION = 0.1        # "within 10% of its final range"
FULL_EVAL_LIMIT = 2_000_000  # beyond this many steps the settle search uses a dense sample
_STEP_FRACTIONS = (1 / 3, 2 / 3, 8 / 9)  # epochs 30, 60, 80 of 90 (Goyal et al. §5.1)
_MULTISTEP_FRACTIONS = (0.8, 0.9)       # DeepSeek LLM §2.3
_WSD_DECAY = 0.2                        # last 20% of the run


def default_end_ratio(decay: str, *, llm: bool = False) -> float:
    """Final LR as a fraction of the peak when the user gives none.

    >>> default_end_ratio("cosine"), default_end_ratio("cosine", llm=True)
    (0.0, 0.1)
    """
    if decay in ("cosine", "linear", "wsd"):
        return 0.1 if llm else 0.0
    return {"step": 1e-3, "multistep": 0.1, "exponential": 0.01, "constant": 1.0}.get(
        decay, 0.0)


@dataclasses.dataclass(frozen=True)
class Built:
    """A schedule for the whole run and the steps a plot or table must not skip."""

    schedule: Schedule
    key_steps: tuple[int, ...]
    text: str


def build(decay: str, *, peak: float, end: float, warmup_steps: int, total_steps: int,
          warmup_init: float = 0.0) -> Built:
    """The schedule of ``decay`` from ``peak`` towards ``end`` over ``total_steps`` updates.

    Milestones (``step``, ``multistep``, ``wsd``) are placed at fractions of the whole run,
    as in the recipes they come from; the warmup is a linear ramp from ``warmup_init``.

    Args:
        decay: One of ``DECAYS``.
        peak: Peak LR (reached at the end of the warmup).
        end: Final LR (ignored by ``constant`` and ``inverse_sqrt``).
        warmup_steps: Warmup length, ``0 <= warmup_steps < total_steps``.
        total_steps: Updates in the run.
        warmup_init: LR of the first warmup update.
    """
    main = total_steps - warmup_steps
    keys = {0, warmup_steps, total_steps}
    ratio = end / peak if peak > 0 else 0.0
    shape: Schedule
    if decay == "constant":
        shape = Constant(peak)
        text = f"constant {peak:.4g}"
    elif decay == "cosine":
        shape = Cosine(peak_lr=peak, total_steps=main, end_lr=end)
        text = f"cosine from {peak:.4g} to {end:.4g} over {main} steps"
    elif decay == "linear":
        shape = Polynomial(init_lr=peak, total_steps=main, end_lr=end, power=1.0)
        text = f"linear from {peak:.4g} to {end:.4g} over {main} steps"
    elif decay in ("step", "multistep"):
        fractions: tuple[float, ...]
        if decay == "step":
            fractions = _STEP_FRACTIONS
            gamma = ratio ** (1 / 3) if ratio > 0 else 0.1
            lrs = [peak * gamma**i for i in range(4)]
        else:
            fractions = _MULTISTEP_FRACTIONS
            lrs = [peak, peak * math.sqrt(ratio), peak * ratio]
        marks = sorted({max(warmup_steps + 1, min(total_steps - 1, round(f * total_steps)))
                        for f in fractions})
        lrs = lrs[:len(marks) + 1]
        shape = Piecewise(boundaries=[m - warmup_steps for m in marks], lrs=lrs)
        keys.update(marks)
        keys.update(m - 1 for m in marks)
        text = (f"{decay}: " + ", ".join(f"{v:.4g}" for v in lrs)
                + f" with drops at steps {', '.join(map(str, marks))}")
    elif decay == "wsd":
        decay_len = max(1, math.ceil(_WSD_DECAY * main))
        shape = WSD(peak_lr=peak, total_steps=main, decay_steps=decay_len, end_lr=end)
        keys.add(total_steps - decay_len)
        text = (f"warmup-stable-decay: hold {peak:.4g}, then 1-sqrt decay to {end:.4g} over "
                f"the last {decay_len} steps")
    elif decay == "inverse_sqrt":
        timescale = warmup_steps if warmup_steps > 0 else max(1, total_steps // 100)
        shape = InverseSqrt(peak_lr=peak, timescale=timescale)
        text = f"inverse square root from {peak:.4g}, timescale {timescale} steps"
    elif decay == "exponential":
        rate = max(ratio, 1e-12)
        shape = Exponential(init_lr=peak, decay_rate=rate, decay_steps=main)
        text = f"exponential from {peak:.4g} to {peak * rate:.4g} over {main} steps"
    else:  # pragma: no cover - decay names are validated by CalcInput
        raise KeyError(decay)
    schedule = warmup(shape, warmup_steps, init_lr=warmup_init) if warmup_steps else shape
    if warmup_steps:
        text = f"linear warmup {warmup_init:.4g} -> {peak:.4g} over {warmup_steps} steps, " + text
    return Built(schedule, tuple(sorted(keys)), text)


def evaluate(schedule: Schedule, total_steps: int,
             key_steps: tuple[int, ...] = ()) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Steps and LRs over the run: every step 0..total_steps when that is at most
    ``FULL_EVAL_LIMIT`` points, else an even sample of that many plus ``key_steps``.

    Step ``total_steps`` is the end of training (no update uses it); it is included so the
    curve ends at the final LR.
    """
    if total_steps + 1 <= FULL_EVAL_LIMIT:
        steps = np.arange(total_steps + 1, dtype=np.int64)
    else:
        grid = np.linspace(0, total_steps, FULL_EVAL_LIMIT).round().astype(np.int64)
        steps = _sorted_unique(np.concatenate([grid, np.asarray(key_steps, dtype=np.int64)]))
    return steps, np.asarray(schedule(steps.astype(np.float64)), dtype=np.float64)


def downsample(steps: NDArray[np.int64], lrs: NDArray[np.float64], key_steps: tuple[int, ...],
               max_points: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """At most ``max_points`` of ``(steps, lrs)``, always keeping ``key_steps``.

    >>> s = np.arange(10_001); lr = s / 10_000.0
    >>> ds, dl = downsample(s, lr, (0, 137, 10_000), 100)
    >>> len(ds) <= 100, 137 in ds, int(ds[0]), int(ds[-1])
    (True, True, 0, 10000)
    """
    if len(steps) <= max_points:
        return steps, lrs
    # positions of the key steps present in ``steps`` (sorted), found by binary search
    keys = np.asarray(sorted(set(key_steps)), dtype=np.int64)
    at = np.clip(np.searchsorted(steps, keys), 0, len(steps) - 1)
    key_pos = at[steps[at] == keys]
    budget = max(2, max_points - len(key_pos))
    grid_pos = np.linspace(0, len(steps) - 1, budget).round().astype(np.int64)
    index = _sorted_unique(np.concatenate([grid_pos, key_pos]))
    return steps[index], lrs[index]


def _sorted_unique(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Sorted distinct values (np.unique's hashing path is slow on millions of ints)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def settled_step(steps: NDArray[np.int64], lrs: NDArray[np.float64]) -> int | None:
    """First step after which the LR stays within ``SETTLE_FRACTION`` of its final range.

    The range is peak - final; None when the schedule never moves away from its final
    value (a constant schedule carries no convergence signal).

    >>> settled_step(np.arange(5), np.array([1.0, 1.0, 0.5, 0.05, 0.0]))
    3
    >>> settled_step(np.arange(3), np.ones(3)) is None
    True
    """
    final = float(lrs[-1])
    spread = float(lrs.max()) - final
    if spread <= 1e-12 * max(abs(float(lrs.max())), 1e-300):
        return None
    outside = np.flatnonzero(np.abs(lrs - final) > SETTLE_FRACTION * spread)
    if outside.size == 0:
        return int(steps[0])
    last = int(outside[-1])
    return int(steps[min(last + 1, len(steps) - 1)])
