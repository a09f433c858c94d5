"""The search stage of ``auto``: a ladder of LRs on compressed runs, in seeded blocks.

Each run trains a candidate for a fraction of the real run with the task's schedule
*compressed* to it (a full warmup and decay in fewer updates) and is scored by its final
validation loss; a diverged run scores ``inf``. Within a *block* every candidate uses the
same seed, so they share initial weights, data order and dropout masks (common random
numbers): the differences between LRs then carry much less noise than the losses
themselves. ``run_block`` trains one block; ``extend_edges`` grows the ladder past an
edge that holds the best pooled loss. ``successive_halving`` is kept as a baseline.

>>> from lrkit.auto.runs import Runner, fake_trainer
>>> from lrkit.tasks import builtin_tasks
>>> task = builtin_tasks()["breast-cancer-logreg"]()
>>> runner = Runner(fake_trainer(lambda lr: (math.log2(lr) - 3) ** 2))
>>> trials = run_block(task, runner, [1.0, 2.0], block=0, seed=0, steps=26)
>>> ladder = extend_edges(task, runner, trials, seeds=[0], steps=26, ratio=2.0, most=5)
>>> sorted({t.lr for t in ladder})  # steps of 1, 2 octaves past the edge, then a gap closed
[1.0, 2.0, 4.0, 8.0, 16.0]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from lrkit.auto.runs import Runner
from lrkit.tasks import Task, TrainResult

__all__ = [
    "Trial",
    "best_at",
    "best_lr",
    "by_train_loss",
    "eval_updates",
    "extend_edges",
    "pooled",
    "run_block",
    "run_many",
    "successive_halving",
]


@dataclasses.dataclass(frozen=True)
class Trial:
    """One compressed training run of the search.

    Attributes:
        lr: the peak LR of the schedule.
        rung: 0 for the search's runs, 1 for the shorter horizon probe, 2 for the scout.
        steps: updates trained (the schedule spans exactly this many).
        val_losses: validation loss after each (possibly partial) epoch.
        loss: the final validation loss, ``inf`` if the run diverged.
        cost_runs: its gradient work in runs: updates plus validation passes (a forward
            pass counts a third of an update) over the real run's updates.
        block: the common-random-number block (its seed is the pipeline's seed + block).
        seed: the run's seed.
        train_loss: the mean training loss of its last epoch (``inf`` if it diverged).
        metric: what ``loss`` holds: ``"val"`` (the final validation loss) or ``"train"``
            (``train_loss``: used when no run improved on the untrained validation loss).
    """

    lr: float
    rung: int
    steps: int
    val_losses: tuple[float, ...]
    loss: float
    cost_runs: float
    block: int = 0
    seed: int = 0
    train_loss: float = math.inf
    metric: str = "val"


def eval_updates(task: Task, n_evals: int) -> float:
    """Validation passes in update-equivalents (a forward pass is a third of an update)."""
    return n_evals * len(task.val_data) / (3.0 * task.batch_size)


def _trial(task: Task, result: TrainResult, lr: float, *, block: int, seed: int,
           rung: int, metric: str = "val") -> Trial:
    """Score one trained candidate by ``metric`` (its final validation or training loss)."""
    work = result.steps + eval_updates(task, len(result.val_losses))
    val = result.final_val_loss if math.isfinite(result.final_val_loss) else math.inf
    last = result.train_losses[-1] if result.train_losses else math.inf
    train_loss = last if math.isfinite(last) and math.isfinite(val) else math.inf
    return Trial(lr=float(lr), rung=rung, steps=result.steps,
                 val_losses=tuple(result.val_losses),
                 loss=train_loss if metric == "train" else val,
                 cost_runs=work / task.total_steps, block=block, seed=seed,
                 train_loss=train_loss, metric=metric)


def run_many(task: Task, runner: Runner, jobs: Sequence[tuple[float, int, int]], *,
             steps: int, rung: int = 0,
             on_trial: Callable[[Trial], None] | None = None,
             metric: str = "val") -> list[Trial]:
    """Train independent candidates ``(lr, block, seed)`` as one batch (the runner's
    executor may train them at once) and score them, in that order."""
    def score(i: int, result: TrainResult) -> Trial:
        lr, block, seed = jobs[i]
        return _trial(task, result, lr, block=block, seed=seed, rung=rung, metric=metric)

    results = runner.train_many(
        task, [(lr, seed, steps) for lr, _, seed in jobs],
        on_result=None if on_trial is None else lambda i, r: on_trial(score(i, r)))
    return [score(i, result) for i, result in enumerate(results)]


def run_one(task: Task, runner: Runner, lr: float, *, block: int, seed: int, steps: int,
            rung: int = 0, on_trial: Callable[[Trial], None] | None = None,
            metric: str = "val") -> Trial:
    """Train one candidate (through the runner's cache) and score it by ``metric``."""
    return run_many(task, runner, [(lr, block, seed)], steps=steps, rung=rung,
                    on_trial=on_trial, metric=metric)[0]


def run_block(task: Task, runner: Runner, lrs: Sequence[float], *, block: int, seed: int,
              steps: int, rung: int = 0,
              on_trial: Callable[[Trial], None] | None = None,
              metric: str = "val") -> list[Trial]:
    """Train every LR of ``lrs`` with one seed (a common-random-number block), as one
    batch."""
    return run_many(task, runner, [(lr, block, seed) for lr in lrs], steps=steps, rung=rung,
                    on_trial=on_trial, metric=metric)


def by_train_loss(trials: Sequence[Trial]) -> list[Trial]:
    """``trials`` scored by their training loss instead (``metric="train"``)."""
    return [dataclasses.replace(t, loss=t.train_loss, metric="train") for t in trials]


def pooled(trials: Sequence[Trial], rung: int = 0) -> list[tuple[float, float]]:
    """(lr, mean loss over blocks) of the runs of ``rung``, sorted by LR.

    Only LRs that every block trained count (blocks differ by a common offset, so a mean
    over some of them would tilt the curve); an LR that diverged in any block pools to
    ``inf``.

    >>> t = [Trial(1.0, 0, 5, (), 2.0, .1, 0), Trial(1.0, 0, 5, (), 4.0, .1, 1),
    ...      Trial(2.0, 0, 5, (), math.inf, .1, 0), Trial(2.0, 0, 5, (), 1.0, .1, 1),
    ...      Trial(4.0, 0, 5, (), 1.0, .1, 0)]
    >>> pooled(t)
    [(1.0, 3.0), (2.0, inf)]
    """
    blocks = {t.block for t in trials if t.rung == rung}
    by_lr: dict[float, dict[int, float]] = {}
    for t in trials:
        if t.rung == rung:
            by_lr.setdefault(t.lr, {})[t.block] = t.loss
    return [(lr, sum(v.values()) / len(v) if all(map(math.isfinite, v.values())) else math.inf)
            for lr, v in sorted(by_lr.items()) if set(v) == blocks]


def best_lr(curve: Sequence[tuple[float, float]], tie: float = 1e-3) -> float:
    """The LR of the lowest loss; on a flat curve (every loss within ``tie``, relative, of
    the lowest) the highest LR: LRs that all leave the loss where it was are not training
    yet, so a flat curve points up, not down.

    >>> best_lr([(1.0, 2.0), (2.0, 2.0), (4.0, 2.0)]), best_lr([(1.0, 1.0), (2.0, 2.0)])
    (4.0, 1.0)
    """
    finite = [(lr, loss) for lr, loss in curve if math.isfinite(loss)]
    low = min(loss for _, loss in finite)
    if all(loss - low <= tie * abs(low) for _, loss in finite):
        return max(lr for lr, _ in finite)
    return min(finite, key=lambda p: (p[1], p[0]))[0]


def best_at(curve: Sequence[tuple[float, float]]) -> str:
    """Where the best run of ``curve`` (sorted by LR) sits: ``"low"`` or ``"high"`` edge,
    ``"inside"``, or ``""`` when no run is finite. A best run at the top edge means the
    short runs had not turned: the picks auto is least sure of (``measured_regret``).

    >>> best_at([(0.1, 2.0), (0.2, 1.0), (0.4, 1.5)]), best_at([(0.1, 2.0), (0.2, 1.0)])
    ('inside', 'high')
    """
    finite = [(lr, loss) for lr, loss in curve if math.isfinite(loss)]
    if not finite:
        return ""
    lrs = [lr for lr, _ in curve]
    i = lrs.index(best_lr(finite))
    return "low" if i == 0 else "high" if i == len(lrs) - 1 else "inside"


def _next_lr(curve: list[tuple[float, float]], ratio: float, ceiling: float,
             reach: dict[str, int], fill: bool = True) -> float | None:
    """The next LR that brackets or resolves the minimum of ``curve``, or None when done.

    Past an edge that holds the best, the step grows (1, 2, 4, ... ladder steps: a range
    test can be decades off); once the best is inside, the widest gap next to it is
    halved until both neighbours are one step away.
    """
    finite = [(lr, loss) for lr, loss in curve if math.isfinite(loss)]
    if len(curve) < 2 or not finite:
        return None
    best = best_lr(finite)
    lrs = [lr for lr, _ in curve]
    i = lrs.index(best)
    if i == len(lrs) - 1:
        new = best * ratio ** reach["high"]
        if new >= ceiling:
            new = best * ratio
            if new >= ceiling:
                return None
        reach["high"] *= 2
        return new
    if i == 0:
        new = best / ratio ** reach["low"]
        reach["low"] *= 2
        return new
    if not fill:
        return None
    gaps = [(math.log(best / lrs[i - 1]), lrs[i - 1]), (math.log(lrs[i + 1] / best), lrs[i + 1])]
    width, other = max(gaps)
    if width <= math.log(ratio) * 1.01:
        return None
    return math.sqrt(best * other)


def extend_edges(task: Task, runner: Runner, trials: list[Trial], *, seeds: Sequence[int],
                 steps: int, ratio: float, most: int, ceiling: float = math.inf,
                 rung: int = 0, fill: bool = True,
                 on_trial: Callable[[Trial], None] | None = None,
                 metric: str = "val") -> list[Trial]:
    """Grow the ladder past an edge that holds the best, then close the gaps beside it.

    Every block (``seeds[b]`` is block b's seed) trains each new LR, so the blocks keep one
    ladder. Upwards it stops at ``ceiling``; at most ``most`` new LRs in all (``fill``
    False: edges only, one step at a time). Returns ``trials`` with the new runs appended.
    """
    trials = list(trials)
    reach = {"low": 1, "high": 1}
    for _ in range(most):
        new = _next_lr(pooled(trials, rung), ratio, ceiling, reach if fill else
                       {"low": 1, "high": 1}, fill)
        if new is None:
            break
        have = {t.block for t in trials if t.rung == rung and t.lr == new}
        trials += run_many(task, runner, [(new, b, s) for b, s in enumerate(seeds)
                                          if b not in have],
                           steps=steps, rung=rung, on_trial=on_trial, metric=metric)
    return trials


def successive_halving(task: Task, candidates: Sequence[float], budgets: Sequence[float],
                       keep: Sequence[int], *, seed: int = 0, runner: Runner | None = None,
                       on_trial: Callable[[Trial], None] | None = None) -> list[Trial]:
    """Train ``candidates`` at ``budgets[0]`` of a run, keep ``keep[0]`` best, and so on.

    A baseline for the benchmark (``auto`` does not use it).

    Args:
        task: the task; its schedule is compressed to each rung's budget.
        candidates: peak LRs to try.
        budgets: fraction of ``task.total_steps`` per rung, increasing.
        keep: how many candidates survive each rung (``len(keep) == len(budgets) - 1``).
        seed: one seed for every run, so candidates differ only in their LR.
        runner: trainer and cache (default: ``lrkit.tasks.train``, no cache).
        on_trial: called after each run (progress display).

    Returns:
        Every trial, in the order they ran.
    """
    runner = runner or Runner()
    trials: list[Trial] = []
    survivors = list(candidates)
    for rung, fraction in enumerate(budgets):
        steps = max(1, round(fraction * task.total_steps))
        scored = run_block(task, runner, survivors, block=0, seed=seed, steps=steps,
                           rung=rung, on_trial=on_trial)
        trials += scored
        if rung < len(keep):
            scored.sort(key=lambda t: (t.loss, t.lr))
            survivors = [t.lr for t in scored[: keep[rung]] if math.isfinite(t.loss)]
            if not survivors:
                break
    return trials
