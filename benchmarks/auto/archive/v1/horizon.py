"""The short-horizon offset as a function of the compression fraction f.

offset(f) = log2(best peak LR of runs compressed to f of a real run / the full run's best
LR eta*), for f in 1/16, 1/8, 1/4, 1/2 (f = 1 is 0 by definition). A compressed run trains
the whole schedule (warmup, decay) in f of the updates, as ``lrkit.auto``'s rungs do.

* **Built-in pairs** (the 4 tasks x 2 shapes of ``bench_auto``): eta* is the oracle's (seeds
  A, factor sqrt(2)). These are the pairs ``lrkit.auto``'s ``HORIZON_ALPHA`` is fitted on.
* **Held-out tasks** (the 8 calibration tasks, constant LR): eta* is ``holdout.py``'s
  (factor-2 grid 2^-17..2^4, seeds 0 and 1). Reported out of sample, never fitted on.

For every pair and f: a factor-2 grid of peak LRs eta* * 2^k (k = -3..6 to begin with,
widened while the best point is within one point of an edge), seeds 0 and 1 averaged (a
seed that diverges makes the mean inf). The offset is read two ways: the grid's best point
(whole octaves) and the vertex of a parabola in log2(LR) through it and its neighbours
(``lrkit.auto.refine``; the grid point when no parabola fits). The fit
offset = ALPHA * log2(1/f) is least squares through the origin over the built-in pairs'
vertex offsets.

Usage: .venv/bin/python benchmarks/auto/horizon.py   (writes horizon.json; runs cached)
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "rangetest"))
from bench_auto import oracle  # noqa: E402
from calibration_tasks import CALIBRATION_TASKS  # noqa: E402
from holdout import GRID as HOLDOUT_GRID  # noqa: E402
from holdout import SEEDS as HOLDOUT_SEEDS  # noqa: E402
from runs import SHAPES, loss_of, make_task, run, seed_mean  # noqa: E402

from lrkit.auto import refine  # noqa: E402
from lrkit.tasks import Task, builtin_tasks  # noqa: E402

FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2)
SEEDS = (0, 1)
START = (-3, 6)  # octaves around eta*


def _mean(name: str, shape: str, task: Task, tag: str, lr: float, steps: int | None) -> float:
    return seed_mean(loss_of(run(name, shape, lr, s, steps=steps, tag=tag, task=task))
                     for s in SEEDS)


def best_at(name: str, shape: str, task: Task, tag: str, eta: float,
            f: float | None) -> dict[str, object]:
    """The best LR of runs compressed to ``f`` (None: full runs) on the factor-2 grid."""
    steps = None if f is None else max(1, round(f * task.total_steps))
    lo, hi = START
    losses = {k: _mean(name, shape, task, tag, eta * 2.0 ** k, steps) for k in range(lo, hi + 1)}
    while True:
        best = min(losses, key=lambda k: (losses[k], k))
        if best - min(losses) < 1:
            k = min(losses) - 1
        elif max(losses) - best < 1 and math.isfinite(losses[max(losses)]):
            k = max(losses) + 1
        else:
            break
        losses[k] = _mean(name, shape, task, tag, eta * 2.0 ** k, steps)
    ks = sorted(losses)
    fit = refine([2.0 ** k for k in ks], [losses[k] for k in ks])
    return {"grid": float(best), "vertex": math.log2(fit.lr), "fitted": fit.fitted,
            "steps": steps, "range": [ks[0], ks[-1]]}


def pairs() -> list[tuple[str, str, Task, str, float, str]]:
    out = []
    for name in sorted(builtin_tasks()):
        for shape in SHAPES:
            out.append((name, shape, make_task(name, shape), "", oracle(name, shape)["eta"],
                        "built-in"))
    for name, factory in CALIBRATION_TASKS.items():
        task = factory()
        full = {}
        for lr in HOLDOUT_GRID:
            full[lr] = seed_mean(loss_of(run(name, "constant", lr, s, tag="cal", task=task))
                                 for s in HOLDOUT_SEEDS)
        out.append((name, "constant", task, "cal", min(full, key=full.__getitem__),
                    "held-out"))
    return out


def fit_alpha(rows: list[dict], key: str = "vertex") -> float:
    """Least squares through the origin: offset = alpha * log2(1/f)."""
    x = np.array([math.log2(1 / r["f"]) for r in rows])
    y = np.array([r[key] for r in rows])
    return float(x @ y / (x @ x))


def main() -> None:
    rows: list[dict] = []
    for name, shape, task, tag, eta, group in pairs():
        check = best_at(name, shape, task, tag, eta, None)  # full runs on seeds 0 and 1
        for f in FRACTIONS:
            b = best_at(name, shape, task, tag, eta, f)
            rows.append({"group": group, "task": name, "shape": shape, "eta_star": eta,
                         "f": f, "steps": b["steps"], "grid": b["grid"],
                         "vertex": b["vertex"], "fitted": b["fitted"], "range": b["range"],
                         "full_check": check["grid"]})
        cells = " ".join(f"{r['grid']:+.0f}({r['vertex']:+.1f})" for r in rows[-4:])
        print(f"{group:8s} {name:28s} {shape:13s} eta*={eta:.3g} f=1/16..1/2: {cells} "
              f"full run on seeds 0-1: {check['grid']:+.0f}", flush=True)
    (HERE / "horizon.json").write_text(json.dumps(rows, indent=1))
    report(rows)


def report(rows: list[dict]) -> None:
    heads = " | ".join(f"f=1/{round(1 / f)}" for f in FRACTIONS)
    print(f"\n| task / shape | eta* | {heads} | full runs, seeds 0-1 |")
    print("|---|---|" + "---|" * len(FRACTIONS) + "---|")
    for group in ("built-in", "held-out"):
        g = [r for r in rows if r["group"] == group]
        for t, s in dict.fromkeys((r["task"], r["shape"]) for r in g):
            rs = [r for r in g if r["task"] == t and r["shape"] == s]
            cells = " | ".join(f"{r['grid']:+.0f} ({r['vertex']:+.1f})" for r in rs)
            print(f"| {t} / {s} | {rs[0]['eta_star']:.3g} | {cells} | "
                  f"{rs[0]['full_check']:+.0f} |")
        for label, fn in (("median", np.median), ("min", np.min), ("max", np.max)):
            cells = " | ".join(
                f"{fn([r['grid'] for r in g if r['f'] == f]):+.1f} "
                f"({fn([r['vertex'] for r in g if r['f'] == f]):+.1f})" for f in FRACTIONS)
            print(f"| **{group} {label}** | | {cells} | |")
    for group in ("built-in", "held-out"):
        g = [r for r in rows if r["group"] == group]
        print(f"{group}: alpha (least squares through 0) on vertex offsets "
              f"{fit_alpha(g):.3f}, on grid offsets {fit_alpha(g, 'grid'):.3f}")


if __name__ == "__main__":
    main()
