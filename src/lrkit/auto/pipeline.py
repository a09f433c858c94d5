"""``auto``: one LR recommendation for a task, at a stated cost.

The stages, each a ``Stage`` in the result (name, one-line summary, cost, numbers):

1. **budget** — the design (``lrkit.auto.design``) fitted to the task's budget: a short
   run gets a shorter range test, no scout, fewer candidates, and the stage says what was
   dropped. Nothing is refused.
2. **prior** — the calculator's textbook LR for the task's optimizer (free).
3. **range test** — ``lrkit.rangetest.find`` on a short sweep; its constant-LR suggestion
   mapped to the schedule's peak is where the search starts (pulled towards the prior when
   the test doubts its own curve, and kept within ``prior_octaves`` of it), and the LR
   where the sweep diverged caps the ladder and the choice.
4. **curvature** — optional (off by default: it cost up to a third of a run and bounded
   nothing): the sharpness at initialisation and the stability ceiling it implies.
5. **search** — first a *scout*: short runs (``scout_fraction`` of a run) on a coarse
   ladder (factor 4) around the range test's centre and towards the prior, grown past an
   edge that holds the best, to find the bowl; then a factor-2 *ladder* of three longer
   runs centred on the scout's minimum. They take what the budget has left once the
   range test's, the scout's and the validation passes' real costs are known (a sixth
   of a run each, median on the zoo; at most ``max_rung``, at least ``min_rung_steps``),
   so a selection costs its budget, and more only where those floors bind. Every run of
   a stage shares one seed (common random numbers: initial weights, data order,
   dropout). When no run beats the untrained model's validation loss, the candidates are
   ranked by their training loss instead, and the output says so.
6. **choice** — the minimum of a quadratic fitted to the ladder's losses (not the best
   grid point), moved down for the full run's longer horizon by a prior slope
   (``horizon_alpha`` octaves per octave of length, measured across the zoo's dev pairs
   by ``benchmarks/auto/horizon.py``), never above the stability ceiling, and rounded to
   ``2**(1/4)`` steps. The ceiling is the lowest LR seen unstable (the range test's
   divergence; a search run that diverged or ended above three times the best loss), each
   moved down by ``horizon_margin`` octaves per octave between the length of the sweep or
   run that showed it and the full run's (a longer run destabilises at a lower LR), and
   the highest LR a search run trained stably (no extrapolation past what was seen to
   train). The arithmetic of this stage is ``lrkit.auto.choice``.

Cost is gradient work in units of the user's full run: every candidate's updates, the
range test, the HVPs (two gradients each) and validation passes (a third each),
divided by the updates of one real run. Wall-clock seconds are reported beside it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

from lrkit.auto.choice import (
    choose,
    estimate,
    instability_margin,
    on_grid,
    stability_ceilings,
    unstable_lrs,
)
from lrkit.auto.design import DEFAULT_DESIGN, MIN_RUN_STEPS, Design, Fitted, fit_to_budget
from lrkit.auto.executor import Executor, as_executor
from lrkit.auto.measured import MeasuredRegret, measured_regret
from lrkit.auto.pick import smooth_minimum
from lrkit.auto.prior import Prior, builtin_warmup_octaves, optimizer_prior
from lrkit.auto.runs import RunCache, Runner, Trainer, default_trainer, run_key
from lrkit.auto.search import (
    Trial,
    best_at,
    best_lr,
    by_train_loss,
    eval_updates,
    extend_edges,
    pooled,
    run_block,
    run_many,
)
from lrkit.errors import ConfigError
from lrkit.tasks import Task, load_task

__all__ = ["MIN_BUDGET", "Recommendation", "Stage", "auto", "check_budget"]

# The least budget that still buys a search (a few compressed runs); it does not depend on
# the task: a short task gets a smaller design instead of a refusal.
MIN_BUDGET = 0.05


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of the pipeline: what it found and what it cost.

    Attributes:
        name: ``budget``, ``prior``, ``range test``, ``curvature``, ``search`` or ``choice``.
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
        cost_runs: total selection cost in training-run equivalents (gradient work).
        stages: the stages in order.
        trials: every compressed run of the search.
        range_test: the range test's result as a dict (for the report), if it ran.
        measured: what auto's picks cost on the zoo's test pairs (regret and octave-error
            quantiles), None when every candidate diverged.
        notes: what the user should know (stages that disagree by more than a decade, what
            a short budget dropped, why the budget went where it went).
        seconds: wall-clock seconds of the whole call (cached runs count their own time).
        design: the design that ran (after fitting to the budget), as a dict.
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
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    design: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def expected_regret(self) -> float:
        """The mean relative regret (L - L*) / L* of ``measured``; NaN when there is none."""
        return math.nan if self.measured is None else self.measured.mean

    def stage(self, name: str) -> Stage | None:
        """The stage called ``name``, or None when it did not run."""
        return next((s for s in self.stages if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document: ``lr``, ``schedule``, ``cost_runs``, ``stages``, ..."""
        return {
            "task": self.task, "lr": self.lr, "schedule": self.schedule,
            "warmup_steps": self.warmup_steps, "expected_regret": self.expected_regret,
            "cost_runs": self.cost_runs, "seconds": round(self.seconds, 3),
            "measured_regret": (None if self.measured is None
                                else dataclasses.asdict(self.measured)),
            "notes": list(self.notes),
            "stages": [dataclasses.asdict(s) for s in self.stages],
            "trials": [dataclasses.asdict(t) for t in self.trials],
            "design": self.design,
        }


