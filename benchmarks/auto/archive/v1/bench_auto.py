"""The auto benchmark: regret, octave error, divergence and cost of LR-selection methods.

For every built-in task and both shapes (constant; 5% warmup + cosine) it reads the
oracle grid (``oracle.py``: factor sqrt(2); seeds A choose eta*, the disjoint seeds B
score L*), runs every method of ``methods.py`` with selection seeds 0, 1, 4 and 5, trains
each chosen LR for the full budget on seeds B, and reports per method:

* relative regret (L - L*) / L* (L: mean final validation loss on seeds B),
* octave error |log2(lr / eta*)|,
* divergence rate (a seed-B run went NaN/inf),
* selection cost in training-run equivalents.

Usage: .venv/bin/python benchmarks/auto/bench_auto.py [--methods "lrkit auto,..."]
Writes benchmarks/auto/results.json, RESULTS.md tables and regret_vs_cost.png.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from methods import METHODS
from oracle import SEEDS_B, grid, lr_of, mean_loss
from runs import SHAPES, loss_of, run

from lrkit.tasks import builtin_tasks

HERE = Path(__file__).resolve().parent
SELECTION_SEEDS = (0, 1, 4, 5)  # disjoint from the scoring seeds B


def oracle(task: str, shape: str) -> dict[str, float]:
    g = grid(task, shape)
    best = min(g, key=g.__getitem__)
    finite = [v for v in g.values() if math.isfinite(v)]
    return {"eta": lr_of(best), "L_star": mean_loss(task, shape, best, SEEDS_B),
            "L_med_A": float(np.median(finite)), "L_star_A": g[best]}


def score(task: str, shape: str, lr: float) -> tuple[float, bool]:
    losses = [loss_of(run(task, shape, lr, s)) for s in SEEDS_B]
    diverged = not all(math.isfinite(x) for x in losses)
    return (math.inf if diverged else float(np.mean(losses))), diverged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--tasks", default=",".join(sorted(builtin_tasks())))
    args = parser.parse_args()
    out = HERE / "results.json"
    rows = json.loads(out.read_text()) if out.exists() else []
    done = {(r["method"], r["task"], r["shape"], r["seed"]) for r in rows}
    for task in args.tasks.split(","):
        for shape in SHAPES:
            ref = oracle(task, shape)
            for name in args.methods.split(","):
                seeds = SELECTION_SEEDS if METHODS[name].__name__ not in (
                    "m_default", "m_prodigy", "m_dadapt", "m_schedulefree") else (0,)
                for seed in seeds:
                    if (name, task, shape, seed) in done:
                        continue
                    started = time.perf_counter()
                    choice = METHODS[name](task, shape, seed)
                    if choice.finals is not None:
                        div = not all(math.isfinite(x) for x in choice.finals)
                        loss = math.inf if div else float(np.mean(choice.finals))
                    else:
                        loss, div = (score(task, shape, choice.lr) if math.isfinite(choice.lr)
                                     and choice.lr > 0 else (math.inf, True))
                    row = {"method": name, "task": task, "shape": shape, "seed": seed,
                           "lr": choice.lr, "cost_runs": choice.cost_runs, "loss": loss,
                           "diverged": div, "eta_star": ref["eta"], "L_star": ref["L_star"],
                           "regret": (loss - ref["L_star"]) / ref["L_star"],
                           "octaves": (abs(math.log2(choice.lr / ref["eta"]))
                                       if math.isfinite(choice.lr) and choice.lr > 0
                                       else None),
                           "seconds": time.perf_counter() - started}
                    rows.append(row)
                    print(f"{name:34s} {task:22s} {shape:14s} s{seed} lr={choice.lr:.3g} "
                          f"regret={row['regret']:.3%} cost={choice.cost_runs:.2f}", flush=True)
                    out.write_text(json.dumps(rows, indent=1, default=_inf))
    summarize(rows)


def _inf(x: object) -> object:
    return None


def summarize(rows: list[dict]) -> None:
    """Print and store the per-method summary table and the regret-vs-cost plot."""
    present = {r["method"] for r in rows}
    methods = [m for m in METHODS if m in present]
    lines = ["| method | median regret | worst regret | median octave error | "
             "divergence rate | median cost (runs) |", "|---|---|---|---|---|---|"]
    points = []
    for m in methods:
        rs = [r for r in rows if r["method"] == m]
        reg = [r["regret"] if math.isfinite(r["loss"]) else math.inf for r in rs]
        octs = [r["octaves"] for r in rs if r["octaves"] is not None]
        cost = float(np.median([r["cost_runs"] for r in rs]))
        div = np.mean([r["diverged"] for r in rs])
        med, worst = float(np.median(reg)), float(np.max(reg))
        lines.append(f"| {m} | {_pct(med)} | {_pct(worst)} | "
                     f"{np.median(octs) if octs else float('nan'):.2f} | {div:.0%} | "
                     f"{cost:.2f} |")
        points.append((m, cost, med, worst))
    per_task = ["| method | " + " | ".join(f"{t} / {s}" for t in sorted({r['task'] for r in rows})
                                          for s in SHAPES) + " |"]
    per_task.append("|---" * (1 + len(SHAPES) * len({r["task"] for r in rows})) + "|")
    for m in methods:
        cells = []
        for t in sorted({r["task"] for r in rows}):
            for s in SHAPES:
                rs = [r for r in rows if r["method"] == m and r["task"] == t and r["shape"] == s]
                cells.append("/".join(_pct(r["regret"] if math.isfinite(r["loss"]) else math.inf)
                                      for r in rs) or "-")
        per_task.append(f"| {m} | " + " | ".join(cells) + " |")
    caption = "Relative regret per task / shape (one entry per selection seed):"
    text = "\n".join(lines) + f"\n\n{caption}\n\n" + "\n".join(per_task)
    print(text)
    (HERE / "summary.md").write_text(
        f"Machine: {platform.machine()} 2-core VM; date {datetime.date.today()}; "
        f"command: .venv/bin/python benchmarks/auto/bench_auto.py\n\n{text}\n")
    _plot(points)


def _pct(x: float) -> str:
    return "diverged" if not math.isfinite(x) else f"{x:.1%}"


def _plot(points: list[tuple[str, float, float, float]]) -> None:
    from lrkit.report._mpl import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, (name, cost, med, worst) in enumerate(points):
        color = f"C{i}"
        x = cost + 0.012 * (i - len(points) / 2)  # spread overlapping methods a little
        ax.plot([x, x], [med, worst if math.isfinite(worst) else 1e3], color=color, alpha=0.5)
        ax.plot([x], [med], "o", color=color, label=name)
        ax.plot([x], [worst if math.isfinite(worst) else 1e3], "v", color=color)
    ax.set_yscale("symlog", linthresh=0.01)
    ax.axhline(0.05, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("selection cost (training-run equivalents)")
    ax.set_ylabel("relative regret: median (o), worst (v)")
    ax.set_title("LR selection on 4 tasks x 2 schedules: regret vs cost")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    save_figure(fig, HERE / "regret_vs_cost.png")


if __name__ == "__main__":
    main()
