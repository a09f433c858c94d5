"""How often a short range test lands far from the best LR: 40-update sweeps, 20 seeds.

``lrkit auto`` sweeps 40-100 updates (15% of a short training); a coarse sweep's plateau
is noisy, and one bad seed is all it takes to send the search to the wrong decade. For
each built-in task and each calibration task, ``find(task, steps=40, seed=s)`` for
s = 0..19; the error of a suggestion is |log10(suggestion / best constant LR)|, the best
LR read from the cached oracle grids (``oracle.json``, ``calibration.json``).

Usage: .venv/bin/python benchmarks/rangetest/short_sweeps.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
from calibration_tasks import CALIBRATION_TASKS

from lrkit.rangetest import find
from lrkit.tasks import builtin_tasks

HERE = Path(__file__).resolve().parent
FAR = 1.5  # decades: further than this from the best LR is a miss, not a rounding error


def best_constant_lrs() -> dict[str, float]:
    """Task name -> the best constant LR of its cached oracle grid."""
    oracle = json.loads((HERE / "oracle.json").read_text())
    best = {name: float(t["shapes"]["constant"]["best_lr"]) for name, t in oracle["tasks"].items()}
    cal = json.loads((HERE / "calibration.json").read_text())["tasks"]
    cal_grid = [2.0 ** k for k in range(-16, 6)]
    for name, t in cal.items():
        losses = [math.inf if v is None else v for v in t["grid"]["constant"]]
        best[name] = cal_grid[int(np.argmin(losses))]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    factories = {**builtin_tasks(), **CALIBRATION_TASKS}
    errors: list[float] = []
    print("| task | best LR | median error (decades) | worst | sweeps > 1.5 decades off |")
    print("|---|---|---|---|---|")
    for name, best in best_constant_lrs().items():
        task = factories[name]()
        errs = [abs(math.log10(find(task, steps=40, seed=s).suggestion / best))
                for s in range(args.seeds)]
        errors += errs
        far = sum(e > FAR for e in errs)
        print(f"| {name} | {best:.3g} | {np.median(errs):.2f} | {max(errs):.2f} | "
              f"{far}/{len(errs)} |", flush=True)
    far = sum(e > FAR for e in errors)
    print(f"\nall: {far}/{len(errors)} sweeps more than {FAR} decades off; "
          f"median {np.median(errors):.2f}, worst {max(errors):.2f} decades")


if __name__ == "__main__":
    main()
