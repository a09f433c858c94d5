"""``auto``: one LR recommendation for a task, at a stated cost.

The stages, each visible in the result:

1. **prior** — the calculator's textbook LR for the task's optimizer (free).
2. **range test** — ``lrkit.rangetest.find`` on a short sweep; its constant-LR suggestion
   is mapped to the peak of the task's schedule. When the test doubts its own curve
   (confidence below ``RANGE_TEST_TRUST``, where its "too noisy" flag sits), the search
   is centred between it and the prior, weighted by that confidence.
3. **curvature** — for SGD-type optimizers, the sharpness at initialisation and the
   stability ceiling it implies (a few Hessian-vector products), reported beside the
   candidates. It bounds nothing: on the benchmark the best LR sat 75-350x below the
   initial ceiling on the neural networks and 1.35x above it on logistic regression.
4. **search** — two rungs of compressed runs (the whole schedule in a fraction of the
   updates), within what is left of the budget: a factor-2 ladder of six peak LRs around
   the range test's value, then, four times longer, the winner and the LRs one and two
   octaves below it (``search_downward``). No rung runs longer than one real run
   (``MAX_RUNG``): a schedule stretched past the real horizon answers another question.
   So the search spends at most 6/4 + 3 = 4.5 runs; a larger budget is not spent, and the
   cost says so. Nor does a first rung run shorter than ``MIN_RUNG_STEPS`` updates: a
   budget too small for that is refused before anything trains (``minimum_budget``), and
   the curvature stage, which bounds nothing, yields its HVPs to the search first.
5. **choice** — the lowest second-rung LR within 2% of that rung's best loss
   (``conservative``), divided by ``horizon_correction(f)``, f being the second rung's
   share of a real run: a compressed run prefers a higher LR than the full run
   (short-horizon bias), by about ``HORIZON_ALPHA * log2(1/f)`` octaves, fitted on the
   benchmark's eight task/schedule pairs at f = 1/16..1/2 (``benchmarks/auto/horizon.py``,
   ``RESULTS.md``). At the default budget (f = 0.09-0.19 on the benchmark's tasks) that
   is 0.8-1.2 octaves, about the constant 2 it replaces; it shrinks as the budget grows
   (0.1 octave at budget 4) and is 0 for a rung of a whole run.

The expected regret is measured, not modelled: what this design's picks cost on the
benchmark's tasks at the same budget (``lrkit.auto.measured``).

Cost is counted in training-run equivalents: updates trained (and HVPs at two gradients
each) divided by the updates of one real run.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from lrkit.auto.measured import MeasuredRegret, measured_regret
from lrkit.auto.prior import Prior, optimizer_prior
from lrkit.auto.search import Trial, conservative, search_downward
from lrkit.errors import ConfigError
from lrkit.tasks import Task, load_task

__all__ = ["HORIZON_ALPHA", "MAX_RUNG", "MIN_RUNG_STEPS", "RANGE_TEST_TRUST", "TIE_TOLERANCE",
           "Recommendation", "Stage", "auto", "check_budget", "horizon_correction",
           "minimum_budget"]

# Short-horizon offset: the best peak LR of runs compressed to a fraction f of a run sits
# about HORIZON_ALPHA * log2(1/f) octaves above the full run's best. Least squares through
# 0 over the benchmark's 8 built-in task/schedule pairs at f = 1/16, 1/8, 1/4, 1/2 (seeds 0
# and 1; benchmarks/auto/horizon.py). The pairs disagree: -1.9 to +5.8 octaves at 1/16-1/4.
HORIZON_ALPHA = 0.35
# The fractions it was measured at end here: below, the offset is not extrapolated.
HORIZON_MIN_FRACTION = 1 / 16
# The longest rung, in runs: a longer one would stretch the schedule past the real run.
MAX_RUNG = 1.0
# The shortest first rung, in updates. One-update rungs were where auto failed worst
# (budget 0.5 on small tasks: median regret 43%, worst 913x over 47 selections;
# benchmarks/auto/RESULTS.md, "Floor round"), and a compressed warmup's first LR is 0, so
# a rung of n updates trains n - 1.
MIN_RUNG_STEPS = 3
# The search: a factor-2 ladder of peak LRs (octaves around the centre), then the winner
# and the LRs SEARCH_BELOW octaves under it, 4x longer.
LADDER_OCTAVES = (-3, 2)
SEARCH_BELOW = 2
# The curvature stage: HVPs on a fixed batch set of this many batches.
CURVATURE_HVPS = 12
CURVATURE_BATCHES = 2
# Second-rung losses within this share of the best count as ties; ties go to the lower LR.
TIE_TOLERANCE = 0.02
# Below this confidence the range test's suggestion is blended with the prior. It is where
# the test's own "too noisy" flag sits (noise > 1/4 of the descent), not a tuned value.
RANGE_TEST_TRUST = 0.5


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of the pipeline: what it found and what it cost.

    Attributes:
        name: ``prior``, ``range test``, ``curvature``, ``search`` or ``choice``.
        summary: one line for people.
        cost_runs: its cost in training-run equivalents.
        data: its numbers, JSON-ready.
    """

    name: str
    summary: str
    cost_runs: float
    data: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """What ``auto`` recommends, why, and what it cost.

    Attributes:
        task: the task's name.
        lr: the peak LR of the task's schedule (the constant LR for a constant schedule).
        schedule: the task's schedule filled with ``lr`` (a JSON spec).
        warmup_steps: warmup updates of that schedule (0 when it has none).
        cost_runs: total selection cost in training-run equivalents.
        stages: the stages in order.
        trials: every compressed run of the search.
        range_test: the range test's result as a dict (for the report), if it ran.
        measured: what auto's picks cost on the benchmark's tasks at this budget (regret
            and octave-error quantiles), None when every candidate diverged.
    """

    task: str
    lr: float
    schedule: dict[str, Any]
    warmup_steps: int
    cost_runs: float
    stages: tuple[Stage, ...]
    trials: tuple[Trial, ...]
    range_test: dict[str, Any] | None = None
    measured: MeasuredRegret | None = None

    @property
    def expected_regret(self) -> float:
        """The mean relative regret (L - L*) / L* of ``measured``; NaN when there is none."""
        return math.nan if self.measured is None else self.measured.mean

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document: ``lr``, ``schedule``, ``cost_runs``, ``stages``, ..."""
        return {
            "task": self.task, "lr": self.lr, "schedule": self.schedule,
            "warmup_steps": self.warmup_steps, "expected_regret": self.expected_regret,
            "cost_runs": self.cost_runs,
            "measured_regret": (None if self.measured is None
                                else dataclasses.asdict(self.measured)),
            "stages": [dataclasses.asdict(s) for s in self.stages],
            "trials": [dataclasses.asdict(t) for t in self.trials],
        }


def horizon_correction(fraction: float) -> float:
    """How many times higher the best LR of runs compressed to ``fraction`` of a run is.

    ``2 ** (HORIZON_ALPHA * log2(1 / f))`` with f clipped to [``HORIZON_MIN_FRACTION``, 1]:
    1 for a whole run (or more), largest at the shortest measured fraction.

    >>> horizon_correction(1.0), horizon_correction(3.0)
    (1.0, 1.0)
    >>> round(horizon_correction(0.25), 3), round(horizon_correction(0.01), 3)
    (1.625, 2.639)
    """
    if not (math.isfinite(fraction) and fraction > 0):
        raise ValueError(f"fraction = {fraction!r}: must be a positive number")
    f = min(max(fraction, HORIZON_MIN_FRACTION), 1.0)
    return float(2.0 ** (HORIZON_ALPHA * math.log2(1.0 / f)))


def _rung_budgets(remaining: float, n_candidates: int, below: int) -> tuple[float, float]:
    """The two rungs' fractions of a run: b and 4b, spending ``remaining``, 4b <= MAX_RUNG.

    >>> _rung_budgets(0.9, 6, 2)
    (0.05, 0.2)
    >>> _rung_budgets(20.0, 6, 2)
    (0.25, 1.0)
    """
    # rung 1 runs 1 + `below` LRs 4x longer than rung 0: n*b + (1 + below)*4b = remaining
    b0 = min(remaining / (n_candidates + 4 * (1 + below)), MAX_RUNG / 4)
    return b0, 4 * b0


def _ladder(center: float, low: int, high: int, ratio: float = 2.0) -> list[float]:
    return [center * ratio ** k for k in range(low, high + 1)]


def _search_floor(task: Task) -> float:
    """The least the search can spend (runs): a first rung of MIN_RUNG_STEPS updates."""
    n_candidates = LADDER_OCTAVES[1] - LADDER_OCTAVES[0] + 1
    return (n_candidates + 4 * (1 + SEARCH_BELOW)) * MIN_RUNG_STEPS / task.total_steps


def _curvature_cost_bound(task: Task) -> float:
    """The most the curvature stage costs (runs): a gradient and two per HVP, per batch."""
    from lrkit.curvature.hvp import GRAD_EQUIVALENTS_PER_HVP

    return (1 + GRAD_EQUIVALENTS_PER_HVP * CURVATURE_HVPS) * CURVATURE_BATCHES / task.total_steps


def minimum_budget(task: Task) -> float:
    """The smallest budget ``auto`` accepts for ``task``: its range test and a search
    whose first rung is MIN_RUNG_STEPS updates long (the curvature stage yields first).

    >>> from lrkit.tasks import builtin_tasks
    >>> round(minimum_budget(builtin_tasks()["breast-cancer-logreg"]()), 3)  # 260 updates
    0.362
    """
    return _range_steps(task.total_steps) / task.total_steps + _search_floor(task)


def _range_steps(total_steps: int) -> int:
    # A sweep long enough to resolve the curve, but a small share of short runs.
    return int(min(100, max(40, round(0.15 * total_steps))))


def check_budget(task: Task, budget: float) -> None:
    """Raise ConfigError unless ``budget`` is a number >= 0.3 and >= ``minimum_budget(task)``.

    >>> from lrkit.tasks import builtin_tasks
    >>> check_budget(builtin_tasks()["digits-mlp"](), 1.0)  # fine: returns None
    """
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not (
            math.isfinite(budget) and budget >= 0.3):
        raise ConfigError(f"budget = {budget!r}: must be a number >= 0.3 (training-run "
                          "equivalents); pass e.g. 1.0")
    least = minimum_budget(task)
    if budget < least:
        # less would leave the search 1-2 update rungs (or a warmup that does not fit)
        raise ConfigError(
            f"budget = {budget!r}: too small for task '{task.name}' ({task.total_steps} "
            f"updates a run): its range test and a search with {MIN_RUNG_STEPS}-update "
            f"first rungs need {least:.3f} runs; pass a budget of at least "
            f"{math.ceil(least * 100) / 100:g}")


def auto(task: Task | str, *, budget: float = 1.0, seed: int = 0, curvature: bool = True,
         progress: Callable[[str, float], None] | None = None) -> Recommendation:
    """Recommend the peak LR (with the task's schedule) at a cost of about ``budget`` runs.

    Args:
        task: an lrkit Task, a built-in name or ``path/file.py:factory``.
        budget: selection budget in training-run equivalents: at least 0.3 and
            ``minimum_budget(task)`` (0.28-0.37 on the built-in tasks; more on tasks of
            only a hundred or two updates). The search spends at most 4.5 runs (no rung is
            longer than one run), so beyond about 4.7 runs a larger budget buys nothing;
            ``cost_runs`` is what was spent.
        seed: seed of every run of the pipeline.
        curvature: measure the sharpness ceiling (skip to save a few HVPs). Skipped, and
            said so, when its HVPs would leave the search first rungs shorter than
            ``MIN_RUNG_STEPS`` updates.
        progress: called as ``progress(stage_name, cost_so_far)`` as stages advance.

    Returns:
        The Recommendation.

    Raises:
        ConfigError: a bad task reference, or a budget below 0.3 or below
            ``minimum_budget(task)`` (raised before anything trains).

    >>> rec = auto("breast-cancer-logreg", budget=0.5, curvature=False)
    >>> [stage.name for stage in rec.stages], rec.lr > 0, rec.cost_runs <= 0.52
    (['prior', 'range test', 'search', 'choice'], True, True)
    """
    if isinstance(task, str):
        task = load_task(task)
    check_budget(task, budget)
    notify = progress or (lambda stage, cost: None)
    stages: list[Stage] = []
    spent = 0.0

    prior = optimizer_prior(task)
    stages.append(Stage("prior", f"{prior.optimizer}: textbook LR {prior.lr:g} "
                        f"(typical {prior.low:g}-{prior.high:g})", 0.0,
                        dataclasses.asdict(prior)))
    notify("prior", spent)

    rt = _range_test(task, seed)
    spent += rt["cost_runs"]
    stages.append(Stage("range test", rt["summary"], rt["cost_runs"], rt["data"]))
    notify("range test", spent)
    center = _ladder_center(rt["data"], prior)

    if curvature and prior.adaptive:
        # Adam's step is set by its preconditioner, not by the raw Hessian: skip the HVPs
        # and leave their cost to the search
        stages.append(Stage("curvature", "skipped: an adaptive optimizer's stable LR does "
                            "not follow from the raw Hessian", 0.0, {}))
    elif curvature and budget - spent - _curvature_cost_bound(task) < _search_floor(task):
        # the curvature bounds nothing: the search's first rungs come first
        stages.append(Stage("curvature", f"skipped: its HVPs (up to "
                            f"{_curvature_cost_bound(task):.2f} runs) would leave the search "
                            f"first rungs under {MIN_RUNG_STEPS} updates; a larger budget "
                            "runs it", 0.0, {}))
    elif curvature:
        cv = _curvature(task, prior, seed)
        spent += cv.cost_runs
        stages.append(cv)
        notify("curvature", spent)

    # The ladder spans 1/8x .. 4x the range test's peak LR: compressed runs favour LRs above
    # the full run's best, and the range test's value can be off by an octave either way.
    candidates = _ladder(center, *LADDER_OCTAVES)
    # what the range test and curvature left, but never under the floor (a range test that
    # extended its sweep can cost more than planned); rounding each run to whole updates
    # can overshoot the budget by a few updates
    remaining = max(budget - spent, _search_floor(task))
    below = SEARCH_BELOW
    b0, b1 = _rung_budgets(remaining, len(candidates), below)
    capped = b1 >= MAX_RUNG
    trials = search_downward(task, candidates, budgets=(b0, b1), below=below, seed=seed,
                             on_trial=lambda t: notify("search", spent + t.cost_runs))
    search_cost = sum(t.cost_runs for t in trials)
    spent += search_cost
    unsure = center != rt["peak_lr"]
    stages.append(Stage(
        "search", f"{len(candidates)} LRs around {center:.3g}"
        + (" (range test unsure: pulled towards the prior)" if unsure else "")
        + f" at {b0:.0%} of a run, then the best and {below} below it at {b1:.0%}"
        + (" (rungs capped at one run: the rest of the budget is not spent)" if capped
           else ""),
        search_cost, {"center": center, "candidates": candidates, "budgets": [b0, b1],
                      "below": below, "capped": capped}))

    choice = _choose(trials, center)
    schedule = task.lr_schedule(choice.lr)
    spec = schedule.to_spec()
    stages.append(Stage("choice", choice.summary, 0.0, choice.data))
    notify("choice", spent)
    measured = None if choice.fallback else measured_regret(budget)
    return Recommendation(task=task.name, lr=choice.lr, schedule=spec,
                          warmup_steps=_warmup_steps(spec), cost_runs=round(spent, 4),
                          stages=tuple(stages), trials=tuple(trials),
                          range_test=rt["result"], measured=measured)


def _range_test(task: Task, seed: int) -> dict[str, Any]:
    from lrkit.rangetest import find

    steps = _range_steps(task.total_steps)
    result = find(task, steps=steps, seed=seed)
    peak = result.peak_lr if result.peak_lr is not None else result.suggestion
    summary = (f"{steps}-update sweep: constant LR {result.suggestion:.3g}, "
               f"peak {peak:.3g} for the task's schedule"
               + (f" ({'; '.join(result.flags)})" if result.flags else ""))
    data = {"suggestion": result.suggestion, "peak_lr": peak, "range": list(result.range),
            "flags": list(result.flags), "confidence": result.confidence, "steps": steps}
    return {"cost_runs": float(result.cost_runs or 0.0), "peak_lr": float(peak),
            "summary": summary, "data": data, "result": result.to_dict()}


def _ladder_center(rt: dict[str, Any], prior: Prior) -> float:
    """The search's centre: the range test's peak LR, pulled towards the prior when unsure.

    Below ``RANGE_TEST_TRUST`` the centre is the geometric blend
    ``suggestion**c * prior**(1 - c)`` (c = the test's confidence), mapped to the
    schedule's peak as the test maps its own suggestion. On the benchmark's noisy
    regression 40-update sweeps missed the best LR by 0.6-1.7 decades, 9 times in 10
    with confidence 0-0.45, while AdamW's textbook 1e-3 sat 0.3 decades above it.

    >>> prior = Prior("adamw", 1e-3, 1e-5, 1e-2, 0.9, True, "adamw")
    >>> _ladder_center({"peak_lr": 0.02, "suggestion": 0.01, "confidence": 0.9}, prior)
    0.02
    >>> round(_ladder_center({"peak_lr": 0.02, "suggestion": 0.01, "confidence": 0.0}, prior), 6)
    0.002
    """
    peak, suggestion, c = rt["peak_lr"], rt["suggestion"], rt["confidence"]
    if not (math.isfinite(peak) and math.isfinite(suggestion) and suggestion > 0):
        return prior.lr
    if c >= RANGE_TEST_TRUST:
        return float(peak)
    blend = suggestion ** c * prior.lr ** (1.0 - c)
    return float(peak * blend / suggestion)


def _curvature(task: Task, prior: Prior, seed: int) -> Stage:
    from lrkit.curvature import fixed_batches, hessian_top_eigenvalue, sgd_bounds
    from lrkit.tasks import seeded_rng

    with seeded_rng(seed):
        model = task.model()
        batches = fixed_batches(task.train_data, task.batch_size, CURVATURE_BATCHES)
        est = hessian_top_eigenvalue(model, task.loss_fn, batches, max_hvps=CURVATURE_HVPS)
    examples = est.grad_equivalents * est.examples
    cost = examples / (task.total_steps * task.batch_size)
    bounds = sgd_bounds(est.value, momentum=prior.momentum)
    summary = (f"sharpness {est.value:.3g} at init: stability ceiling "
               f"{bounds.max_stable_lr:.3g}, quadratic optimum {bounds.quadratic_optimal_lr:.3g}")
    return Stage("curvature", summary, cost,
                 {"sharpness": est.value, "hvps": est.hvps,
                  "max_stable_lr": bounds.max_stable_lr,
                  "quadratic_optimal_lr": bounds.quadratic_optimal_lr})


@dataclasses.dataclass(frozen=True)
class _Choice:
    lr: float
    fallback: bool  # every candidate diverged: the range test's LR, unsearched
    summary: str
    data: dict[str, Any]


def _choose(trials: list[Trial], fallback_lr: float) -> _Choice:
    last = max((t.rung for t in trials), default=0)
    best = conservative([t for t in trials if t.rung == last], TIE_TOLERANCE)
    if best is None:
        return _Choice(fallback_lr, True, "every candidate diverged: kept the range "
                       "test's LR", {"reason": "all diverged"})
    # the rung's real share of a run (its updates / the run's), as it was trained
    fraction = best.cost_runs
    factor = horizon_correction(fraction)
    lr = best.lr / factor
    summary = (f"LR {lr:.3g}: lowest of the longest compressed runs ({fraction:.0%} of a "
               f"run) within {TIE_TOLERANCE:.0%} of the best, {best.lr:.3g} (val loss "
               f"{best.loss:.4g}), / {factor:.3g} for the full run's longer horizon "
               f"({HORIZON_ALPHA:g} x log2(1/{fraction:.2g}) octaves)")
    return _Choice(lr, False, summary,
                   {"best_candidate": best.lr, "best_loss": best.loss,
                    "tie_tolerance": TIE_TOLERANCE, "rung_fraction": fraction,
                    "horizon_alpha": HORIZON_ALPHA, "horizon_correction": factor})


def _warmup_steps(spec: dict[str, Any]) -> int:
    if spec.get("family") == "join" and spec["pieces"][0]["family"] in (
            "linear_warmup", "exponential_warmup"):
        return int(spec["boundaries"][0])
    return 0
