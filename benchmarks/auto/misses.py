"""Where auto's large misses come from: the scout's centre or what came after it.

Replays the shipped design's selections from the run cache (no training) and reads each
selection's exact regret from ``results_<split>.json``; for the misses (regret above
``--miss``) and the rest it prints how far the ladder's centre (the scout's minimum, moved
for the ladder's length) and the pick sat from eta*, in octaves, and how many picks a
ceiling held or sat at the ladder's edge.

``--centring`` adds two what-ifs read off the same replay (no training; regrets from the
oracle's grid curve, ``harness.proxy_regret``): centring the ladder on the scout's best
point instead of its fitted vertex, and a horizon slope measured per task between the
scout and the ladder, extrapolated to the full run and shrunk toward the prior.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/misses.py --splits test holdout
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/misses.py --centring
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

from harness import HERE, proxy_regret, zoo
from methods import run_cache
from study import MEASURED_SPLITS, quantile

import lrkit
from lrkit.auto import DEFAULT_DESIGN, smooth_minimum


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
        octaves = {name: math.log2(v / eta) for name, v in choice.data["ceilings"].items()}
        out.append({
            "pair": pair, "eta": eta, "total": zoo.task(pair).total_steps,
            "steps": search.data["steps"], "scout_steps": search.data["scout_steps"],
            "scout": [(math.log2(lr / eta), loss) for lr, loss in search.data["scout_curve"]],
            "fit": choice.data["x"] - math.log2(eta), "ceilings": octaves,
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


def _best_point(r: dict[str, Any]) -> float | None:
    finite = [p for p in r["scout"] if math.isfinite(p[1])]
    return min(finite, key=lambda p: p[1])[0] if finite else None


def _spread(regrets: list[float]) -> str:
    # the study's own quantile, so these read like its tables
    return (f"median {quantile(regrets, 0.5):.1%}, 90th pct {quantile(regrets, 0.9):.1%}, "
            f"more than 20%: {sum(x > 0.2 for x in regrets)}")


def _slope_pick(r: dict[str, Any], w: float, capped: bool) -> float:
    """The pick (octaves from eta*) with the horizon slope measured between the scout's
    vertex and the ladder's fit, weight ``w``, the prior's ``1 - w``; the shipped pick
    where the scout has no curve."""
    d = DEFAULT_DESIGN
    pts = [p for p in r["scout"] if math.isfinite(p[1])]
    if len(pts) < 2 or not r["steps"] > r["scout_steps"] > 0 or not math.isfinite(r["fit"]):
        return float(r["pick"])
    vertex = smooth_minimum([p[0] for p in pts], [p[1] for p in pts],
                            2 * math.log2(d.scout_ratio)).x
    measured = (r["fit"] - vertex) / math.log2(r["steps"] / r["scout_steps"])
    slope = w * measured - (1 - w) * d.horizon_alpha
    length = max(0.0, math.log2(r["total"] / r["steps"]))
    x = r["fit"] + max(-d.max_shift, min(slope * length, 4.0))
    return min(x, min(r["ceilings"].values())) if capped and r["ceilings"] else x


def centring(every: list[dict[str, Any]], miss: float) -> str:
    """The scout's best point against its vertex as the ladder's centre, and a horizon
    slope measured between scout and ladder (proxy regrets, no training)."""
    d = DEFAULT_DESIGN
    out = ["scout (octaves from eta*, median): best point / the ladder's centre"]
    for name, keep in (("misses", lambda r: r["regret"] > miss),
                       ("the rest", lambda r: r["regret"] <= miss)):
        g = [r for r in every if keep(r) and _best_point(r) is not None]
        best = [b for r in g if (b := _best_point(r)) is not None]
        out.append(f"  {name}: {statistics.median(best):+.2f} / "
                   f"{statistics.median(r['centre'] for r in g):+.2f} ({len(g)})")
    g = [r for r in every if _best_point(r) is not None]
    alt = [(_best_point(r) or 0.0) - d.horizon_alpha * math.log2(r["steps"] / r["scout_steps"])
           for r in g]
    out.append(f"centre more than 1.5 octaves off, of {len(g)}: the vertex (shipped) "
               f"{sum(abs(r['centre']) > 1.5 for r in g)}, the best point "
               f"{sum(abs(a) > 1.5 for a in alt)}")
    out.append("a per-task horizon slope (scout -> ladder), weight w on the measured "
               "slope, (1 - w) on the prior; proxy regret of the pick:")
    shipped = [proxy_regret(r["pair"], r["eta"] * 2 ** r["pick"]) for r in every]
    out.append(f"  shipped picks: {_spread(shipped)}")
    for w in (0.0, 0.25, 0.5, 1.0):
        for capped in (False, True):
            regrets = [proxy_regret(r["pair"], r["eta"] * 2 ** _slope_pick(r, w, capped))
                       for r in every]
            out.append(f"  w={w:g}{', under the ceilings' if capped else ''}: "
                       f"{_spread(regrets)}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", nargs="+", default=list(MEASURED_SPLITS))
    ap.add_argument("--miss", type=float, default=0.2, help="a regret above this is a miss")
    ap.add_argument("--centring", action="store_true",
                    help="also the scout-centring and measured-slope what-ifs")
    args = ap.parse_args(argv)
    every = [r for s in args.splits for r in rows(s)]
    misses = [r for r in every if r["regret"] > args.miss]
    rest = [r for r in every if r["regret"] <= args.miss]
    print(f"splits {', '.join(args.splits)}; a miss: regret above {args.miss:.0%}")
    print(describe(misses, "misses"))
    print(describe(rest, "the rest"))
    if args.centring:
        print(centring(every, args.miss))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