def check_budget(task: Task | None, budget: Any, max_budget: Any = None) -> None:
    """Raise ConfigError unless ``budget`` (and ``max_budget``) are numbers >= MIN_BUDGET.

    Such a budget runs on any task (``task`` is accepted for callers that check a
    task's budget; it no longer limits it): a small one gets a smaller design
    (``fit_to_budget``).

    >>> check_budget(None, 1.0, 2.0)  # fine: returns None
    """
    for name, value in (("budget", budget), ("max_budget", max_budget)):
        if value is None and name == "max_budget":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                math.isfinite(value) and value >= MIN_BUDGET):
            raise ConfigError(parameter=name, value=value,
                              rule=f"must be a number >= {MIN_BUDGET:g} (training-run "
                                   "equivalents)", fix="pass e.g. 1.0")
    if max_budget is not None and max_budget < budget:
        raise ConfigError(parameter="max_budget", value=max_budget,
                          rule=f"must be >= --budget ({budget!r})", fix=f"pass e.g. {2 * budget:g}")


def auto(task: Task | str, *, budget: float = 1.0, max_budget: float | None = None,
         seed: int = 0, curvature: bool | None = None, design: Design = DEFAULT_DESIGN,
         trainer: Trainer | None = None, cache: RunCache | None = None,
         progress: Callable[[str, float], None] | None = None,
         executor: Executor | None = None) -> Recommendation:
    """Recommend the peak LR (with the task's schedule) at a cost of about ``budget`` runs.

    Args:
        task: an lrkit Task, a built-in name or ``path/file.py:factory``.
        budget: what to spend when the estimate is tight, in training-run equivalents
            (gradient work of the user's full run), at least ``MIN_BUDGET``; a small one
            gets a smaller design, and the output says what it dropped.
        max_budget: the most it may spend when a miss would be costly (default: twice
            ``budget``).
        seed: seed of block 0 (block b uses ``seed + b``).
        curvature: measure the sharpness ceiling (SGD family, when the budget affords
            it): True or False overrides the design's ``curvature`` (off as shipped).
        design: the pipeline's knobs (``lrkit.auto.design.DEFAULT_DESIGN`` ships).
        trainer: ``(task, lr, seed, total_steps) -> TrainResult`` (default
            ``lrkit.tasks.train``); the range test and curvature use the task directly.
        cache: a run cache (``lrkit.auto.runs.JsonlRunCache``); None trains every run.
        progress: called as ``progress(stage_name, cost_so_far)`` as stages advance.
        executor: where each batch of candidate runs trains
            (``lrkit.auto.Executor(workers=N, backend="ray", storage=URL)``); None: here,
            one after another. Same runs, same pick, same cost; less wall-clock.

    Returns:
        The Recommendation.

    Raises:
        ConfigError: a bad task reference or budget.

    >>> rec = auto("breast-cancer-logreg")
    >>> [s.name for s in rec.stages]
    ['budget', 'prior', 'range test', 'search', 'choice']
    >>> rec.lr > 0 and rec.cost_runs <= 2.0  # about 1, never above max_budget (2)
    True
    """
    started = time.perf_counter()
    executor = as_executor(executor, task if isinstance(task, str) else None)
    if isinstance(task, str):
        task = load_task(task)
    if not isinstance(design, Design):
        raise ConfigError(f"design = {type(design).__name__}: must be an "
                          "lrkit.auto.design.Design; pass e.g. DEFAULT_DESIGN")
    check_budget(task, budget, max_budget)
    top = 2.0 * budget if max_budget is None else float(max_budget)
    if curvature is not None:
        design = dataclasses.replace(design, curvature=bool(curvature))
    notify = progress or (lambda stage, cost: None)
    runner = Runner(trainer or default_trainer, cache, executor=executor)
    stages: list[Stage] = []
    notes: list[str] = []

    prior = optimizer_prior(task)
    fitted = fit_to_budget(design, task.total_steps, budget, adaptive_optimizer=prior.adaptive)
    d = fitted.design
    stages.append(_budget_stage(task, budget, top, fitted))
    notes += [f"short budget: {line}" for line in fitted.dropped]
    stages.append(Stage("prior", f"{prior.optimizer}: textbook LR {prior.lr:g} "
                        f"(typical {prior.low:g}-{prior.high:g})", 0.0,
                        dataclasses.asdict(prior)))
    notify("prior", 0.0)
    spent = 0.0

    rt: dict[str, Any] | None = None
    if d.range_test:
        rt = runner.memo(run_key(task, 0.0, seed, fitted.range_steps) + "/range test",
                         lambda: _range_test(task, seed, fitted.range_steps), task)
        spent += rt["cost_runs"]
        stages.append(Stage("range test", rt["summary"], rt["cost_runs"], rt["data"]))
        notify("range test", spent)
    centre, unsure = _ladder_center(rt["data"] if rt else None, prior, d.range_test_trust)
    # zoo pairs' best LRs lie within 11 octaves of the textbook value: a range-test centre
    # further out is a failed sweep (a flat loss), not a finding
    centre = on_grid(min(max(centre, prior.lr / 2.0 ** d.prior_octaves),
                          prior.lr * 2.0 ** d.prior_octaves), d.grid)

    curv: Stage | None = None
    if d.curvature:
        curv = Stage(**runner.memo(
            run_key(task, 0.0, seed, d.curvature_hvps) + "/curvature",
            lambda: dataclasses.asdict(_curvature(task, prior, seed, d)), task))
        spent += curv.cost_runs
        stages.append(curv)
        notify("curvature", spent)

    # the range test's divergence point caps the ladder and the choice: it is a constant
    # LR that blew up within a few updates, so a peak above it is not worth a run
    rt_ceiling = rt["data"]["diverged_at"] if rt and rt["data"]["diverged_at"] else math.inf
    steps = fitted.rung_steps
    seeds = [seed + b for b in range(d.blocks)]
    trials: list[Trial] = []
    scout: list[Trial] = []

    def tick(t: Trial) -> None:
        notify("search", spent + sum(x.cost_runs for x in trials + scout) + t.cost_runs)

    # the untrained model's validation loss: a search in which no run beats it has no
    # validation signal at its length (the val set may hold what training reaches late)
    untrained = runner.memo(run_key(task, 0.0, seed, 0) + "/untrained",
                            lambda: {"loss": _untrained_loss(task, seed)})["loss"]
    pre_search = spent
    spent += _eval_cost(task)
    metric = "val"
    scout_min: float | None = None
    if d.scout:
        scout, centre, scout_min, metric = _scout(task, runner, centre, prior, seeds[0],
                                                  fitted.scout_steps, steps, d, rt_ceiling,
                                                  tick, untrained)
        spent += sum(t.cost_runs for t in scout)
    ladder = _ladder(centre, d, rt_ceiling)
    # the plan kept a share of the budget back for what it could not know in advance;
    # the range test's, the scout's and the validation passes' real costs are known now,
    # so the ladder's runs (and any planned extensions) take what is left: longer when
    # the plan was cautious (longer runs see further), shorter when the scout grew
    n_runs = (len(ladder) + d.extend_max) * d.blocks + (
        len(ladder) * d.horizon_ratio if d.horizon_probe else 0.0)
    floor = min(steps, d.min_rung_steps) if d.fill_down else steps
    steps = _fill_budget(task, floor, budget - spent, n_runs, d.max_rung)
    if scout_min is not None and d.scout_real_length:
        centre = _scout_centre(scout_min, prior, d, fitted.scout_steps, steps)
        ladder = _ladder(centre, d, rt_ceiling)
    trials += run_block(task, runner, ladder, block=0, seed=seeds[0], steps=steps,
                        on_trial=tick, metric=metric)
    if metric == "val" and _no_signal(trials, untrained):
        metric, trials = "train", by_train_loss(trials)
    if metric == "train":
        notes.append(f"no search run improved on the untrained model's validation loss "
                     f"({untrained:.4g}): candidates were ranked by their training loss "
                     "(check that the validation set resembles the training data)")
    # extensions are paid from what the plan leaves under max_budget
    one = _run_cost(task, trials, steps)
    planned = (d.blocks - 1) * len(ladder) * one + (
        len(ladder) * one * d.horizon_ratio if d.horizon_probe else 0.0)
    afford = int((top - spent - sum(t.cost_runs for t in trials) - planned)
                 / (one * d.blocks))
    # without a scout the ladder has to find the bowl itself: it may grow as far
    most = d.extend_max if d.scout else max(d.extend_max, d.scout_extend)
    # extend_up off: grow only downwards (a pick too high costs more than one too low)
    up_to = rt_ceiling if d.extend_up or not d.scout else \
        min(rt_ceiling, max(t.lr for t in trials) * 1.0001)
    trials = extend_edges(task, runner, trials, seeds=seeds[:1], steps=steps,
                          ratio=d.ladder_ratio, most=max(0, min(most, afford)),
                          ceiling=up_to, on_trial=tick, metric=metric)
    extensions = len({t.lr for t in trials}) - len(ladder)
    # the other blocks train block 0's LRs near its best: far ones only located the bowl
    local = _local_ladder(trials, d)
    for b in range(1, d.blocks):
        trials += run_block(task, runner, local, block=b, seed=seeds[b], steps=steps,
                            on_trial=tick)
    trials, more = _extend_all(task, runner, trials, seeds, steps, d, up_to, tick,
                               extensions, top - spent)
    extensions += more
    climbed = _climb(task, runner, trials, seeds, steps, d, up_to, tick, top - spent, metric)
    trials, extensions = trials + climbed, extensions + len({t.lr for t in climbed})

    probe: list[Trial] = []
    probe_steps = max(MIN_RUN_STEPS, round(steps * d.horizon_ratio))
    if d.horizon_probe:
        around = _probe_ladder(trials, d)
        probe = run_block(task, runner, around, block=0, seed=seeds[0], steps=probe_steps,
                          rung=1, on_trial=tick)

    warmup = _warmup_shift(prior, d, steps, task.total_steps)
    est = estimate(trials, probe, d, task.total_steps, steps, probe_steps, warmup)
    added: list[str] = []
    while est is not None and len(seeds) < d.max_blocks:
        common = {lr for lr, _ in pooled(trials)}
        block_cost = sum(t.cost_runs for t in trials
                         if t.block == 0 and t.rung == 0 and t.lr in common)
        so_far = spent + sum(t.cost_runs for t in trials + probe)
        if est["fit_regret"] <= d.adaptive_threshold:
            break
        if so_far + block_cost > top + 1e-9:
            added.append(f"a miss could cost {est['fit_regret']:.1%} but another block "
                         f"({block_cost:.2f} runs) would pass --max-budget {top:g}")
            break
        added.append(f"block {len(seeds)} added: spread {est['fit_sd']:.2f} octaves x "
                     f"steepness {est['k_high']:.2f}/octave^2 -> expected miss "
                     f"{est['fit_regret']:.1%} > {d.adaptive_threshold:.0%}")
        seeds.append(seed + len(seeds))
        trials += run_block(task, runner, [lr for lr, _ in pooled(trials)],
                            block=len(seeds) - 1, seed=seeds[-1], steps=steps, on_trial=tick)
        trials, more = _extend_all(task, runner, trials, seeds, steps, d, up_to, tick,
                                   extensions, top - spent)
        extensions += more
        est = estimate(trials, probe, d, task.total_steps, steps, probe_steps, warmup)
    if est is not None and not added and d.max_blocks > d.blocks:
        added.append(f"stopped at {len(seeds)} block(s): expected miss from the spread "
                     f"{est['fit_regret']:.1%} <= {d.adaptive_threshold:.0%}")
    # the search stage's cost: the untrained loss's validation pass, scout, ladder, probe
    search_cost = _eval_cost(task) + sum(t.cost_runs for t in trials + probe + scout)
    spent = pre_search + search_cost
    n_lrs = len({t.lr for t in trials if t.rung == 0})
    searched = pooled(trials)  # the search's curve, before the probe, scout and confirm runs
    stages.append(Stage(
        "search",
        f"{n_lrs} LRs around {centre:.3g}"
        + (" (range test unsure: pulled towards the prior)" if unsure else "")
        + f" x {len(seeds)} seeded block(s) at {steps} updates ({steps / task.total_steps:.0%}"
        f" of a run)" + (f", ladder extended {extensions}x past an edge" if extensions else "")
        + (f", horizon probe at {probe_steps} updates" if probe else "")
        + (f", centred by a scout of {len(scout)} LRs at {fitted.scout_steps} updates"
           if scout else "") + "; "
        + "; ".join(added),
        search_cost,
        {"center": centre, "ladder": sorted({t.lr for t in trials if t.rung == 0}),
         "steps": steps, "probe_steps": probe_steps if probe else 0, "blocks": len(seeds),
         "scout_steps": fitted.scout_steps if scout else 0,
         "scout_curve": [[lr, loss] for lr, loss in pooled(scout, rung=2)],
         "seeds": seeds, "extensions": extensions, "budget_reasons": added,
         "curve": [[lr, loss] for lr, loss in searched],
         "best_at": best_at(searched)}))
    trials += probe + scout

    rt_steps = rt["data"]["steps"] if rt else 0
    ceilings = stability_ceilings(rt_ceiling, trials, d, task.total_steps, untrained, rt_steps)
    choice = choose(est, ceilings, centre, d)
    stages.append(Stage("choice", choice["summary"], 0.0, choice["data"]))
    notify("choice", spent)
    confirmed = None if choice["fallback"] else _confirm(
        task, runner, choice, d, seeds[0], steps, top - spent, untrained, rt_ceiling, metric,
        tick, prior)
    if confirmed is not None:
        stage, runs, lr = confirmed
        stages.append(stage)
        trials += runs
        spent += stage.cost_runs
        choice["lr"] = lr
        notify("confirm", spent)
    notes += [f"budget: {line}" for line in added if "added" in line or "pass" in line]
    notes += _disagreements(choice["lr"], prior, rt, curv, est, d)
    schedule = task.lr_schedule(choice["lr"])
    spec = schedule.to_spec()
    measured = None if choice["fallback"] else measured_regret(budget)
    if measured is not None and not d.confirm_edge and best_at(searched) == "high":
        notes.append(_top_edge_note(measured, searched[-1][0]))
    return Recommendation(task=task.name, lr=float(choice["lr"]), schedule=spec,
                          warmup_steps=_warmup_steps(spec), cost_runs=round(spent, 4),
                          stages=tuple(stages), trials=tuple(trials),
                          range_test=rt["result"] if rt else None, measured=measured,
                          notes=tuple(notes), seconds=time.perf_counter() - started,
                          design=d.to_dict())


