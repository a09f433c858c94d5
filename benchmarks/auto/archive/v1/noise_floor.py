"""The regret that seed noise alone gives on the auto benchmark.

The oracle's eta* is chosen on seeds A and scored on seeds B. Two measures of how finely
the benchmark can resolve a regret: the standard error of L* itself (the seed-to-seed
spread of the final loss at eta*, over the scoring seeds), and the regret on seeds B of
eta*'s grid neighbours, LRs that seeds A could barely tell from eta*.

Usage: .venv/bin/python benchmarks/auto/noise_floor.py   (reads and extends the run cache)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
from bench_auto import oracle, score
from oracle import SEEDS_B
from runs import SHAPES, loss_of, run

from lrkit.tasks import builtin_tasks

STEPS = (-1.0, -0.5, 0.5, 1.0)  # octaves from eta*


def main() -> None:
    print("| task / shape | eta* | SE of L* | " + " | ".join(f"{k:+g} oct" for k in STEPS)
          + " |")
    print("|---|---|---|" + "---|" * len(STEPS))
    for task in sorted(builtin_tasks()):
        for shape in SHAPES:
            ref = oracle(task, shape)
            losses = [loss_of(run(task, shape, ref["eta"], s)) for s in SEEDS_B]
            se = float(np.std(losses, ddof=1) / np.sqrt(len(losses)) / np.mean(losses))
            cells = [f"{se:.1%}"]
            for k in STEPS:
                loss, _ = score(task, shape, ref["eta"] * 2.0 ** k)
                cells.append(f"{(loss - ref['L_star']) / ref['L_star']:+.1%}")
            print(f"| {task} / {shape} | {ref['eta']:.3g} | " + " | ".join(cells) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
