"""``pick_schedule``: the shape as well as the height, for ``lrkit auto --schedule auto``.

Each candidate shape gets ``lrkit.auto`` at the user's budget (seed ``seed``), then a full
run at that LR on ``seeds`` other seeds; the shape with the lowest mean final validation
loss wins (``compare`` in auto mode). The winner's ``auto`` recommendation is the one
already computed for it (in this process), so the extra cost over a plain ``auto`` is
the other shapes' searches plus every full run, and it is stated up front
(``expected_extra_cost``) and after (``ShapeChoice.extra_cost_runs``).

>>> round(expected_extra_cost(1.0, n_shapes=4, seeds=2), 1)  # 3 more searches + 8 runs
11.0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lrkit._check import INPUT as check
from lrkit.compare.api import CompareResult, compare
from lrkit.compare.entries import ShapedTask, entries
from lrkit.compare.execute import Event, recommendation
from lrkit.tasks import Task, load_task

__all__ = ["SHAPE_CANDIDATES", "ShapeChoice", "expected_extra_cost", "pick_schedule"]

# the shapes practitioners choose between (the calculator's decays and warmup + cosine)
SHAPE_CANDIDATES = ("constant", "step", "cosine", "warmup+cosine", "onecycle", "wsd")


def expected_extra_cost(budget: float, n_shapes: int = len(SHAPE_CANDIDATES),
                        seeds: int = 2) -> float:
    """Runs spent beyond a plain ``auto`` at ``budget``: n-1 searches and n x seeds runs."""
    return (n_shapes - 1) * budget + n_shapes * seeds


@dataclasses.dataclass(frozen=True)
class ShapeChoice:
    """The chosen shape, auto's recommendation for it, and the comparison behind it.

    Attributes:
        shape: the winning shape's name.
        task: the task with that shape (what ``auto`` searched).
        recommendation: ``lrkit.auto``'s Recommendation for it.
        comparison: the CompareResult of every candidate.
        extra_cost_runs: what the choice cost beyond the winner's own ``auto`` search.
    """

    shape: str
    task: ShapedTask
    recommendation: Any
    comparison: CompareResult
    extra_cost_runs: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the shape, the extra cost and the comparison table (no curves)."""
        return {"shape": self.shape, "extra_cost_runs": self.extra_cost_runs,
                "comparison": self.comparison.to_dict(curves=False)}


def pick_schedule(task: Task | str, *, budget: float = 1.0, seed: int = 0,
                  schedules: Sequence[str] = SHAPE_CANDIDATES, seeds: int = 2,
                  store: str | Path | None = None,
                  on_event: Event | None = None) -> ShapeChoice:
    """Choose the schedule shape and its peak LR for ``task`` with ``auto`` per shape.

    Args:
        task: a Task, a built-in name or ``path/file.py:factory``.
        budget: ``auto``'s budget for each shape.
        seed: ``auto``'s seed; the full runs use seeds ``seed + 1 .. seed + seeds``.
        schedules: the candidate shapes (``lrkit.compare.shapes``).
        seeds: full runs per shape that decide between them.
        store: a JSON-lines file that makes the choice resumable.
        on_event: progress events.

    Raises:
        ConfigError: bad candidates, budget or seeds.
    """
    check.count("seeds", seeds, example="2", exact=True)
    loaded = load_task(task) if isinstance(task, str) else task
    result = compare(loaded, list(schedules), seeds=[seed + 1 + k for k in range(seeds)],
                     budget=budget, select_seed=seed, store=store, on_event=on_event)
    best = result.best
    row = next(e for e in entries(list(schedules), []) if e.name == best.name)
    shaped = row.task_for(loaded)
    rec = recommendation(loaded, row, budget, seed)
    if rec is None:  # searched in another process or an earlier run: search it again here
        from lrkit import auto

        rec = auto(shaped, budget=budget, seed=seed)
    extra = result.cost_runs - best.selection_cost_runs
    return ShapeChoice(best.name, shaped, rec, result, round(extra, 4))
