"""Stage 3 of ``auto``: a two-rung search over LR candidates on compressed runs.

Each rung trains candidates for a fraction of the real run with the task's schedule
*compressed* to that budget (a full warmup and decay in fewer updates) and scores them
by final validation loss; a diverged run scores ``inf``. ``successive_halving`` keeps
the best of each rung for the next. ``search_downward`` (what ``auto`` runs) gives its
longer rung the first rung's winner and the LRs one and two octaves *below* it: a longer
horizon favours a lower LR, so that is where the second look pays; ``conservative``
then takes the lowest LR that ties with the best.

``refine`` fits a parabola to the loss against log2(LR) through the best candidate and
its neighbours: its vertex is a better LR than the grid point when the minimum lies
between two candidates (the horizon benchmark reads offsets off it). Its depth is a
model of the compressed runs, not of the full run: ``auto`` does not quote it as a
regret (``lrkit.auto.measured``).

>>> round(refine([0.25, 0.5, 1.0], [1.2, 1.0, 1.1]).lr, 4)  # vertex a little above 0.5
0.5612
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

from lrkit.tasks import Task, train

__all__ = ["Refined", "Trial", "conservative", "refine", "search_downward",
           "successive_halving"]


@dataclasses.dataclass(frozen=True)
class Trial:
    """One compressed training run of the search.

    Attributes:
        lr: the peak LR of the schedule.
        rung: the rung index (0 = the widest, shortest).
        steps: updates trained (the schedule spans exactly this many).
        val_losses: validation loss after each (possibly partial) epoch.
        loss: the final validation loss, ``inf`` if the run diverged.
        cost_runs: ``steps / task.total_steps``.
    """

    lr: float
    rung: int
    steps: int
    val_losses: tuple[float, ...]
    loss: float
    cost_runs: float


def successive_halving(task: Task, candidates: Sequence[float], budgets: Sequence[float],
                       keep: Sequence[int], *, seed: int = 0,
                       on_trial: Callable[[Trial], None] | None = None) -> list[Trial]:
    """Train ``candidates`` at ``budgets[0]`` of a run, keep ``keep[0]`` best, and so on.

    Args:
        task: the task; its schedule is compressed to each rung's budget.
        candidates: peak LRs to try.
        budgets: fraction of ``task.total_steps`` per rung, increasing.
        keep: how many candidates survive each rung (``len(keep) == len(budgets) - 1``).
        seed: one seed for every run, so candidates differ only in their LR.
        on_trial: called after each run (progress display).

    Returns:
        Every trial, in the order they ran.
    """
    trials: list[Trial] = []
    survivors = list(candidates)
    for rung, fraction in enumerate(budgets):
        scored = [_trial(task, lr, rung, fraction, seed, on_trial) for lr in survivors]
        trials += scored
        if rung < len(keep):
            scored.sort(key=lambda t: (t.loss, t.lr))
            survivors = [t.lr for t in scored[: keep[rung]] if math.isfinite(t.loss)]
            if not survivors:
                break
    return trials


def search_downward(task: Task, candidates: Sequence[float], budgets: tuple[float, float],
                    *, below: int = 2, seed: int = 0,
                    on_trial: Callable[[Trial], None] | None = None) -> list[Trial]:
    """Train ``candidates`` at ``budgets[0]``; then the winner and ``below`` LRs under it.

    The second rung (``budgets[1]`` of a run) trains the first rung's best LR and the LRs
    1, 2, ... ``below`` octaves beneath it. Nothing runs there if every candidate diverged.
    """
    first = [_trial(task, lr, 0, budgets[0], seed, on_trial) for lr in candidates]
    finite = [t for t in first if math.isfinite(t.loss)]
    if not finite:
        return first
    best = min(finite, key=lambda t: (t.loss, t.lr)).lr
    return first + [_trial(task, best / 2.0 ** k, 1, budgets[1], seed, on_trial)
                    for k in range(below + 1)]


def conservative(trials: Sequence[Trial], tolerance: float = 0.02) -> Trial | None:
    """The lowest-LR trial whose loss is within ``tolerance`` (relative) of the best.

    Ties go low: a full run is longer than these trials, and on most benchmark tasks the
    loss rises faster above the best LR than below it.

    >>> t = [Trial(lr, 1, 10, (), loss, 0.1) for lr, loss in [(1, .50), (.5, .505), (.25, .6)]]
    >>> conservative(t).lr
    0.5
    """
    finite = [t for t in trials if math.isfinite(t.loss)]
    if not finite:
        return None
    best = min(t.loss for t in finite)
    return min((t for t in finite if t.loss <= best + tolerance * abs(best)), key=lambda t: t.lr)


def _trial(task: Task, lr: float, rung: int, fraction: float, seed: int,
           on_trial: Callable[[Trial], None] | None) -> Trial:
    steps = max(1, round(fraction * task.total_steps))
    result = train(task, lr, seed, total_steps=steps)
    trial = Trial(lr=float(lr), rung=rung, steps=result.steps,
                  val_losses=tuple(result.val_losses), loss=result.final_val_loss,
                  cost_runs=result.steps / task.total_steps)
    if on_trial is not None:
        on_trial(trial)
    return trial


@dataclasses.dataclass(frozen=True)
class Refined:
    """The LR after a parabolic fit in log2(LR) space, and the regret it implies.

    Attributes:
        lr: the vertex when it lies inside the bracket, else the best grid LR.
        best_grid_lr: the best candidate as measured.
        expected_regret: (loss(best grid LR) - vertex loss) / vertex loss, from the fit;
            0 when no fit was possible. A model-based estimate, not a measurement.
        fitted: whether the parabola was used.
    """

    lr: float
    best_grid_lr: float
    expected_regret: float
    fitted: bool


def refine(lrs: Sequence[float], losses: Sequence[float]) -> Refined:
    """Fit loss ~ a + b x + c x^2 (x = log2 LR) through the best point and its neighbours."""
    pairs = sorted((float(lr), float(loss)) for lr, loss in zip(lrs, losses, strict=True)
                   if math.isfinite(loss))
    if not pairs:
        return Refined(math.nan, math.nan, math.nan, False)
    x = np.log2([p[0] for p in pairs])
    y = np.asarray([p[1] for p in pairs])
    i = int(np.argmin(y))
    best = float(2.0 ** x[i])
    if i == 0 or i == len(x) - 1:  # minimum on the edge: no bracket, nothing to refine
        return Refined(best, best, 0.0, False)
    xs, ys = x[i - 1: i + 2], y[i - 1: i + 2]
    c2, c1, c0 = np.polyfit(xs, ys, 2)
    if c2 <= 0:
        return Refined(best, best, 0.0, False)
    vertex = -c1 / (2 * c2)
    floor = c0 + c1 * vertex + c2 * vertex ** 2
    if not (xs[0] < vertex < xs[-1]) or floor <= 0:
        return Refined(best, best, 0.0, False)
    return Refined(float(2.0 ** vertex), best, float((y[i] - floor) / floor), True)
