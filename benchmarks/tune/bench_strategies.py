"""Compute each search strategy needs to get within 2% of the oracle loss, on the built-in tasks.

For every built-in task (its own schedule shape, LR only, space 1e-5..10) and strategy:

- ``grid``:        lrkit's sqrt(10) grid (1e-5, 3e-5, ..., 10), GridSampler (which visits
                   the grid in a seeded random order), no pruning; the whole grid is run
- ``random``:      log-uniform random search, no pruning
- ``tpe``:         TPE, no pruning
- ``hyperband``:   random search + Hyperband pruning on the per-epoch validation loss (eta 3)
- ``tpe+hb``:      TPE + Hyperband
- ``c2f``:         coarse-to-fine: the range test's LR enqueued first, the space narrowed to
                   10x around it, TPE + Hyperband; the range test's cost is included

each run (10 sampler seeds) trains trials one after another until the *incumbent* (the
complete trial with the lowest search loss) is within 2% of the oracle, or the budget
(30 training-run equivalents of compute) is spent. The incumbent's quality is its seed-mean
final validation loss over the oracle's seeds 0, 1, 2 (the search itself trains seed 0
only, so a lucky seed cannot fake success). The oracle is the range-test engineer's
factor-2 grid of full trainings, 3 seeds (``benchmarks/rangetest/oracle.json``): the best
seed-mean final validation loss of the task's own schedule. Cost is counted in
training-run equivalents: optimizer updates done / updates of one full run.

Usage:
    .venv/bin/python benchmarks/tune/bench_strategies.py [--seeds 10] [--budget 30]
        [--tasks digits-mlp ...] [--strategies grid tpe ...] [--force]

Output: ``benchmarks/tune/results.json`` (every run, cached: rerun to fill in what is
missing) and a markdown table on stdout (copied into ``RESULTS.md``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import optuna

from lrkit._io import write_atomic
from lrkit.tasks import Task, builtin_tasks, train
from lrkit.tune import Objective, SearchSpace
from lrkit.tune.strategies import StrategyContext, make_pruner, make_sampler

HERE = Path(__file__).resolve().parent
OUT = HERE / "results.json"
ORACLE = HERE.parent / "rangetest" / "oracle.json"
ORACLE_SEEDS = (0, 1, 2)
_MAX_TRIALS = 500
TOLERANCE = 0.02
SPACE = SearchSpace(1e-5, 10.0)
STRATEGIES: dict[str, dict[str, Any]] = {
    "grid": {"sampler": "grid", "pruner": "none"},
    "random": {"sampler": "random", "pruner": "none"},
    "tpe": {"sampler": "tpe", "pruner": "none"},
    "hyperband": {"sampler": "random", "pruner": "hyperband"},
    "tpe+hb": {"sampler": "tpe", "pruner": "hyperband"},
    "c2f": {"sampler": "tpe", "pruner": "hyperband", "coarse": True},
}


class Quality:
    """Seed-mean final validation loss of a task at an LR, cached (the measuring stick)."""

    def __init__(self, task: Task) -> None:
        self.task, self.cache = task, {}  # type: ignore[var-annotated]

    def __call__(self, lr: float, seed0: float) -> float:
        if lr not in self.cache:
            others = [train(self.task, lr, s).final_val_loss for s in ORACLE_SEEDS[1:]]
            self.cache[lr] = statistics.fmean([seed0, *others])
        return float(self.cache[lr])


def oracle(name: str, task: Task) -> dict[str, Any]:
    """Best seed-mean loss of the task's own schedule from the range-test oracle grid.

    A task missing there gets the same oracle computed here (factor-2 grid 2**-20..2**5,
    seeds 0, 1, 2), marked ``"source": "computed by bench_strategies.py"``.
    """
    try:
        shape = json.loads(ORACLE.read_text())["tasks"][name]["shapes"][str(task.schedule)]
        return {"loss": shape["best_loss"], "lr": shape["best_lr"],
                "source": "benchmarks/rangetest/oracle.json"}
    except (FileNotFoundError, KeyError):
        pass
    best = (math.inf, math.nan)
    for k in range(-20, 6):
        lr = 2.0**k
        loss = statistics.fmean(train(task, lr, s).final_val_loss for s in ORACLE_SEEDS)
        best = min(best, (loss, lr))
    return {"loss": best[0], "lr": best[1], "source": "computed by bench_strategies.py"}


def run(task: Task, strategy: str, seed: int, target: float, quality: Quality,
        budget: float) -> dict[str, Any]:
    """One search; returns its trajectory and the cost at which it reached the target."""
    spec = STRATEGIES[strategy]
    space, seeds, cost = SPACE, [], 0.0
    if spec.get("coarse"):
        from lrkit.rangetest import find

        found = find(task, seed=seed)
        cost = float(found.cost_runs or 0.0)
        seeds = [found.peak_lr or found.suggestion]
        space = SearchSpace.around(seeds, factor=10.0)
        space = SearchSpace(max(space.lr_min, SPACE.lr_min), min(space.lr_max, SPACE.lr_max))
    # the grid runs whole; the others until the target or `budget` runs of compute
    n_trials = space.grid_size() if spec["sampler"] == "grid" else _MAX_TRIALS
    objective = Objective(task, space, seed=0, limit=None)
    ctx = StrategyContext(space=space, seed=seed, n_trials=min(n_trials, int(budget)),
                          max_resource=objective.max_resource)
    study = optuna.create_study(sampler=make_sampler(spec["sampler"], ctx),
                                pruner=make_pruner(spec["pruner"], ctx))
    for lr in seeds:
        study.enqueue_trial({"lr": lr})
    history, reached = [], None
    best: tuple[float, float | None] = (math.inf, None)
    for _ in range(n_trials):
        if spec["sampler"] != "grid" and cost >= budget:
            break
        study.optimize(objective, n_trials=1)
        trial = study.trials[-1]
        cost += float(trial.user_attrs.get("lrkit_cost", 0.0))
        # a complete trial has a value
        if trial.state.name == "COMPLETE" and trial.value is not None and trial.value < best[0]:
            best = (trial.value, trial.params["lr"])
        q = quality(best[1], best[0]) if best[1] is not None else math.inf
        history.append({"lr": trial.params.get("lr"), "state": trial.state.name.lower(),
                        "value": _finite(trial.value), "cost": cost,
                        "incumbent_quality": _finite(q)})
        if reached is None and q <= target:
            reached = cost
            if spec["sampler"] != "grid":
                break  # the grid runs whole: a practitioner cannot know it is done
    return {"reached_cost": reached, "total_cost": cost, "trials": len(history),
            "incumbent_lr": best[1],
            "incumbent_quality": history[-1]["incumbent_quality"] if history else None,
            "history": history}


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def summarise(doc: dict[str, Any]) -> str:
    """The markdown table of RESULTS.md: one row per task and strategy."""
    budget = doc["budget_runs"]
    lines = ["| task | oracle loss (LR) | strategy | runs within 2% | median cost to 2% "
             "(runs) | min-max | final incumbent / oracle (median) |",
             "|---|---|---|---|---|---|---|"]
    for name, entry in doc["tasks"].items():
        oracle_loss = entry["oracle"]["loss"]
        for strategy, runs in entry["runs"].items():
            costs = [r["reached_cost"] for r in runs]
            hits = [c for c in costs if c is not None]
            med = statistics.median([c if c is not None else math.inf for c in costs])
            if not math.isinf(med):
                median = f"{med:.2f}"
            elif strategy == "grid":
                median = f"never (whole grid: {runs[0]['total_cost']:.1f})"
            else:
                median = f">{budget:g}"
            ratio = statistics.median(r["incumbent_quality"] / oracle_loss for r in runs
                                      if r["incumbent_quality"] is not None)
            spread = f"{min(hits):.2f}-{max(hits):.2f}" if hits else "-"
            lines.append(f"| {name} | {oracle_loss:.4f} ({entry['oracle']['lr']:.3g}) "
                         f"| {strategy} | {len(hits)}/{len(costs)} | {median} | {spread} "
                         f"| {ratio:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="compute budget per run, in training-run equivalents")
    parser.add_argument("--tasks", nargs="*", default=None)
    parser.add_argument("--strategies", nargs="*", default=list(STRATEGIES))
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--summary", action="store_true",
                        help="only print the table of the stored results.json")
    args = parser.parse_args()
    if args.summary:
        print(summarise(json.loads(OUT.read_text())))
        return
    import torch

    torch.set_num_threads(1)  # tiny models: one thread is as fast and kinder to a shared CPU
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    doc: dict[str, Any] = {} if args.force or not OUT.exists() else json.loads(OUT.read_text())
    doc.update({"created": str(datetime.date.today()), "machine": platform.machine(),
                "tolerance": TOLERANCE, "budget_runs": args.budget,
                "space": SPACE.to_dict(), "oracle_seeds": list(ORACLE_SEEDS)})
    tasks = doc.setdefault("tasks", {})
    for name, factory in builtin_tasks().items():
        if args.tasks and name not in args.tasks:
            continue
        task = factory()
        entry = tasks.setdefault(name, {"runs": {}})
        if "oracle" not in entry or args.force:
            entry["oracle"] = oracle(name, task)
        target = entry["oracle"]["loss"] * (1 + TOLERANCE)
        quality = Quality(task)
        for strategy in args.strategies:
            n_seeds = args.seeds
            runs = entry["runs"].setdefault(strategy, [])
            for seed in range(len(runs), n_seeds):
                started = time.perf_counter()
                runs.append(run(task, strategy, seed, target, quality, args.budget)
                            | {"seed": seed})
                r = runs[-1]
                reached = "never" if r["reached_cost"] is None else f"{r['reached_cost']:.2f}"
                print(f"{name:22s} {strategy:10s} seed {seed}: reached at {reached} runs, "
                      f"{r['trials']} trials ({time.perf_counter() - started:.0f}s)",
                      file=sys.stderr, flush=True)
                write_atomic(OUT, json.dumps(doc, separators=(",", ":")))
    write_atomic(OUT, json.dumps(doc, separators=(",", ":")))
    print(summarise(doc))


if __name__ == "__main__":
    main()
