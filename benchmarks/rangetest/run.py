"""Range-test benchmark: regret, spread and cost of lrkit's suggestion against the anchors.

For each built-in task, on the cached oracle (``oracle.py``, the task's own schedule):

* lrkit: ``lrkit.rangetest.find(task, seed=r)`` for r = 0..4 (defaults: 1e-7 -> 10,
  100 updates, auto-extension), mapped to the peak LR of the task's schedule;
* torch-lr-finder (the real library, ``LRFinder.range_test(end_lr=10, num_iter=100,
  step_mode="exp", smooth_f=0.05, diverge_th=5)`` then ``plot(suggest_lr=True)``) on the
  same model, optimizer factory, loss and batch size, batch order seeded by r; its
  suggestion is used as the LR, as its users do;
* on lrkit's own 5 curves (the same curves): fastai ``valley`` (re-implemented from the
  reference note's pseudo-code, with fastai's EMA and trimming) and torch-lr-finder's rule
  (re-implemented), each used as the LR, as their users do;
* the textbook default LR: 1e-3 for Adam/AdamW (torch's default), 0.1 for SGD with
  momentum (the ResNet convention), 0.01 for plain SGD (Keras' default).

Every suggested LR is trained in full with the task's schedule, seeds 0, 1, 2; the loss L
is the seed mean of the final validation loss (inf if any seed diverged). Regret =
(L - L*) / L*, normalised regret = (L - L*) / (L_med - L*) with L* the best and L_med the
median seed-mean loss of the oracle grid. Spread = max - min of log10(LR) over the 5
repeats. Cost = training updates spent / updates of one training run.

Usage:
    .venv/bin/python benchmarks/rangetest/run.py     # writes results.json, prints the table
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lrkit._io import write_atomic
from lrkit.rangetest import find, suggest
from lrkit.tasks import Task, builtin_tasks, train

HERE = Path(__file__).resolve().parent
ORACLE = HERE / "oracle.json"
OUT = HERE / "results.json"
REPEATS = 5
SEEDS = [0, 1, 2]
METHODS = ["lrkit", "torch-lr-finder", "torch-lr-finder rule", "fastai valley", "default"]


def default_lr(task: Task) -> float:
    opt = task.optimizer(torch.nn.Linear(1, 1).parameters(), 0.5)
    if isinstance(opt, torch.optim.Adam | torch.optim.AdamW):
        return 1e-3
    if isinstance(opt, torch.optim.SGD):
        return 0.1 if opt.param_groups[0].get("momentum", 0) else 0.01
    raise ValueError(f"no textbook default for {type(opt).__name__}")


def real_torch_lr_finder(task: Task, seed: int) -> tuple[float, int]:
    """torch-lr-finder's own sweep and suggestion; returns (lr, iterations run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torch_lr_finder import LRFinder

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = task.model()
        opt = task.optimizer(model.parameters(), 1e-7)
        loader = torch.utils.data.DataLoader(
            task.train_data, batch_size=task.batch_size, shuffle=True, drop_last=True,
            generator=torch.Generator().manual_seed(seed))
        finder = LRFinder(model, opt, task.loss_fn, device="cpu")
        finder.range_test(loader, end_lr=10, num_iter=100, step_mode="exp", smooth_f=0.05,
                          diverge_th=5)
        iters = len(finder.history["lr"])
        try:
            _, lr = finder.plot(suggest_lr=True)
        except Exception:  # it raises/returns None when the curve is too short
            lr = math.nan
        plt.close("all")
    return float(lr) if lr is not None else math.nan, iters


