"""Regret against budget: auto's horizon correction at budgets 1, 2, 4 (and 8), replayed.

Uses ``replay.py``'s designs and protocols (built-in: ``bench_auto``'s oracle, selection
seeds 0, 1, 4, 5 scored on seeds B against L*; held-out: ``holdout.py``'s grid and
selection seeds 2, 3, 4, scored on seeds 0 and 1), every run through the run cache. Designs:

* ``constant 2``: the code before this round: the second rung's winner / 2 at every
  budget, rungs as long as the budget makes them (past one run at budget 8);
* ``shipped``: ``lrkit.auto`` now: / ``horizon_correction(f)`` (HORIZON_ALPHA = 0.35, fitted
  on the built-in pairs by ``horizon.py``), rungs capped at one run;
* ``median fit``: the same with alpha = 0.16, the fit to the built-in pairs' *median*
  offsets (a sensitivity check, not a candidate chosen on these numbers);
* ``more seeds`` (seeds round, not shipped): ``shipped``, plus whole extra seeds of the
  second rung in what the cap leaves of the budget (each LR scored by the mean over seeds
  seed, seed + 100, ...); it differs from ``shipped`` only from about 7.7 runs up;
* ``2b on 2 seeds`` (seeds round, not shipped): a second rung half as long (2b) on 2 seeds,
  the same cost as ``shipped``'s 4b on one, and extra seeds where the cap binds.

Per budget and design: median and worst relative regret, median octave error
|log2(lr / eta*)| and mean cost in runs; for the built-in pairs also the worst without
digits-cnn, whose L* has a 14-22% standard error (``noise_floor.py``). Writes
budget.json, or ``--out`` (one row per selection).

Usage: .venv/bin/python benchmarks/auto/budget.py [--budgets 1,2,4,8] [--designs a,b]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from replay import DESIGNS, check_shipped, pairs, select  # noqa: E402

VARIANTS = {
    "constant 2": DESIGNS["constant 2 (before the horizon round)"],
    "shipped": DESIGNS["shipped"],
    "median fit (alpha 0.16)": dataclasses.replace(DESIGNS["shipped"], alpha=0.16),
    # the seeds round: what the cap leaves of the budget buys whole extra seeds of the
    # second rung (none below about 7.7 runs: one seed of it costs 3 runs)
    "more seeds": dataclasses.replace(DESIGNS["shipped"], fill=True),
    # a second rung half as long (2b) on 2 seeds, the same cost as 4b on 1; extra seeds
    # in whatever the cap leaves
    "2b on 2 seeds": dataclasses.replace(DESIGNS["shipped"], ratio=2, seeds=2, fill=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", default="1,2,4,8")
    parser.add_argument("--designs", default=",".join(VARIANTS))
    parser.add_argument("--out", default="budget.json", help="file (in this folder) for the rows")
    args = parser.parse_args()
    everything = pairs()
    check_shipped(everything)
    rows = []
    table = ["| budget | design | built-in median | built-in worst | worst w/o digits-cnn "
             "| built-in median octaves | built-in mean cost | held-out median | held-out worst "
             "| held-out median octaves | held-out mean cost |", "|---" * 11 + "|"]
    for budget in (float(b) for b in args.budgets.split(",")):
        for name in args.designs.split(","):
            d = dataclasses.replace(VARIANTS[name], budget=budget)
            for pair in everything:
                for seed in pair.selection:
                    lr, cost = select(pair, seed, d)
                    rows.append({"budget": budget, "design": name, "task": pair.name,
                                 "shape": pair.shape, "group": pair.tag or "built-in",
                                 "seed": seed, "lr": lr, "eta_star": pair.eta,
                                 "regret": pair.regret(lr), "cost_runs": cost,
                                 "octaves": math.log2(lr / pair.eta)})
            cells = []
            for group in ("built-in", "cal"):
                rs = [r for r in rows if r["budget"] == budget and r["design"] == name
                      and r["group"] == group]
                reg = [r["regret"] for r in rs]
                cells += [f"{np.median(reg):.1%}", f"{max(reg):.1%}"]
                if group == "built-in":
                    cells.append(f"{max(r['regret'] for r in rs if r['task'] != 'digits-cnn'):.1%}")
                cells += [f"{np.median([abs(r['octaves']) for r in rs]):.2f}",
                          f"{np.mean([r['cost_runs'] for r in rs]):.2f}"]
            table.append(f"| {budget:g} | {name} | " + " | ".join(cells) + " |")
            print(table[-1], flush=True)
    (HERE / args.out).write_text(json.dumps(rows, indent=1))
    print("\n" + "\n".join(table))


if __name__ == "__main__":
    main()
