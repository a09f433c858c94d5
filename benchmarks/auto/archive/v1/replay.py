"""Replay variants of auto's search and choice on cached runs, to compare designs cheaply.

Every compressed and full run goes through the run cache (``runs.py``), so a design costs
only the runs no earlier design needed. Scored on the built-in benchmark (``bench_auto``'s
oracle and scoring seeds B, selection seeds 0, 1, 4, 5) and on the 8 held-out calibration
tasks (``holdout.py``'s factor-2 grid on seeds 0 and 1, selection seeds 2, 3, 4: disjoint
from the scoring seeds). The ``shipped`` design mirrors ``lrkit.auto`` (the horizon
correction of the rung's fraction of a run, rungs capped at one run, the floor of
``MIN_RUNG_STEPS``-update first rungs); the script checks that it reproduces ``auto()``'s
LR and cost on one task at budgets 1, 4 and 8, and on cal-wine-mlp-sgdm at 0.5 (where the
curvature gives way), before it scores anything. The other designs are variants of the
design before the horizon round, which divided by a constant 2 (``constant 2 (before the
horizon round)``); ``budget.py`` replays designs at other budgets, ``seeds.py`` second
rungs averaged over several seeds (``Design.seeds``, ``Design.fill``; measured, not
shipped: RESULTS.md, "Seeds round").

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
from runs import SHAPES, loss_of, make_task, run, seed_mean  # noqa: E402

from lrkit.auto import auto, optimizer_prior  # noqa: E402
from lrkit.auto.pipeline import (  # noqa: E402
    HORIZON_ALPHA,
    HORIZON_MIN_FRACTION,
    MAX_RUNG,
    RANGE_TEST_TRUST,
    _curvature,
    _curvature_cost_bound,
    _range_steps,
    _search_floor,
    minimum_budget,
)
from lrkit.errors import ConfigError  # noqa: E402
from lrkit.rangetest import find  # noqa: E402
from lrkit.tasks import Task, builtin_tasks  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Design:
    """One search design: the first ladder, the second rung, and the choice."""

    ladder: tuple[int, int] = (-3, 2)  # octaves around the range test's peak LR
    second: str = "down"  # "down": winner and `below` LRs under it; "top": best `below`
    below: int = 2
    tolerance: float = 0.02  # second-rung ties within this share go to the lowest LR
    correction: float = 2.0  # the constant divisor of horizon="always" / "trend"
    # how the ladder's centre uses the prior: "none"; "confidence" (log-centre =
    # c * range test + (1 - c) * prior, c = the range test's confidence); "fallback"
    # (that blend only when c < RANGE_TEST_TRUST, as lrkit.auto does)
    prior: str = "none"
    # "always" divide by `correction`; "trend": only when the second rung's best LR is
    # already below the first rung's winner (the optimum moves down with the horizon);
    # "fraction": divide by 2 ** (alpha * log2(1/f)), f = the second rung's share of a run
    # clipped to [HORIZON_MIN_FRACTION, 1] (lrkit.auto.horizon_correction)
    horizon: str = "always"
    alpha: float = HORIZON_ALPHA
    ratio: int = 4  # the second rung's runs are this many times longer than the first's
    budget: float = 1.0  # auto's budget, in runs
    cap: float = math.inf  # the longest rung, in runs (lrkit.auto: MAX_RUNG)
    # the second rung's seeds: each of its LRs scores the mean final validation loss of
    # `seeds` runs (seed, seed + stride, ...); the rungs are sized for that many
    seeds: int = 1
    # spend what the cap leaves of the budget on further whole seeds of the second rung
    fill: bool = False
    # the step between a selection's seeds (seed, seed + stride, ...): 100, so that no
    # extra seed is one of the benchmark's scoring or oracle seeds
    stride: int = 100
    # measure the curvature of SGD-type tasks first (lrkit.auto's curvature=True): its
    # HVPs come out of the budget the search gets
    curvature: bool = True
    # lrkit.auto's floor: refuse a budget below minimum_budget (ConfigError), skip the
    # curvature when it would leave first rungs under MIN_RUNG_STEPS, never plan under it
    floor: bool = False


DESIGNS = {
    "shipped": Design(prior="fallback", horizon="fraction", cap=MAX_RUNG, floor=True),
    "before the floor round": Design(prior="fallback", horizon="fraction", cap=MAX_RUNG),
    "no curvature stage": Design(prior="fallback", horizon="fraction", cap=MAX_RUNG,
                                 curvature=False),
    "constant 2 (before the horizon round)": Design(prior="fallback"),
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
    eta: float  # the oracle's best LR

    def short(self, lr: float, seed: int, steps: int) -> float:
        return loss_of(run(self.name, self.shape, lr, seed, steps=steps, tag=self.tag,
                           task=self.task))


def _holdout_regret(name: str, task: Task) -> tuple[Callable[[float], float], float]:
    def mean(lr: float) -> float:
        return seed_mean(loss_of(run(name, "constant", lr, s, tag="cal", task=task))
                         for s in HOLDOUT_SEEDS)

    eta = min(HOLDOUT_GRID, key=mean)
    best = mean(eta)
    return (lambda lr: (mean(lr) - best) / best), eta


def pairs() -> list[Pair]:
    out = []
    for name in sorted(builtin_tasks()):
        for shape in SHAPES:
            ref = oracle(name, shape)
            out.append(Pair(name, shape, make_task(name, shape), "", SELECTION_SEEDS,
                            lambda lr, n=name, s=shape, r=ref: (score(n, s, lr)[0]
                                                                - r["L_star"]) / r["L_star"],
                            ref["eta"]))
    for name, factory in CALIBRATION_TASKS.items():
        task = factory()
        out.append(Pair(name, "constant", task, "cal", HOLDOUT_SELECTION,
                        *_holdout_regret(name, task)))
    return out


def choose(pair: Pair, seed: int, d: Design) -> float:
    """The LR the design recommends for ``pair`` with selection seed ``seed``."""
    return select(pair, seed, d)[0]


def select(pair: Pair, seed: int, d: Design) -> tuple[float, float]:
    """The design's LR for ``pair`` with selection seed ``seed``, and its cost in runs.

    Raises:
        ConfigError: with ``d.floor``, a budget below ``minimum_budget`` (as auto does).
    """
    if d.floor and d.budget < minimum_budget(pair.task):
        raise ConfigError(f"budget = {d.budget!r}: below minimum_budget for {pair.name}")
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
    starves = d.floor and (d.budget - spent - _curvature_cost_bound(pair.task)
                           < _search_floor(pair.task))
    if d.curvature and not prior.adaptive and not starves:  # auto's curvature stage
        spent += _curvature(pair.task, prior, seed).cost_runs
    remaining = max(d.budget - spent, _search_floor(pair.task) if d.floor else 0.05)
    b0 = min(remaining / (len(candidates) + d.seeds * d.ratio * rungs), d.cap / d.ratio)
    total = pair.task.total_steps
    s0, s1 = (max(1, round(f * total)) for f in (b0, d.ratio * b0))
    n_seeds = d.seeds
    if d.fill:  # whole extra seeds in what the planned rungs leave of the budget
        left = remaining - (len(candidates) * s0 + d.seeds * rungs * s1) / total
        n_seeds += max(0, math.floor(left / (rungs * s1 / total) + 1e-9))
    seeds = [seed + k * d.stride for k in range(n_seeds)]
    first = {lr: pair.short(lr, seed, s0) for lr in candidates}
    spent += sum(_steps(pair, lr, seed, s0) for lr in first) / total
    ranked = sorted((lr for lr in first if math.isfinite(first[lr])),
                    key=lambda lr: (first[lr], lr))
    if not ranked:
        return center, spent
    if d.second == "top":
        second_lrs = ranked[: d.below]
    elif d.second == "around":
        second_lrs = [ranked[0] * 2.0, ranked[0], ranked[0] / 2.0]
    else:
        second_lrs = [ranked[0] / 2.0 ** k for k in range(d.below + 1)]
    second = {lr: seed_mean(pair.short(lr, s, s1) for s in seeds) for lr in second_lrs}
    # a diverged run stops early: count the updates it trained, as auto does
    spent += sum(_steps(pair, lr, s, s1) for lr in second for s in seeds) / total
    finite = {lr: v for lr, v in second.items() if math.isfinite(v)}
    if not finite:
        return center, spent
    best = min(finite.values())
    pick = min(lr for lr, v in finite.items() if v <= best + d.tolerance * abs(best))
    if d.horizon == "trend" and min(finite, key=finite.__getitem__) >= ranked[0]:
        return pick, spent
    if d.horizon == "fraction":
        f = min(max(s1 / total, HORIZON_MIN_FRACTION), 1.0)
        return pick / 2.0 ** (d.alpha * math.log2(1.0 / f)), spent
    return pick / d.correction, spent


def _steps(pair: Pair, lr: float, seed: int, steps: int) -> int:
    return int(run(pair.name, pair.shape, lr, seed, steps=steps, tag=pair.tag,
                   task=pair.task)["steps"])


def check_shipped(everything: list[Pair]) -> None:
    """Assert that the ``shipped`` design reproduces ``lrkit.auto`` (LR and cost)."""
    # the first built-in pair, and a small held-out task at 0.5, where the curvature yields
    probes = [(everything[0], budget) for budget in (1.0, 4.0, 8.0)]
    probes.append((next(p for p in everything if p.name == "cal-wine-mlp-sgdm"), 0.5))
    for probe, budget in probes:
        d = dataclasses.replace(DESIGNS["shipped"], budget=budget)
        lr, cost = select(probe, 0, d)
        rec = auto(probe.task, seed=0, budget=budget)
        assert math.isclose(lr, rec.lr) and math.isclose(cost, rec.cost_runs, abs_tol=1e-3), \
            f"the shipped design no longer mirrors lrkit.auto on {probe.name} at {budget}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--designs", default=",".join(DESIGNS))
    args = parser.parse_args()
    everything = pairs()
    check_shipped(everything)
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
