"""Where auto's large misses come from: the scout's centre or what came after it.

Replays the shipped design's selections from the run cache (no training) and reads each
selection's exact regret from ``results_<split>.json``; for the misses (regret above
``--miss``) and the rest it prints how far the ladder's centre (the scout's minimum, moved
for the ladder's length) and the pick sat from eta*, in octaves, and how many picks a
ceiling held or sat at the ladder's edge.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/misses.py --splits test holdout
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HERE, zoo
from methods import run_cache
from study import MEASURED_SPLITS

import lrkit


def rows(split: str) -> list[dict[str, Any]]:
    """One row per scored selection of the shipped design on ``split``."""
    out = []
    for r in json.loads((HERE / f"results_{split}.json").read_text())["rows"]:
        if r["method"] != "lrkit auto":
            continue
        pair, eta = r["pair"], float(zoo.oracle(r["pair"])["eta_star"])
        rec = lrkit.auto(zoo.task(pair), budget=1.0, seed=r["seed"], cache=run_cache())
        search, choice = rec.stage("search"), rec.stage("choice")
        if search is None or choice is None:  # a fallback pick: nothing to attribute
            continue
        out.append({
            "regret": math.inf if r.get("diverged") else r["exact"],
            "pick": math.log2(rec.lr / eta),
            "centre": math.log2(search.data["center"] / eta),
            "capped": bool(choice.data.get("capped_by")),
            "edge": choice.data.get("edge")})
    return out


def describe(group: list[dict[str, Any]], title: str) -> str:
    def octaves(key: str) -> str:
        v = [r[key] for r in group]
        far = sum(abs(x) > 1.5 for x in v)
        return (f"{key} median {statistics.median(v):+.2f} octaves, |median| "
                f"{statistics.median(abs(x) for x in v):.2f}, more than 1.5 off: {far}")
    same = sum(abs(r["centre"]) > 1.5 and r["centre"] * r["pick"] > 0 for r in group)
    return (f"{title}: {len(group)} selections\n  {octaves('centre')}\n  {octaves('pick')}\n"
            f"  centre more than 1.5 off and the pick off the same way: {same}\n"
            f"  held by a ceiling: {sum(bool(r['capped']) for r in group)}; ladder's best at its "
            f"top edge: {sum(r['edge'] == 'high' for r in group)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", nargs="+", default=list(MEASURED_SPLITS))
    ap.add_argument("--miss", type=float, default=0.2, help="a regret above this is a miss")
    args = ap.parse_args(argv)
    every = [r for s in args.splits for r in rows(s)]
    misses = [r for r in every if r["regret"] > args.miss]
    rest = [r for r in every if r["regret"] <= args.miss]
    print(f"splits {', '.join(args.splits)}; a miss: regret above {args.miss:.0%}")
    print(describe(misses, "misses"))
    print(describe(rest, "the rest"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