def _top_edge_note(m: MeasuredRegret, top: float) -> str:
    """Say that the search's best run was its highest LR, what such picks measured, and
    the knob that re-checks them."""
    rates = (f": on the held-out zoo pairs {m.top_edge_miss:.0%} of such picks missed the "
             f"best LR's loss by more than {m.miss_regret:.0%} ({m.other_miss:.0%} of the "
             "others)" if m.top_edge_miss is not None else "")
    return (f"the best search run was the highest LR tried ({top:.3g}): the short runs had "
            f"not turned, so this pick is the least certain kind{rates}; the confirm_edge "
            "knob re-checks it at longer runs, within max_budget "
            "(`lrkit auto --design confirm_edge=true`)")


def _budget_stage(task: Task, budget: float, max_budget: float, fitted: Fitted) -> Stage:
    d = fitted.design
    plan = (f"{task.total_steps} updates a run; budget {budget:g} (up to {max_budget:g}): "
            + (f"{fitted.range_steps}-update range test, " if fitted.range_steps else "")
            + f"{fitted.n_candidates} LRs"
            + (f" and {d.extend_max} past the better edge" if d.extend_max else "")
            + f" x {d.blocks} block(s) of runs of about "
            f"{fitted.rung_steps} updates (sized to what the budget leaves once the "
            "earlier stages ran)")
    if fitted.dropped:
        plan += "; dropped for the budget: " + "; ".join(fitted.dropped)
    return Stage("budget", plan, 0.0,
                 {"budget": budget, "max_budget": max_budget, "total_steps": task.total_steps,
                  "range_steps": fitted.range_steps, "rung_steps": fitted.rung_steps,
                  "n_candidates": fitted.n_candidates, "dropped": list(fitted.dropped)})


