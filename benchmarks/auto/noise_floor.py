"""The regret that seed noise alone gives on the auto benchmark.

The oracle's eta* is chosen on seeds A and scored on seeds B. Its grid neighbours, half
an octave and one octave away, are LRs no method could tell from eta* on seeds A; their
regret on seeds B is the floor under any claim about a method's worst case.

Usage: .venv/bin/python benchmarks/auto/noise_floor.py   (reads and extends the run cache)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_auto import oracle, score
from runs import SHAPES

from lrkit.tasks import builtin_tasks

STEPS = (-1.0, -0.5, 0.5, 1.0)  # octaves from eta*


def main() -> None:
    print("| task / shape | eta* | " + " | ".join(f"{k:+g} oct" for k in STEPS) + " |")
    print("|---|---|" + "---|" * len(STEPS))
    for task in sorted(builtin_tasks()):
        for shape in SHAPES:
            ref = oracle(task, shape)
            cells = []
            for k in STEPS:
                loss, _ = score(task, shape, ref["eta"] * 2.0 ** k)
                cells.append(f"{(loss - ref['L_star']) / ref['L_star']:+.1%}")
            print(f"| {task} / {shape} | {ref['eta']:.3g} | " + " | ".join(cells) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
