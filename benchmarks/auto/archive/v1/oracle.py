"""Oracle LR grids for the auto benchmark (factor sqrt(2), at least 4 decades).

For each built-in task and each shape (constant, warmup+cosine) the full training runs at
every grid LR with the seeds A = (0, 1, 10, 11). The oracle LR eta* is the grid LR with
the lowest mean final validation loss on seeds A; L* is scored on the disjoint seeds
B = (2, 3, 6, 7, 8, 9) at eta* (this avoids the winner's curse). The grid is widened
automatically while its best point sits within two points of an edge. Four and six seeds,
not two: with two, LRs half an octave apart differed by up to 45% on digits-cnn
(``noise_floor.py``), more than the differences between methods.

Usage: .venv/bin/python benchmarks/auto/oracle.py [--tasks a,b] [--shapes constant]
Runs are cached in benchmarks/auto/cache/runs.jsonl (resumable).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runs import SHAPES, loss_of, run, seed_mean

from lrkit.tasks import builtin_tasks

SEEDS_A = (0, 1, 10, 11)
SEEDS_B = (2, 3, 6, 7, 8, 9)  # disjoint from A and from the selection seeds
# initial grid exponents (LR = 2 ** (k / 2)); about 4.5 decades around the usual range
START = {"digits-mlp": (-34, -4), "diabetes-mlp": (-34, -4), "digits-cnn": (-28, 2),
         "breast-cancer-logreg": (-20, 10)}


def lr_of(k: int) -> float:
    return 2.0 ** (k / 2)


def mean_loss(task: str, shape: str, k: int, seeds: tuple[int, ...]) -> float:
    return seed_mean(loss_of(run(task, shape, lr_of(k), s)) for s in seeds)


def grid(task: str, shape: str) -> dict[int, float]:
    """Mean final loss on seeds A at each grid exponent, widened until the best is interior."""
    lo, hi = START[task]
    out = {k: mean_loss(task, shape, k, SEEDS_A) for k in range(lo, hi + 1)}
    while True:
        best = min(out, key=out.__getitem__)
        if best - min(out) < 2:
            lo = min(out) - 1
            out[lo] = mean_loss(task, shape, lo, SEEDS_A)
        elif max(out) - best < 2 and math.isfinite(out[max(out)]):
            hi = max(out) + 1
            out[hi] = mean_loss(task, shape, hi, SEEDS_A)
        else:
            return dict(sorted(out.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default=",".join(sorted(builtin_tasks())))
    parser.add_argument("--shapes", default=",".join(SHAPES))
    args = parser.parse_args()
    for task in args.tasks.split(","):
        for shape in args.shapes.split(","):
            g = grid(task, shape)
            best = min(g, key=g.__getitem__)
            star = mean_loss(task, shape, best, SEEDS_B)
            print(f"{task:22s} {shape:14s} eta*={lr_of(best):.3g} L*_A={g[best]:.4f} "
                  f"L*_B={star:.4f} points={len(g)}", flush=True)


if __name__ == "__main__":
    main()
