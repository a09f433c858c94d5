"""Replay variants of auto's search and choice on cached runs, to compare designs cheaply.

Every compressed and full run goes through the run cache (``runs.py``), so a design costs
only the runs no earlier design needed. Scored on the built-in benchmark (``bench_auto``'s
oracle and scoring seeds B, selection seeds 0, 1, 4, 5) and on the 8 held-out
calibration tasks (``holdout.py``'s factor-2 grid on seeds 0 and 1, selection seeds 0, 2,
3). The ``shipped`` design mirrors ``lrkit.auto``; the script checks that it reproduces
``auto()``'s LR on one task before it scores anything.

Usage: .venv/bin/python benchmarks/auto/replay.py [--designs shipped,previous,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "rangetest"))
from bench_auto import SELECTION_SEEDS, oracle, score  # noqa: E402
from calibration_tasks import CALIBRATION_TASKS  # noqa: E402
from holdout import GRID as HOLDOUT_GRID  # noqa: E402
from holdout import SEEDS as HOLDOUT_SEEDS  # noqa: E402
from holdout import SELECTION_SEEDS as HOLDOUT_SELECTION  # noqa: E402
from runs import SHAPES, loss_of, make_task, run  # noqa: E402

from lrkit.auto import auto, optimizer_prior  # noqa: E402
from lrkit.auto.pipeline import RANGE_TEST_TRUST, _curvature, _range_steps  # noqa: E402
from lrkit.rangetest import find  # noqa: E402
from lrkit.tasks import Task, builtin_tasks  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Design:
    """One search design: the first ladder, the second rung, and the choice."""

    ladder: tuple[int, int] = (-3, 2)  # octaves around the range test's peak LR
    second: str = "down"  # "down": winner and `below` LRs under it; "top": best `below`
    below: int = 2
    tolerance: float = 0.02  # second-rung ties within this share go to the lowest LR
    correction: float = 2.0
    # how the ladder's centre uses the prior: "none"; "confidence" (log-centre =
    # c * range test + (1 - c) * prior, c = the range test's confidence); "fallback"
    # (that blend only when c < RANGE_TEST_TRUST, as lrkit.auto does)
    prior: str = "none"
    # "always" divide by `correction`; "trend": only when the second rung's best LR is
    # already below the first rung's winner (the optimum moves down with the horizon)
    horizon: str = "always"
    ratio: int = 4  # the second rung's runs are this many times longer than the first's


DESIGNS = {
    "shipped": Design(prior="fallback"),
    "previous round": Design(second="top", below=2, tolerance=0.0),
    "no prior": Design(),
    "prior always (by confidence)": Design(prior="confidence"),
    "wider ladder": Design(ladder=(-4, 1), prior="fallback"),
    "one above": Design(second="around", prior="fallback"),
    "no tie rule": Design(tolerance=0.0, prior="fallback"),
    "no correction": Design(correction=1.0, prior="fallback"),
    "correction on trend": Design(prior="fallback", horizon="trend"),
    "second rung 8x longer": Design(prior="fallback", ratio=8),
    "second rung 8x and one below": Design(prior="fallback", ratio=8, below=1),
    "second rung 2x longer": Design(prior="fallback", ratio=2),
}


@dataclasses.dataclass
class Pair:
    """A task (and schedule) with a way to score an LR."""

    name: str
    shape: str
    task: Task
    tag: str
    selection: tuple[int, ...]
    regret: Callable[[float], float]

    def short(self, lr: float, seed: int, steps: int) -> float:
        return loss_of(run(self.name, self.shape, lr, seed, steps=steps, tag=self.tag,
                           task=self.task))


def _holdout_regret(name: str, task: Task) -> Callable[[float], float]:
    def mean(lr: float) -> float:
        losses = [loss_of(run(name, "constant", lr, s, tag="cal", task=task))
                  for s in HOLDOUT_SEEDS]
        return float(np.mean(losses)) if all(map(math.isfinite, losses)) else math.inf

    best = min(mean(lr) for lr in HOLDOUT_GRID)
    return lambda lr: (mean(lr) - best) / best


def pairs() -> list[Pair]:
    out = []
    for name in sorted(builtin_tasks()):
        for shape in SHAPES:
            ref = oracle(name, shape)
            out.append(Pair(name, shape, make_task(name, shape), "", SELECTION_SEEDS,
                            lambda lr, n=name, s=shape, r=ref: (score(n, s, lr)[0]
                                                                - r["L_star"]) / r["L_star"]))
    for name, factory in CALIBRATION_TASKS.items():
        task = factory()
        out.append(Pair(name, "constant", task, "cal", HOLDOUT_SELECTION,
                        _holdout_regret(name, task)))
    return out


def choose(pair: Pair, seed: int, d: Design) -> float:
    """The LR the design recommends for ``pair`` with selection seed ``seed``."""
    rt = find(pair.task, steps=_range_steps(pair.task.total_steps), seed=seed)
    center = rt.peak_lr if rt.peak_lr is not None else rt.suggestion
    c = rt.confidence
    if d.prior == "confidence" or (d.prior == "fallback" and c < RANGE_TEST_TRUST):
        # blend in constant-LR space, then map to the schedule's peak as the test does
        blend = rt.suggestion ** c * optimizer_prior(pair.task).lr ** (1 - c)
        center *= blend / rt.suggestion
    rungs = 1 + d.below if d.second != "around" else 3
    candidates = [center * 2.0 ** k for k in range(d.ladder[0], d.ladder[1] + 1)]
    spent = float(rt.cost_runs or 0.0)
    prior = optimizer_prior(pair.task)
    if not prior.adaptive:  # auto measures the curvature of SGD-type tasks: same budget
        spent += _curvature(pair.task, prior, seed).cost_runs
    b0 = max(1.0 - spent, 0.05) / (len(candidates) + d.ratio * rungs)
    s0, s1 = (max(1, round(f * pair.task.total_steps)) for f in (b0, d.ratio * b0))
    first = {lr: pair.short(lr, seed, s0) for lr in candidates}
    ranked = sorted((lr for lr in first if math.isfinite(first[lr])),
                    key=lambda lr: (first[lr], lr))
    if not ranked:
        return center
    if d.second == "top":
        second_lrs = ranked[: d.below]
    elif d.second == "around":
        second_lrs = [ranked[0] * 2.0, ranked[0], ranked[0] / 2.0]
    else:
        second_lrs = [ranked[0] / 2.0 ** k for k in range(d.below + 1)]
    second = {lr: pair.short(lr, seed, s1) for lr in second_lrs}
    finite = {lr: v for lr, v in second.items() if math.isfinite(v)}
    if not finite:
        return center
    best = min(finite.values())
    pick = min(lr for lr, v in finite.items() if v <= best + d.tolerance * abs(best))
    if d.horizon == "trend" and min(finite, key=finite.__getitem__) >= ranked[0]:
        return pick
    return pick / d.correction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--designs", default=",".join(DESIGNS))
    args = parser.parse_args()
    everything = pairs()
    probe = everything[0]
    assert math.isclose(choose(probe, 0, DESIGNS["shipped"]), auto(probe.task, seed=0).lr), \
        "the shipped design no longer mirrors lrkit.auto"
    print("| design | built-in median | built-in worst | held-out median | held-out worst |")
    print("|---|---|---|---|---|")
    for name in args.designs.split(","):
        regrets: dict[str, list[float]] = {"": [], "cal": []}
        for pair in everything:
            for seed in pair.selection:
                regrets[pair.tag].append(pair.regret(choose(pair, seed, DESIGNS[name])))
        b, h = regrets[""], regrets["cal"]
        print(f"| {name} | {np.median(b):.1%} | {max(b):.1%} | {np.median(h):.1%} | "
              f"{max(h):.1%} |", flush=True)


if __name__ == "__main__":
    main()
