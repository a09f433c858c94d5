"""Fit lrkit's two constants on the calibration tasks (never on the built-in tasks).

1. The rule: which landmark of the smoothed curve, and how many decades below it, best
   predicts the best *constant* LR. Candidates: the smoothed minimum (``min``), the
   steepest descent (``steep``), and the LR where the loss has climbed back half its
   descent after the minimum (``edge``). Each (landmark, offset) is scored by the regret
   of constant-LR training at the suggested LR, read off the oracle grid (linear
   interpolation in log-LR of the seed-mean final validation loss), over 5 range tests
   per task with different batch orders. The winner minimises the worst normalised regret.
2. The schedule map: best-peak / best-constant for cosine and one-cycle, against
   1 / mean(shape) (``lrkit.rangetest.schedule_map``).

Usage:
    .venv/bin/python benchmarks/rangetest/calibrate.py      # writes calibration.json
"""

from __future__ import annotations

import dataclasses
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
from lrkit.rangetest.rules import analyse
from lrkit.rangetest.schedule_map import mean_fraction
from lrkit.tasks import train

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from calibration_tasks import CALIBRATION_TASKS  # noqa: E402

OUT = HERE / "calibration.json"
GRID = [2.0 ** k for k in range(-16, 6)]
SEEDS = [0, 1]
SHAPES = ["constant", "cosine", "onecycle"]
REPEATS = 5
OFFSETS = [round(0.1 * k, 1) for k in range(0, 21)]
LANDMARKS = ["min", "steep", "edge", "min+edge"]
RATIOS = [2.0 ** (k / 2) for k in range(-2, 7)]


def grid_losses(task: Any, shape: str) -> list[float]:
    t = dataclasses.replace(task, schedule=shape)
    out = []
    for lr in GRID:
        vals = [train(t, lr, s).final_val_loss for s in SEEDS]
        out.append(float(np.mean(vals)) if all(map(math.isfinite, vals)) else math.inf)
    return out


def interp_loss(losses: list[float], lr: float) -> float:
    """Seed-mean loss at ``lr``, linear in log2(lr) between grid points (inf stays inf)."""
    x = math.log2(lr)
    xs = np.log2(GRID)
    if x <= xs[0]:
        return losses[0]
    if x >= xs[-1]:
        return losses[-1]
    i = int(np.searchsorted(xs, x)) - 1
    a, b = losses[i], losses[i + 1]
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    w = (x - xs[i]) / (xs[i + 1] - xs[i])
    return float(a + w * (b - a))


def landmark(curve: Any, name: str) -> float:
    """log10 LR of a landmark of the analysed curve (nan when it does not exist)."""
    if curve is None:
        return math.nan
    if name == "min":
        return float(curve.x[curve.i_min])
    if name == "steep":
        return float(curve.x[curve.i_steep])
    if name == "min+edge":  # the mean of both landmarks, at their calibrated distances
        edge = landmark(curve, "edge")
        x_min = landmark(curve, "min")
        return x_min if math.isnan(edge) else 0.5 * (x_min + edge - 0.5)
    return math.nan if curve.i_edge is None else float(curve.x[curve.i_edge])


