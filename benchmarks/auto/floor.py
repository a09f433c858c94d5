"""The regret floor of LR selection on the zoo: a full-length grid search on one tool seed.

For each pair: full runs (the pair's real length) of a half-octave grid eta*/8 .. 4 eta*
(11 LRs, on the grid 2**(k/2); ``horizon.py``'s runs, shared through the run cache) on
tool seed 1000, the grid point with the lowest final validation loss picked, and that pick
scored exactly like every method (``zoo.score``: the 6 scoring seeds against L*). This
selection costs 11 runs, knows where eta* is to within the grid, and trains at the real
horizon: what it misses is seed noise alone. No method spending about one run can be
expected to beat it; its regrets bound what the goal lines can ask of one.

``--fraction F --seeds N`` asks the same of compressed runs: the grid trained at F of the
length on N tool seeds (11 F N runs), the pooled best moved down by the shipped design's
horizon slope (``horizon_alpha`` octaves per octave of length, fitted on dev) and rounded
to ``2**(k/4)``, as auto's choice is. It bounds any method that sees only runs of that
length and shifts their best by one slope, however many it trains.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/floor.py --split test
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/floor.py --split test \
        --fraction 0.25 --seeds 2

``--pool SPLIT ...`` trains nothing: it pools the saved floors of those splits (for the
given ``--fraction`` and ``--seeds``) beside the shipped auto's pick on the same tool
seed (1000) from ``results_<split>.json``, one pick per pair for both.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HERE, exact
from horizon import main as horizon_main
from study import quantile

from lrkit.auto import DEFAULT_DESIGN
from lrkit.tasks.zoo import SPLITS, zoo_pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=SPLITS, default="test")
    ap.add_argument("--fraction", type=float, default=1.0,
                    help="the runs' share of the pair's length (1: full runs)")
    ap.add_argument("--seeds", type=int, default=1, help="tool seeds pooled per LR")
    ap.add_argument("--out", default="")
    ap.add_argument("--pool", nargs="+", choices=SPLITS, metavar="SPLIT",
                    help="pool these splits' saved floors beside auto's seed-1000 picks")
    args = ap.parse_args(argv)
    f, n = args.fraction, args.seeds
    tail = "" if (f, n) == (1.0, 1) else f"_f{f:g}_s{n}"
    if args.pool:
        return pool(args.pool, tail)
    out = Path(args.out or HERE / f"floor_{args.split}{tail}.json")
    runs = HERE / "cache" / f"horizon_{args.split}{tail or '_f1'}.json"
    horizon_main(["--split", args.split, "--seeds", str(n), "--fractions", str(f),
                  "--out", str(runs)])
    data = json.loads(runs.read_text())
    shift = DEFAULT_DESIGN.horizon_alpha * math.log2(1 / f)
    rows = []
    for pair in [p.name for p in zoo_pairs(args.split)]:
        pooled: dict[float, list[float]] = {}
        for r in data[pair]["runs"]:
            pooled.setdefault(r["lr"], []).append(r["loss"] if r["loss"] is not None
                                                  else math.inf)
        best = min(pooled, key=lambda lr: (sum(pooled[lr]) / len(pooled[lr]), lr))
        pick = 2.0 ** (round(4 * (math.log2(best) - shift)) / 4)
        scored = exact(pair, pick)
        rows.append({"pair": pair, "lr": pick, "eta_star": data[pair]["eta_star"],
                     "regret": scored["regret"], "diverged": scored["diverged"]})
        print(f"{pair:30s} pick {pick:.4g} eta* {data[pair]['eta_star']:.4g} "
              f"regret {scored['regret']:.3f}", file=sys.stderr, flush=True)
    regrets = [r["regret"] for r in rows]
    summary = {"pairs": len(rows), "median": quantile(regrets, 0.5),
               "p90": quantile(regrets, 0.9), "worst": max(regrets),
               "divergences": sum(1 for v in regrets if not math.isfinite(v)),
               "cost_runs": 11 * f * n, "fraction": f, "seeds": n, "shift_octaves": shift}
    out.write_text(json.dumps({"split": args.split, "summary": summary, "rows": rows},
                              indent=1) + "\n")
    print(json.dumps(summary))
    return 0


def pool(splits: list[str], tail: str) -> int:
    """Print the floor pooled over ``splits`` (files ``floor_<split><tail>.json``) and the
    shipped auto's picks on tool seed 1000 over the same pairs."""
    def line(name: str, regrets: list[float]) -> str:
        def pct(x: float) -> str:
            return f"{100 * x:.1f}%" if math.isfinite(x) else "inf"
        return (f"{name}: {len(regrets)} pairs, median {pct(quantile(regrets, 0.5))}, 90th "
                f"pct {pct(quantile(regrets, 0.9))}, worst {pct(max(regrets))}, "
                f"divergences {sum(not math.isfinite(v) for v in regrets)}")

    floor, auto = [], []
    for split in splits:
        floor += [math.inf if r["diverged"] else r["regret"] for r in json.loads(
            (HERE / f"floor_{split}{tail}.json").read_text())["rows"]]
        auto += [math.inf if r.get("diverged") else r["exact"] for r in json.loads(
            (HERE / f"results_{split}.json").read_text())["rows"]
            if r["method"] == "lrkit auto" and r["seed"] == 1000]
    print(line(f"floor{tail or ' (full length, 1 seed)'}", floor))
    print(line("lrkit auto, tool seed 1000", auto))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
