"""How much a per-task horizon correction could buy at budget 1: an in-sample ceiling.

``lrkit.auto`` divides the second rung's pick by one correction for every task, and the
tasks' offsets differ by up to 7 octaves (``horizon.py``). This script gives each
task/schedule pair its *own* correction, the mean of log2(uncorrected pick / eta*) over
the protocol's selection seeds (built-in 0, 1, 4, 5; held-out 2, 3, 4): an oracle no
method has, fitted on the very selections it is scored on. What it leaves is the seed to
seed scatter of the compressed runs' picks. Scored on those selections and on the extra
selections of ``seeds.py`` (built-in 12-19, held-out 5-12), against the shipped design.

Usage: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/ceiling.py
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from replay import DESIGNS, pairs, select  # noqa: E402
from seeds import MORE_SELECTION  # noqa: E402


def main() -> None:
    shipped = DESIGNS["shipped"]
    uncorrected = dataclasses.replace(shipped, horizon="always", correction=1.0)
    rows = []
    for pair in pairs():
        seeds = pair.selection + MORE_SELECTION[pair.tag]
        raw = {s: select(pair, s, uncorrected)[0] for s in seeds}
        offset = float(np.mean([math.log2(raw[s] / pair.eta) for s in pair.selection]))
        for s in seeds:
            group = (pair.tag or "built-in") + (" protocol" if s in pair.selection
                                                else " extra")
            rows.append((group, "shipped", pair.regret(select(pair, s, shipped)[0])))
            rows.append((group, "own offset", pair.regret(raw[s] / 2.0 ** offset)))
            # the spread the own offset cannot remove
            rows.append((group, "scatter", abs(math.log2(raw[s] / pair.eta) - offset)))
        print(f"{pair.name} {pair.shape}: own offset {offset:+.2f} octaves", flush=True)
    print("| selections | design | median regret | 90th percentile | worst |")
    print("|---|---|---|---|---|")
    for group in dict.fromkeys(r[0] for r in rows):
        for design in ("shipped", "own offset"):
            v = [r[2] for r in rows if r[0] == group and r[1] == design]
            print(f"| {group} ({len(v)}) | {design} | {np.median(v):.1%} "
                  f"| {np.percentile(v, 90):.1%} | {max(v):.1%} |")
    scatter = [r[2] for r in rows if r[1] == "scatter"]
    print(f"\n|pick - own offset|: median {np.median(scatter):.2f}, 90th percentile "
          f"{np.percentile(scatter, 90):.2f} octaves over {len(scatter)} selections")


if __name__ == "__main__":
    main()