def main() -> None:
    torch.set_num_threads(1)
    doc: dict[str, Any] = json.loads(OUT.read_text()) if OUT.exists() else {}
    doc.setdefault("tasks", {})
    for name, factory in CALIBRATION_TASKS.items():
        task = factory()
        entry = doc["tasks"].setdefault(name, {})
        started = time.perf_counter()
        for shape in SHAPES:
            if shape not in entry.get("grid", {}):
                entry.setdefault("grid", {})[shape] = grid_losses(task, shape)
        if "curves" not in entry:
            curves = []
            for r in range(REPEATS):
                res = find(task, seed=r)
                curves.append({"lrs": res.lrs, "losses": res.losses,
                               "stop": res.stop_reasons[0], "cost_runs": res.cost_runs})
            entry["curves"] = curves
        entry["total_steps"] = task.total_steps
        print(f"{name}: {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
        write_atomic(OUT, json.dumps(doc, indent=1, allow_nan=True))
    analyse_doc(doc)
    write_atomic(OUT, json.dumps(doc, indent=1, allow_nan=True))


def analyse_doc(doc: dict[str, Any]) -> None:
    scores: dict[str, dict[str, Any]] = {}
    for lm in LANDMARKS:
        for off in OFFSETS:
            worst, regrets = 0.0, []
            for entry in doc["tasks"].values():
                losses = entry["grid"]["constant"]
                best = min(losses)
                finite = [v for v in losses if math.isfinite(v)]
                med = float(np.median(finite))
                for c in entry["curves"]:
                    x = landmark(analyse(c["lrs"], c["losses"]), lm)
                    loss = math.inf if math.isnan(x) else interp_loss(losses, 10 ** (x - off))
                    r = (loss - best) / (med - best) if med > best else 0.0
                    regrets.append(r)
                    worst = max(worst, r)
            scores[f"{lm}-{off}"] = {"landmark": lm, "offset": off, "worst": worst,
                                     "median": float(np.median(regrets)),
                                     "mean": float(np.mean(regrets))}
    ranked = sorted(scores.values(), key=lambda s: (s["worst"], s["mean"]))
    doc["rule_scores"] = ranked
    # the shipped rule, called through the library, must score as its landmark does
    shipped = []
    for entry in doc["tasks"].values():
        losses = entry["grid"]["constant"]
        best, med = min(losses), float(np.median([v for v in losses if math.isfinite(v)]))
        for c in entry["curves"]:
            loss = interp_loss(losses, suggest(c["lrs"], c["losses"], "lrkit").lr)
            shipped.append((loss - best) / (med - best) if med > best else 0.0)
    doc["shipped_rule"] = {"worst": max(shipped), "mean": float(np.mean(shipped))}
    print(f"shipped lrkit rule: worst {max(shipped):.3f} mean {np.mean(shipped):.3f}",
          file=sys.stderr)
    chosen = ranked[0]
    map_scores = {}
    for shape in ("cosine", "onecycle"):
        for rho in RATIOS:
            regrets = []
            for entry in doc["tasks"].values():
                losses = entry["grid"][shape]
                best = min(losses)
                med = float(np.median([v for v in losses if math.isfinite(v)]))
                for c in entry["curves"]:
                    x = landmark(analyse(c["lrs"], c["losses"]), chosen["landmark"])
                    lr = 10 ** (x - chosen["offset"]) * rho
                    loss = interp_loss(losses, lr)
                    regrets.append((loss - best) / (med - best) if med > best else 0.0)
            map_scores[f"{shape}-{rho:.3g}"] = {"shape": shape, "ratio": rho,
                                                "worst": max(regrets),
                                                "mean": float(np.mean(regrets))}
    doc["map_scores"] = map_scores
    ratios = {}
    for name, entry in doc["tasks"].items():
        g = entry["grid"]
        best_c = GRID[int(np.argmin(g["constant"]))]
        ratios[name] = {shape: {"measured": GRID[int(np.argmin(g[shape]))] / best_c,
                                "mean_rule": 1.0 / mean_fraction(shape, entry["total_steps"])}
                        for shape in ("cosine", "onecycle")}
    doc["schedule_ratios"] = ratios
    print("best (landmark, offset) by worst normalised regret:", file=sys.stderr)
    for s in ranked[:8]:
        print(f"  {s['landmark']:5s} {s['offset']:.1f}  worst {s['worst']:.3f}  "
              f"median {s['median']:.3f}  mean {s['mean']:.3f}", file=sys.stderr)
    for lm in LANDMARKS:
        best = min((s for s in ranked if s["landmark"] == lm), key=lambda s: s["worst"])
        print(f"  best for {lm}: offset {best['offset']} worst {best['worst']:.3f}",
              file=sys.stderr)
    print(f"end-to-end schedule map with {chosen['landmark']} - {chosen['offset']}:",
          file=sys.stderr)
    for v in map_scores.values():
        print(f"  {v['shape']:9s} x{v['ratio']:.2f}: worst {v['worst']:.3f} "
              f"mean {v['mean']:.3f}", file=sys.stderr)
    for name, r in ratios.items():
        print(f"  {name:28s} " + "  ".join(
            f"{k}: measured {v['measured']:.2f} vs 1/mean {v['mean_rule']:.2f}"
            for k, v in r.items()), file=sys.stderr)


if __name__ == "__main__":
    if "--analyse" in sys.argv:
        d = json.loads(OUT.read_text())
        analyse_doc(d)
        write_atomic(OUT, json.dumps(d, indent=1, allow_nan=True))
    else:
        main()