def _ladder(centre: float, d: Design, ceiling: float) -> list[float]:
    """The ladder's LRs around ``centre`` (factor ``ladder_ratio``), below ``ceiling``."""
    ladder = [centre * d.ladder_ratio ** k for k in range(d.ladder_low, d.ladder_high + 1)]
    return [lr for lr in ladder if lr < ceiling] or [ceiling / d.ladder_ratio]


def _scout_centre(x: float, prior: Prior, d: Design, steps: int, main_steps: int) -> float:
    """The ladder's centre: the scout's minimum ``2**x`` (from ``steps``-update runs) moved
    down for ``main_steps``-update runs (``horizon_alpha``, and the optimizer's own warm-up
    with ``builtin_warmup``), on the grid."""
    shift = d.horizon_alpha * max(0.0, math.log2(main_steps / steps)) \
        + _warmup_shift(prior, d, steps, main_steps)
    return on_grid(2.0 ** (x - shift), d.grid)


def _scout(task: Task, runner: Runner, centre: float, prior: Prior, seed: int, steps: int,
           main_steps: int, d: Design, ceiling: float, tick: Callable[[Trial], None],
           untrained: float) -> tuple[list[Trial], float, float | None, str]:
    """Short runs on a coarse ladder (factor ``scout_ratio``) around ``centre``, grown past
    an edge that holds the best; returns them, the ladder's new centre (the scout's minimum
    moved to ``main_steps``-update runs by ``_scout_centre``; one step below the lowest LR
    when every run diverged), that minimum (log2 LR; None when every run diverged) and the
    metric."""
    half = d.scout_candidates // 2
    lrs = [centre * d.scout_ratio ** k for k in range(-half, d.scout_candidates - half)]
    # a range test far from the textbook LR is as often a failed sweep as a finding: the
    # coarse ladder also reaches towards the prior (up to scout_candidates more runs)
    step = math.log2(d.scout_ratio)
    toward = round(math.log2(prior.lr / centre) / step)
    for _ in range(min(abs(toward), d.scout_candidates)):
        edge = max(lrs) if toward > 0 else min(lrs)
        lrs.append(edge * d.scout_ratio ** (1 if toward > 0 else -1))
    lrs = sorted(lr for lr in lrs if lr < ceiling) or [ceiling / d.scout_ratio]
    runs = run_block(task, runner, lrs, block=0, seed=seed, steps=steps, rung=2, on_trial=tick)
    metric = "val"
    if _no_signal(runs, untrained):
        metric, runs = "train", by_train_loss(runs)
    # past an edge in growing steps (a range test can be many octaves off), then the
    # gaps beside the best halved down to the scout's spacing
    runs = extend_edges(task, runner, runs, seeds=[seed], steps=steps, ratio=d.scout_ratio,
                        most=d.scout_extend, ceiling=ceiling, rung=2, on_trial=tick,
                        metric=metric)
    curve = pooled(runs, rung=2)
    if not any(math.isfinite(loss) for _, loss in curve):
        return runs, on_grid(min(lrs) / d.scout_ratio, d.grid), None, metric
    best = math.log2(best_lr(curve))
    m = smooth_minimum([math.log2(lr) for lr, _ in curve], [loss for _, loss in curve],
                       window=2 * math.log2(d.scout_ratio))
    x = m.x if m.fitted else best
    return runs, _scout_centre(x, prior, d, steps, main_steps), x, metric


