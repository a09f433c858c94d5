"""Oracle LR grid for every built-in task, cached as JSON for the range-test benchmark
(and for any other benchmark that needs the best LR of a built-in task).

For each task and each schedule shape in ``SHAPES`` (constant, cosine, onecycle, and the
task's own), run the full training (``lrkit.tasks.train``) at every LR of a factor-2 log
grid, 2**-20 .. 2**5 (about 1e-6 .. 32, 7.5 decades), with seeds 0, 1, 2.

Usage:
    .venv/bin/python benchmarks/rangetest/oracle.py            # compute what is missing
    .venv/bin/python benchmarks/rangetest/oracle.py --force    # recompute everything

Output: ``benchmarks/rangetest/oracle.json`` (format below), written atomically.

    {
      "format": "lrkit-oracle/1",
      "created": "2026-11-25", "machine": "...", "torch": "2.13.0+cpu",
      "grid": [9.5367e-07, ...],               # the LRs (peak LR of the schedule)
      "seeds": [0, 1, 2],
      "tasks": {
        "<task>": {
          "own_schedule": "cosine",            # the task's own shape (task.schedule)
          "total_steps": 252, "steps_per_epoch": 42,
          "shapes": {
            "<shape>": {                       # "constant", "cosine", "onecycle"
              "final_val_loss": [[seed0, seed1, seed2], ...],   # one row per grid LR;
                                               # null = diverged (inf)
              "val_losses": [[[epoch1, epoch2, ...], ...], ...], # per LR, per seed
              "seconds": [[...], ...],
              "best_lr": 0.0078, "best_loss": 0.083,   # argmin of the seed mean
              "median_loss": 0.53                     # median of the finite seed means
            }}}}}
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
from typing import Any

import numpy as np

from lrkit._io import write_atomic
from lrkit.tasks import Task, builtin_tasks, train

HERE = Path(__file__).resolve().parent
OUT = HERE / "oracle.json"
GRID = [2.0 ** k for k in range(-20, 6)]
SEEDS = [0, 1, 2]
SHAPES = ["constant", "cosine", "onecycle"]


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def shape_task(task: Task, shape: str) -> Task:
    """The same task trained with another schedule shape."""
    import dataclasses

    return dataclasses.replace(task, schedule=shape)


def run_shape(task: Task) -> dict[str, Any]:
    finals, curves, secs = [], [], []
    for lr in GRID:
        rows = [train(task, lr, seed) for seed in SEEDS]
        finals.append([_finite(r.final_val_loss) for r in rows])
        curves.append([[_finite(v) for v in r.val_losses] for r in rows])
        secs.append([round(r.seconds, 4) for r in rows])
    means = np.array([np.mean([math.inf if v is None else v for v in row]) for row in finals])
    best = int(np.argmin(means))
    finite = means[np.isfinite(means)]
    return {"final_val_loss": finals, "val_losses": curves, "seconds": secs,
            "best_lr": GRID[best], "best_loss": float(means[best]),
            "median_loss": float(np.median(finite))}


def load() -> dict[str, Any]:
    """The cached oracle (raises FileNotFoundError when it was never computed)."""
    return json.loads(OUT.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="recompute everything")
    args = parser.parse_args()
    import torch

    # Tiny models: one intra-op thread is as fast, and far faster on a shared, loaded CPU.
    torch.set_num_threads(1)
    doc: dict[str, Any] = {}
    if OUT.exists() and not args.force:
        doc = load()
        if doc.get("grid") != GRID or doc.get("seeds") != SEEDS:
            doc = {}
    doc.update({"format": "lrkit-oracle/1", "created": str(datetime.date.today()),
                "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                "torch": torch.__version__, "grid": GRID, "seeds": SEEDS})
    tasks = doc.setdefault("tasks", {})
    for name, factory in builtin_tasks().items():
        task = factory()
        entry = tasks.setdefault(name, {"shapes": {}})
        entry.update({"own_schedule": task.schedule, "total_steps": task.total_steps,
                      "steps_per_epoch": task.steps_per_epoch})
        shapes = list(dict.fromkeys([*SHAPES, str(task.schedule)]))
        for shape in shapes:
            if shape in entry["shapes"]:
                continue
            started = time.perf_counter()
            entry["shapes"][shape] = run_shape(shape_task(task, shape))
            res = entry["shapes"][shape]
            print(f"{name:22s} {shape:9s} best lr {res['best_lr']:.3g} loss "
                  f"{res['best_loss']:.4f} ({time.perf_counter() - started:.0f}s)",
                  file=sys.stderr, flush=True)
            write_atomic(OUT, json.dumps(doc, indent=1))
    write_atomic(OUT, json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
