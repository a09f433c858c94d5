"""Time the vectorised evaluation of every example schedule over 10**6 steps.

Run: .venv/bin/python benchmarks/schedules/bench_families.py [--steps N] [--repeats R]

Prints one row per example spec (the table in tests/schedules/_examples.py) with the best
of R wall-clock times and the rate in million steps per second, plus the time of a Python
loop of scalar calls over 10**4 steps for comparison.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np

from lrkit.schedules import parse


def _examples() -> list[str]:
    path = Path(__file__).resolve().parents[2] / "tests" / "schedules" / "_examples.py"
    spec = importlib.util.spec_from_file_location("_examples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.all_examples())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10**6)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    t = np.arange(args.steps, dtype=np.float64)
    print(f"{'spec':<72} {'best s':>8} {'Msteps/s':>9} {'scalar us':>10}")
    for text in _examples():
        schedule = parse(text)
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            schedule(t)
            best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(10_000):
            schedule(i)
        scalar_us = (time.perf_counter() - start) / 10_000 * 1e6
        label = text if len(text) <= 72 else text[:69] + "..."
        print(f"{label:<72} {best:8.4f} {args.steps / best / 1e6:9.1f} {scalar_us:10.1f}")


if __name__ == "__main__":
    main()