def _warmup_shift(prior: Prior, d: Design, short: int, long: int) -> float:
    """Octaves the optimizer's own warm-up moves the best LR down from ``short`` to
    ``long`` updates (RAdam; 0 for other optimizers or with ``builtin_warmup`` off)."""
    return builtin_warmup_octaves(prior.rectified_beta2, short, long) \
        if d.builtin_warmup else 0.0


def _no_signal(trials: list[Trial], untrained: float) -> bool:
    """True when no finite run ended below the untrained model's validation loss."""
    return math.isfinite(untrained) and not any(
        math.isfinite(t.loss) and t.loss < untrained * (1 - 1e-3) for t in trials)


def _untrained_loss(task: Task, seed: int) -> float:
    """The validation loss of the model as ``train(task, lr, seed)`` initialises it."""
    from lrkit.device import evaluate, model_device
    from lrkit.tasks import seeded_rng
    from lrkit.tasks.data import fixed_batches

    with seeded_rng(seed):
        model = task.model()
    return float(evaluate(model, task.loss_fn, fixed_batches(task.val_data, 512),
                          model_device(model), task.forward))


def _fill_budget(task: Task, planned: int, left: float, n_runs: float,
                 max_rung: float) -> int:
    """The longest search run, from ``planned`` (a floor) up to ``max_rung`` of a run, of
    which ``n_runs`` with their validation passes (one per epoch begun) cost at most
    ``left`` runs of ``task``.

    >>> from lrkit.tasks import builtin_tasks
    >>> task = builtin_tasks()["breast-cancer-logreg"]()
    >>> task.total_steps, task.steps_per_epoch
    (260, 26)
    >>> _fill_budget(task, 40, 0.8, 3, 0.25), _fill_budget(task, 40, 0.3, 3, 0.25)
    (60, 40)
    """
    T = task.total_steps
    best = planned
    for steps in range(planned + 1, int(max_rung * T) + 1):
        evals = math.ceil(steps / task.steps_per_epoch)
        if n_runs * (steps + eval_updates(task, evals)) / T > left + 1e-12:
            break
        best = steps
    return best