class Trainer:
    """Seed-mean final validation loss of the task's schedule at an LR, memoised."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.cache: dict[float, float] = {}

    def loss(self, lr: float) -> float:
        if not (math.isfinite(lr) and lr > 0):
            return math.inf
        key = float(f"{lr:.6g}")
        if key not in self.cache:
            vals = [train(self.task, key, s).final_val_loss for s in SEEDS]
            self.cache[key] = float(np.mean(vals)) if all(map(math.isfinite, vals)) \
                else math.inf
        return self.cache[key]


def bench_task(name: str, oracle: dict[str, Any]) -> dict[str, Any]:
    task = builtin_tasks()[name]()
    own = oracle["tasks"][name]["shapes"][str(task.schedule)]
    l_star, l_med = own["best_loss"], own["median_loss"]
    trainer = Trainer(task)
    lrs: dict[str, list[float]] = {m: [] for m in METHODS}
    costs: dict[str, list[float]] = {m: [] for m in METHODS}
    extra: dict[str, list[Any]] = {"lrkit_constant": [], "lrkit_confidence": [],
                                   "lrkit_flags": []}
    d = default_lr(task)
    for r in range(REPEATS):
        res = find(task, seed=r)
        assert res.peak_lr is not None and res.cost_runs is not None
        lrs["lrkit"].append(res.peak_lr)
        costs["lrkit"].append(res.cost_runs)
        extra["lrkit_constant"].append(res.suggestion)
        extra["lrkit_confidence"].append(res.confidence)
        extra["lrkit_flags"].append(list(res.flags))
        for method, rule in (("fastai valley", "valley"),
                             ("torch-lr-finder rule", "torch_lr_finder")):
            lrs[method].append(suggest(res.lrs, res.losses, rule).lr)
            costs[method].append(res.cost_runs)
        lr, iters = real_torch_lr_finder(task, r)
        lrs["torch-lr-finder"].append(lr)
        costs["torch-lr-finder"].append(iters / task.total_steps)
        lrs["default"].append(d)
        costs["default"].append(0.0)
    rows = {}
    for m in METHODS:
        losses = [trainer.loss(lr) for lr in lrs[m]]
        reg = [(v - l_star) / l_star for v in losses]
        norm = [(v - l_star) / (l_med - l_star) for v in losses]
        logs = [math.log10(v) for v in lrs[m] if math.isfinite(v) and v > 0]
        rows[m] = {"lrs": lrs[m], "losses": losses, "regret": reg, "norm_regret": norm,
                   "worst_regret": max(reg), "median_regret": float(np.median(reg)),
                   "worst_norm_regret": max(norm),
                   "spread_decades": (max(logs) - min(logs)) if logs else math.nan,
                   "cost_runs": float(np.mean(costs[m])), "max_cost_runs": max(costs[m])}
    return {"task": name, "schedule": task.schedule, "best_lr": own["best_lr"],
            "best_loss": l_star, "median_loss": l_med, "total_steps": task.total_steps,
            "methods": rows, **extra}


def fmt(v: float, spec: str = ".3f") -> str:
    return "inf" if not math.isfinite(v) else format(v, spec)


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| task (schedule, best LR) | method | LR (median of 5) | worst regret | "
             "median regret | worst norm. regret | spread (decades) | cost (runs) |",
             "|---|---|---|---|---|---|---|---|"]
    for res in results:
        head = f"{res['task']} ({res['schedule']}, {res['best_lr']:.3g})"
        for m in METHODS:
            row = res["methods"][m]
            med = 10 ** float(np.median(np.log10([v for v in row["lrs"] if v > 0])))
            lines.append(f"| {head} | {m} | {med:.3g} | {fmt(row['worst_regret'])} | "
                         f"{fmt(row['median_regret'])} | {fmt(row['worst_norm_regret'])} | "
                         f"{fmt(row['spread_decades'], '.2f')} | "
                         f"{fmt(row['max_cost_runs'], '.2f')} |")
            head = ""
    return "\n".join(lines)


def main() -> None:
    torch.set_num_threads(1)
    oracle = json.loads(ORACLE.read_text())
    results = []
    for name in builtin_tasks():
        started = time.perf_counter()
        results.append(bench_task(name, oracle))
        print(f"{name}: {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
        write_atomic(OUT, json.dumps({"date": "2026-11-25", "results": results}, indent=1,
                                     allow_nan=True))
    print(table(results))
    wins = []
    for res in results:
        ours = res["methods"]["lrkit"]["worst_regret"]
        others = {m: res["methods"][m]["worst_regret"] for m in METHODS if m != "lrkit"}
        wins.append((res["task"], all(ours < v for v in others.values()),
                     res["methods"]["lrkit"]["max_cost_runs"] <= 0.5))
    print("\nlower worst-case regret than every anchor / cost <= 0.5 run:")
    for name, better, cheap in wins:
        print(f"  {name}: {'yes' if better else 'NO'} / {'yes' if cheap else 'NO'}")


if __name__ == "__main__":
    main()
