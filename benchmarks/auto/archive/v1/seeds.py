"""More seeds for the second rung, where the cap leaves budget unspent: a paired check.

``budget.py`` scores designs on the benchmark's protocols (built-in: selection seeds 0, 1,
4, 5; held-out: 2, 3, 4). Above about 7.7 runs, ``more seeds`` (``budget.py``) spends
what the one-run cap leaves on whole extra seeds of the second rung (3 runs each), and it
differs from ``shipped`` only there. This script compares the two selection by selection
(same task, same selection seed) at the given budgets, on the protocols' selection seeds
and, for more selections, on further ones disjoint from every scoring and oracle seed
and from the protocols' selection seeds (built-in 12-19, held-out 5-12), and with the
extra seeds drawn three ways (seed + 100, + 200, + 300 per extra seed: three independent
draws of the same design).

Usage: .venv/bin/python benchmarks/auto/seeds.py [--budgets 8,12]   (writes seeds.json)
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

MORE_SELECTION = {"": (12, 13, 14, 15, 16, 17, 18, 19), "cal": (5, 6, 7, 8, 9, 10, 11, 12)}
STRIDES = (100, 200, 300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", default="8,12")
    args = parser.parse_args()
    everything = pairs()
    check_shipped(everything)
    rows = []
    for budget in (float(b) for b in args.budgets.split(",")):
        designs = {"shipped": dataclasses.replace(DESIGNS["shipped"], budget=budget)}
        for stride in STRIDES:
            designs[f"more seeds (+{stride})"] = dataclasses.replace(
                DESIGNS["shipped"], budget=budget, fill=True, stride=stride)
        for pair in everything:
            for seed in pair.selection + MORE_SELECTION[pair.tag]:
                for name, d in designs.items():
                    lr, cost = select(pair, seed, d)
                    rows.append({"budget": budget, "design": name, "task": pair.name,
                                 "shape": pair.shape, "group": pair.tag or "built-in",
                                 "protocol": seed in pair.selection, "seed": seed, "lr": lr,
                                 "regret": pair.regret(lr), "cost_runs": cost,
                                 "octaves": math.log2(lr / pair.eta)})
            print(f"{budget:g} {pair.name} {pair.shape}", flush=True)
    (HERE / "seeds.json").write_text(json.dumps(rows, indent=1))
    print(table(rows))


def table(rows: list[dict]) -> str:
    """Per budget, group, selection set and draw: the summary and the paired counts."""
    out = ["| budget | group | selections | design | median | worst | worst w/o digits-cnn "
           "| median octaves | mean cost | better / worse / same than shipped "
           "| mean change |", "|---" * 11 + "|"]
    key = ("budget", "group", "task", "shape", "seed")
    base = {tuple(r[k] for k in key): r for r in rows if r["design"] == "shipped"}
    for budget in sorted({r["budget"] for r in rows}):
        for group in ("built-in", "cal"):
            for label, which in (("protocol", (True,)), ("more", (False,)),
                                 ("all", (True, False))):
                for name in dict.fromkeys(r["design"] for r in rows):
                    rs = [r for r in rows if r["budget"] == budget and r["group"] == group
                          and r["design"] == name and r["protocol"] in which]
                    reg = [r["regret"] for r in rs]
                    diff = np.array([r["regret"] - base[tuple(r[k] for k in key)]["regret"]
                                     for r in rs])
                    cnn = [r["regret"] for r in rs if r["task"] != "digits-cnn"]
                    out.append(
                        f"| {budget:g} | {group} | {label} ({len(rs)}) | {name} "
                        f"| {np.median(reg):.1%} | {max(reg):.1%} "
                        f"| {max(cnn):.1%} | "
                        f"{np.median([abs(r['octaves']) for r in rs]):.2f} "
                        f"| {np.mean([r['cost_runs'] for r in rs]):.2f} "
                        f"| {sum(diff < -1e-9)} / {sum(diff > 1e-9)} / "
                        f"{sum(abs(diff) <= 1e-9)} | {diff.mean():+.1%} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