def _eval_cost(task: Task) -> float:
    """One validation pass in runs (a forward pass is a third of an update)."""
    return len(task.val_data) / (3.0 * task.batch_size) / task.total_steps


def _run_cost(task: Task, trials: list[Trial], steps: int) -> float:
    """The cost of one ladder run: a trained one's, else its updates' share of a run."""
    return next((t.cost_runs for t in trials if t.rung == 0), steps / task.total_steps)


def _extend_all(task: Task, runner: Runner, trials: list[Trial], seeds: list[int],
                steps: int, d: Design, ceiling: float, tick: Callable[[Trial], None],
                done: int, room: float) -> tuple[list[Trial], int]:
    """Extend past an edge across every block (the pooled best moved to an edge), within
    ``room`` runs of cost."""
    before = len(trials)
    one = _run_cost(task, trials, steps)
    afford = int((room - sum(t.cost_runs for t in trials)) / (one * len(seeds)))
    trials = extend_edges(task, runner, trials, seeds=seeds, steps=steps,
                          ratio=d.ladder_ratio, most=max(0, min(d.extend_max - done, afford)),
                          ceiling=ceiling, on_trial=tick)
    return trials, len({t.lr for t in trials[before:]})


def _climb(task: Task, runner: Runner, trials: list[Trial], seeds: list[int], steps: int,
           d: Design, ceiling: float, tick: Callable[[Trial], None],
           room: float, metric: str) -> list[Trial]:
    """Runs one ladder step above the top while the top holds the pooled best (at most
    ``extend_top``), within ``room`` runs of cost: a curve still falling at its top edge
    has not shown where the short runs' bowl is."""
    new: list[Trial] = []
    one = _run_cost(task, trials, steps)
    for _ in range(d.extend_top):
        curve = pooled(trials + new)
        spent = sum(t.cost_runs for t in trials + new)
        # best_at counts a diverged top run as the top: no climb past an instability
        if best_at(curve) != "high" or spent + one * len(seeds) > room:
            break
        lr = curve[-1][0] * d.ladder_ratio
        if lr >= ceiling:
            break
        new += run_many(task, runner, [(lr, b, s) for b, s in enumerate(seeds)],
                        steps=steps, on_trial=tick, metric=metric)
    return new


def _local_ladder(trials: list[Trial], d: Design) -> list[float]:
    """Block 0's LRs within ``fit_window`` octaves of its best (at least its neighbours)."""
    mine = sorted((t.lr, t.loss) for t in trials if t.block == 0 and t.rung == 0)
    finite = [p for p in mine if math.isfinite(p[1])]
    if not finite:
        return [lr for lr, _ in mine]
    best = min(finite, key=lambda p: (p[1], p[0]))[0]
    lrs = [lr for lr, _ in mine]
    i = lrs.index(best)
    span = d.ladder_ratio ** d.fit_window * 1.01
    keep = {lr for lr in lrs if best / span <= lr <= best * span}
    keep |= set(lrs[max(0, i - 1): i + 2])
    return sorted(keep)


def _probe_ladder(trials: list[Trial], d: Design) -> list[float]:
    """The probe's LRs: block 0's finite LRs within ``fit_window`` octaves of its best,
    plus one step above (a shorter run prefers a higher LR)."""
    mine = [(t.lr, t.loss) for t in trials if t.block == 0 and t.rung == 0]
    finite = [p for p in mine if math.isfinite(p[1])]
    if not finite:
        return []
    best = min(finite, key=lambda p: (p[1], p[0]))[0]
    span = d.ladder_ratio ** d.fit_window
    lrs = sorted({lr for lr, _ in finite if best / span <= lr <= best * span})
    top = lrs[-1] * d.ladder_ratio
    if top not in {lr for lr, _ in mine}:  # one step up, unless block 0 saw it diverge
        lrs.append(top)
    return lrs


def _confirm(task: Task, runner: Runner, choice: dict[str, Any], d: Design, seed: int,
             steps: int, room: float, untrained: float, rt_ceiling: float, metric: str,
             tick: Callable[[Trial], None],
             prior: Prior) -> tuple[Stage, list[Trial], float] | None:
    """Train the choice again beside the LRs the short runs could not settle, at a longer
    length; returns the stage, its runs and the LR they support (None when there is
    nothing to settle or the budget has no room).

    Two cases. A ceiling held the choice more than ``confirm_octaves`` below the fit's
    pick: the ceiling came from a short run that looked unstable, extrapolated to the full
    horizon, and a run that merely sat at the untrained loss after a few updates may be
    slow to start rather than unstable; the capped pick, the fit's pick and their midpoint
    run. Or (``confirm_edge``) the ladder's best was its top run, so the estimate is a
    lower bound: the choice, that run's LR and the next one up run.
    """
    low, high = choice["lr"], choice["data"].get("uncapped_lr", choice["lr"])
    gap = math.log2(high / low)
    if d.confirm_octaves > 0 and gap > d.confirm_octaves:
        lrs = sorted({on_grid(low * 2.0 ** (gap * k / 2), 2 * d.grid) for k in range(3)})
        reason = f"the ceiling held the pick {gap:.1f} octaves below the fit"
    elif d.confirm_edge and choice["data"].get("edge") == "high":
        # the ladder's best is its top run: the estimate is a lower bound, not a bracket
        top = 2.0 ** choice["data"]["best_x"]
        lrs = sorted({low, on_grid(top, 2 * d.grid),
                      on_grid(top * d.ladder_ratio, 2 * d.grid)})
        reason = "the ladder's best was its top run"
    else:
        return None
    lrs = [lr for lr in lrs if lr < rt_ceiling]
    T = task.total_steps
    length = _fill_budget(task, steps, room, len(lrs), d.confirm_rung)
    if len(lrs) < 2 or len(lrs) * (length + eval_updates(
            task, math.ceil(length / task.steps_per_epoch))) / T > room + 1e-9:
        return None
    runs = run_block(task, runner, lrs, block=0, seed=seed, steps=length, rung=3,
                     on_trial=tick, metric=metric)
    # the search's own tests and margin: everything from the lowest unstable LR up is out
    unstable = unstable_lrs(runs, d, untrained)
    stable = [t for t in runs if math.isfinite(t.loss) and t.lr < min(unstable, default=math.inf)]
    ceiling = min(unstable, default=math.inf) / instability_margin(d, T, length)
    lr, why = low, "no longer run trained stably above the capped pick"
    if stable:
        best = min(stable, key=lambda t: t.loss)
        shift = min(choice["data"]["slope"] * math.log2(T / length), d.max_shift) \
            + _warmup_shift(prior, d, length, T)
        lr = max(low, on_grid(min(best.lr * 2.0 ** -shift, ceiling), 2 * d.grid, down=True))
        why = (f"best {best.lr:.3g} at {length} updates, / {2 ** shift:.3g} for the full "
               "horizon")
    summary = (f"{reason}: {len(lrs)} LRs ({', '.join(f'{x:.3g}' for x in lrs)}) at "
               f"{length} updates ({length / T:.0%} of a run): {why}"
               + (f"; unstable from {min(unstable):.3g} (ceiling {ceiling:.3g})" if unstable
                  else "")
               + f" -> LR {lr:.3g}")
    data = {"lrs": lrs, "steps": length, "curve": [[t.lr, t.loss] for t in runs],
            "unstable_from": min(unstable, default=None), "lr": lr, "gap_octaves": gap}
    return Stage("confirm", summary, sum(t.cost_runs for t in runs), data), runs, lr


def _disagreements(lr: float, prior: Prior, rt: dict[str, Any] | None, curv: Stage | None,
                   est: dict[str, Any] | None, d: Design) -> list[str]:
    """One note per stage whose LR is more than ``note_decades`` from the choice."""
    others: list[tuple[str, float]] = [("the textbook prior", prior.lr)]
    if rt is not None:
        others.append(("the range test's peak", rt["data"]["peak_lr"]))
    if curv is not None and curv.data.get("max_stable_lr"):
        others.append(("the curvature's stability ceiling", curv.data["max_stable_lr"]))
    if est is not None:
        others.append(("the search's best compressed run", 2.0 ** est["best_x"]))
    notes = []
    for name, value in others:
        if not (math.isfinite(value) and value > 0):
            continue
        decades = math.log10(value / lr)
        if abs(decades) > d.note_decades:
            notes.append(f"stages disagree: {name} ({value:.3g}) is {abs(decades):.1f} "
                         f"decades {'above' if decades > 0 else 'below'} the choice "
                         f"({lr:.3g}); check the candidates' curves in the report")
    return notes


def _range_test(task: Task, seed: int, steps: int) -> dict[str, Any]:
    from lrkit.rangetest import find

    result = find(task, steps=steps, seed=seed)
    peak = result.peak_lr if result.peak_lr is not None else result.suggestion
    diverged = any(r in ("diverged", "nonfinite") for r in result.stop_reasons)
    diverged_at = float(result.lrs[-1]) if diverged and result.lrs else None
    summary = (f"{steps}-update sweep: constant LR {result.suggestion:.3g}, "
               f"peak {peak:.3g} for the task's schedule"
               + (f", diverged at {diverged_at:.3g}" if diverged_at else "")
               + (f" ({'; '.join(result.flags)})" if result.flags else ""))
    data = {"suggestion": result.suggestion, "peak_lr": peak, "range": list(result.range),
            "flags": list(result.flags), "confidence": result.confidence, "steps": steps,
            "diverged_at": diverged_at}
    return {"cost_runs": float(result.cost_runs or 0.0), "peak_lr": float(peak),
            "summary": summary, "data": data, "result": result.to_dict()}


def _ladder_center(rt: dict[str, Any] | None, prior: Prior, trust: float) -> tuple[float, bool]:
    """The search's centre: the range test's peak LR, pulled towards the prior when unsure.

    Below ``trust`` the centre is the geometric blend ``suggestion**c * prior**(1 - c)``
    (c = the test's confidence), mapped to the schedule's peak as the test maps its own.

    >>> prior = Prior("adamw", 1e-3, 1e-5, 1e-2, 0.9, True, "adamw")
    >>> _ladder_center({"peak_lr": 0.02, "suggestion": 0.01, "confidence": 0.9}, prior, 0.5)
    (0.02, False)
    >>> round(_ladder_center({"peak_lr": 0.02, "suggestion": 0.01, "confidence": 0.0},
    ...                      prior, 0.5)[0], 6)
    0.002
    >>> _ladder_center(None, prior, 0.5)
    (0.001, False)
    """
    if rt is None:
        return prior.lr, False
    peak, suggestion, c = rt["peak_lr"], rt["suggestion"], rt["confidence"]
    if not (math.isfinite(peak) and math.isfinite(suggestion) and suggestion > 0):
        return prior.lr, True
    if c >= trust:
        return float(peak), False
    blend = suggestion ** c * prior.lr ** (1.0 - c)
    return float(peak * blend / suggestion), True


def _curvature(task: Task, prior: Prior, seed: int, d: Design) -> Stage:
    from lrkit.curvature import fixed_batches, hessian_top_eigenvalue, sgd_bounds
    from lrkit.tasks import seeded_rng
    from lrkit.tasks.data import loss_module

    with seeded_rng(seed):
        model = task.model()
        # a task with a forward hook is measured through it
        module, loss_fn, batches = loss_module(
            task.loss_fn, task.forward, model,
            fixed_batches(task.train_data, task.batch_size, d.curvature_batches))
        est = hessian_top_eigenvalue(module, loss_fn, batches, max_hvps=d.curvature_hvps)
    examples = est.grad_equivalents * est.examples
    cost = examples / (task.total_steps * task.batch_size)
    bounds = sgd_bounds(est.value, momentum=prior.momentum)
    summary = (f"sharpness {est.value:.3g} at init: stability ceiling "
               f"{bounds.max_stable_lr:.3g}, quadratic optimum {bounds.quadratic_optimal_lr:.3g}"
               " (reported; it bounds nothing)")
    return Stage("curvature", summary, cost,
                 {"sharpness": est.value, "hvps": est.hvps,
                  "max_stable_lr": bounds.max_stable_lr,
                  "quadratic_optimal_lr": bounds.quadratic_optimal_lr})


def _warmup_steps(spec: dict[str, Any]) -> int:
    if spec.get("family") == "join" and spec["pieces"][0]["family"] in (
            "linear_warmup", "exponential_warmup"):
        return int(spec["boundaries"][0])
    return 0
