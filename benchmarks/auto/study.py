"""Run LR-selection methods on a zoo split, score them, print and save the table.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/study.py --split dev --seeds 3 \\
        --score proxy --design '{"lean": 0.5}' --design '{}'
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/study.py --split test --seeds 5 \\
        --score exact --methods "lrkit auto" --write-measured

Resumable: auto's trial runs (``cache/runs.jsonl``), every selection
(``cache/selections.jsonl``) and every scoring run (the zoo's ``cache/auto.jsonl``) are
cached. Tool seeds are the zoo's ``TOOL_SEEDS`` (1000, 1001, ...). Pairs without an oracle
yet are selected (``--select-only`` warms the caches) but not scored.

Each ``--design JSON`` adds ``lrkit auto`` with those knobs changed from the shipped
design (``{}`` is the shipped design), named by the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HERE, Selection, exact, octaves, proxy_regret, select, zoo
from methods import METHODS, auto_method, design_tag, selection_tag

from lrkit.auto import DEFAULT_DESIGN, Design
from lrkit.auto.search import best_at
from lrkit.tasks.zoo import SPLITS, zoo_pairs


def _select(name: str, fn: Any, tag: str | None, pair: str, seed: int) -> Selection:
    """``select``, tagged by the method's design (``tag``) or else by what it must match."""
    return select(name, fn, pair, seed,
                  tag if tag is not None else selection_tag(name, pair, seed))


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile, linear between order statistics; an infinite neighbour (a
    divergence's regret) is returned as it is rather than interpolated into NaN.

    >>> quantile([1.0, 2.0, 3.0], 0.5), quantile([1.0, math.inf], 0.9)
    (2.0, inf)
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    a, b = ordered[lo], ordered[hi]
    if not math.isfinite(a) or not math.isfinite(b):
        return b if pos - lo > 0 else a
    return a + (b - a) * (pos - lo)


def summarise(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Median / 90th percentile / worst of ``key`` over the scored rows, and the costs."""
    scored = [r for r in rows if r.get(key) is not None and not math.isnan(r[key])]
    regrets = [r[key] for r in scored]
    costs = [r["cost_runs"] for r in rows]
    octs = [r["octaves"] for r in scored if r["octaves"] is not None
            and math.isfinite(r["octaves"])]
    return {"selections": len(rows), "scored": len(scored),
            "refused": sum(1 for r in rows if r["lr"] is None and "regret" not in r["info"]),
            "pairs": len({r["pair"] for r in scored}),
            "median": quantile(regrets, 0.5), "p90": quantile(regrets, 0.9),
            "worst": max(regrets, default=math.nan),
            "divergences": sum(1 for v in regrets if not math.isfinite(v)),
            "median_octaves": quantile(octs, 0.5), "p90_octaves": quantile(octs, 0.9),
            "median_cost": quantile(costs, 0.5), "max_cost": max(costs, default=math.nan),
            "mean": statistics.fmean([min(v, 100.0) for v in regrets]) if regrets
            else math.nan}


def _fmt(v: float, pct: bool = True) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if not math.isfinite(v):
        return "inf"
    return f"{v:.1%}" if pct else f"{v:.2f}"


def table(summaries: dict[str, dict[str, Any]], label: str) -> str:
    lines = [f"| method | selections (pairs) | median regret | 90th pct | worst | divergences "
             f"| median octave error | median cost | max cost |  ({label})",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [summary_row(name, s) for name, s in summaries.items()]
    return "\n".join(lines)


def summary_row(name: str, s: dict[str, Any], scoring: str | None = None) -> str:
    """One method's table row (with a scoring column when ``scoring`` is given)."""
    refused = f", {s['refused']} refused" if s["refused"] else ""
    head = f"| {name} | " + (f"{scoring} | " if scoring else "")
    return (f"{head}{s['scored']} ({s['pairs']}{refused}) | {_fmt(s['median'])} | "
            f"{_fmt(s['p90'])} | {_fmt(s['worst'])} | {s['divergences']} | "
            f"{_fmt(s['median_octaves'], False)} | {_fmt(s['median_cost'], False)} | "
            f"{_fmt(s['max_cost'], False)} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=SPLITS, required=True)
    ap.add_argument("--seeds", type=int, default=5, help="tool seeds per pair (1000, ...)")
    ap.add_argument("--methods", default="lrkit auto",
                    help=f"comma-separated, from: {', '.join(METHODS)}")
    ap.add_argument("--design", action="append", default=[],
                    help="JSON knobs for an extra lrkit auto variant ({} = shipped)")
    ap.add_argument("--score", choices=("proxy", "exact", "both"), default="proxy")
    ap.add_argument("--exact-methods", default="",
                    help="with --score both: the methods scored exactly (default: all)")
    ap.add_argument("--pairs", default="", help="comma-separated subset of the split")
    ap.add_argument("--select-only", action="store_true", help="warm the caches, no scores")
    ap.add_argument("--write-measured", action="store_true",
                    help="write src/lrkit/auto/measured_regret.json (exact; pooled over "
                         "the test split and the holdouts)")
    ap.add_argument("--out", default="", help="results JSON (default results_<split>.json)")
    ap.add_argument("--plot", default="", help="write a regret-vs-cost PNG here")
    ap.add_argument("--prescore", action="store_true",
                    help="train the scoring runs of every cached pick (seed by seed, no "
                         "oracle needed), then stop")
    args = ap.parse_args(argv)

    pairs = [p.name for p in zoo_pairs(args.split)]
    if args.pairs:
        wanted = args.pairs.split(",")
        pairs = [p for p in pairs if p in wanted]
    seeds = list(zoo.TOOL_SEEDS[: args.seeds])
    methods: dict[str, tuple[Any, bool, str | None]] = {}
    for name in [m.strip() for m in args.methods.split(",") if m.strip()]:
        if name not in METHODS:
            ap.error(f"--methods: unknown method {name!r}")
        fn, det = METHODS[name]
        tag = design_tag(DEFAULT_DESIGN) if name == "lrkit auto" else None
        methods[name] = (fn, det, tag)
    for knobs in args.design:
        design = Design.from_dict({**DEFAULT_DESIGN.to_dict(), **json.loads(knobs)})
        label = "lrkit auto " + (knobs if knobs.strip() != "{}" else "(shipped)")
        methods[label] = (auto_method(design), False, design_tag(design))

    if args.prescore:
        return prescore(pairs, methods, seeds)
    oracles: set[str] = set()
    with contextlib.suppress(FileNotFoundError):  # no oracle yet: select only
        oracles = set(zoo.oracles())
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for pair in pairs:
        for name, (fn, det, tag) in methods.items():
            for seed in (seeds[:1] if det else seeds):
                try:
                    sel = _select(name, fn, tag, pair, seed)
                except KeyError:  # an LR-free optimizer scores itself: no oracle yet
                    continue
                info = {k: v for k, v in sel.info.items() if k != "curve"}  # keep it small
                if sel.info.get("curve"):
                    info["ladder_best"] = best_at([tuple(p) for p in sel.info["curve"]])
                row: dict[str, Any] = {"method": name, "pair": pair, "seed": seed,
                                       "lr": sel.lr if math.isfinite(sel.lr) else None,
                                       "cost_runs": sel.cost_runs, "seconds": sel.seconds,
                                       "info": info}
                if pair in oracles and not args.select_only and "regret" in sel.info:
                    # an LR-free optimizer: trained and scored on the scoring seeds already
                    row.update(octaves=None, proxy=sel.info["regret"], exact=sel.info["regret"],
                               diverged=sel.info["diverged"])
                elif pair in oracles and not args.select_only and row["lr"] is not None:
                    row["octaves"] = octaves(pair, sel.lr)
                    if args.score in ("proxy", "both"):
                        row["proxy"] = proxy_regret(pair, sel.lr)
                    exact_ok = not args.exact_methods or name in args.exact_methods.split(",")
                    if args.score in ("exact", "both") and exact_ok:
                        scored = exact(pair, sel.lr)
                        row["exact"] = scored["regret"]
                        row["diverged"] = scored["diverged"]
                else:
                    row["octaves"] = None
                rows.append(row)
                # deterministic methods stand for every seed in the statistics
                for extra in (seeds[1:] if det else []):
                    rows.append({**row, "seed": extra})
        print(f"[{time.perf_counter() - started:6.0f}s] {pair}", file=sys.stderr, flush=True)

    out = Path(args.out) if args.out else HERE / f"results_{args.split}.json"
    shipped = methods["lrkit auto"][2] if "lrkit auto" in methods else None
    out.write_text(json.dumps({"split": args.split, "seeds": seeds, "score": args.score,
                               "date": date.today().isoformat(), "auto_design": shipped,
                               "rows": rows}, indent=0, default=str) + "\n")
    for key in (["proxy", "exact"] if args.score == "both" else [args.score]):
        summaries = {name: summarise([r for r in rows if r["method"] == name], key)
                     for name in methods}
        print(table(summaries, f"{args.split} split, {key} scoring, seeds {seeds}"))
        if args.plot:
            plot(summaries, Path(args.plot), f"{args.split} split, {key} scoring")
    if args.write_measured:
        write_measured(rows, args)
    return 0


def plot(summaries: dict[str, dict[str, Any]], path: Path, title: str) -> None:
    """Median regret (dot) and 90th percentile (bar top) against median cost, per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, s in summaries.items():
        if not math.isfinite(s["median"]):
            continue
        cost = max(s["median_cost"], 0.01)
        top = s["p90"] if math.isfinite(s["p90"]) else 10.0
        ax.errorbar([cost], [max(s["median"], 1e-4)], yerr=[[0], [max(top - s["median"], 0)]],
                    fmt="o", capsize=3, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("selection cost (runs, median; 0 plotted at 0.01)")
    ax.set_ylabel("regret: median (dot) to 90th percentile")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def prescore(pairs: list[str], methods: dict[str, Any], seeds: list[int]) -> int:
    """Train the zoo's scoring runs of every cached pick, tool seed by tool seed (so a
    partial pass covers every pair evenly); the oracle is needed only to read them."""
    started = time.perf_counter()
    for seed in seeds:
        for name, (fn, det, tag) in methods.items():
            if det and seed != seeds[0]:
                continue
            for pair in pairs:
                sel = _select(name, fn, tag, pair, seed)
                if math.isfinite(sel.lr):
                    for s in zoo.SCORE_SEEDS:
                        zoo.run(pair, sel.lr, s)
            print(f"[{time.perf_counter() - started:6.0f}s] {name} seed {seed}",
                  file=sys.stderr, flush=True)
    return 0


# the splits no knob was fitted on: what auto's "how close" line quotes, pooled
# a pick this far above the best LR's loss is a miss (the top-edge note's count)
MISS_REGRET = 0.2
MEASURED_SPLITS = ("test", "holdout", "holdout2", "holdout3", "holdout4", "holdout5",
                   "holdout6", "holdout7", "holdout8", "holdout9", "holdout10")


def write_measured(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """The shipped design's exact numbers on every split in ``MEASURED_SPLITS``, pooled ->
    src/lrkit/auto/measured_regret.json: this run's rows for its own split, the saved
    ``results_<split>.json`` of the others (which must hold the same shipped design)."""
    if args.split not in MEASURED_SPLITS or args.score not in ("exact", "both"):
        raise SystemExit(f"--write-measured needs --split one of {MEASURED_SPLITS} "
                         "--score exact")
    import subprocess

    tag = design_tag(DEFAULT_DESIGN)
    mine = [r for r in rows if r["method"] == "lrkit auto" and r.get("exact") is not None]
    for split in MEASURED_SPLITS:
        path = HERE / f"results_{split}.json"
        saved = json.loads(path.read_text()) if path.exists() else {}
        if split == args.split:
            continue
        if saved.get("auto_design") != tag:
            raise SystemExit(f"--write-measured: {path.name} does not hold the shipped design; "
                             f"run study.py --split {split} --score both first")
        mine += [r for r in saved["rows"]
                 if r["method"] == "lrkit auto" and r.get("exact") is not None]
    s = summarise(mine, "exact")
    # how often a pick missed, by where the search's best run sat: auto's note on a
    # search whose best run was its highest LR quotes these shares
    top = [r for r in mine if r["info"].get("ladder_best") == "high"]
    rest = [r for r in mine if r["info"].get("ladder_best") != "high"]
    by_best_at = {"miss_regret": MISS_REGRET,
                  "high": {"selections": len(top),
                           "misses": sum(r["exact"] > MISS_REGRET for r in top)},
                  "other": {"selections": len(rest),
                            "misses": sum(r["exact"] > MISS_REGRET for r in rest)}}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()
    doc = {"source": "benchmarks/auto/study.py --score exact --write-measured, pooled over "
                     + ", ".join(MEASURED_SPLITS),
           "splits": list(MEASURED_SPLITS),
           "date": date.today().isoformat(), "commit": commit,
           "budgets": [{"budget": 1.0, "selections": s["scored"], "refused": 0,
                        "tasks": s["pairs"], "mean_regret": s["mean"],
                        "median_regret": s["median"], "p90_regret": s["p90"],
                        "worst_regret": s["worst"], "median_octaves": s["median_octaves"],
                        "p90_octaves": s["p90_octaves"],
                        "median_cost_runs": s["median_cost"], "max_cost_runs": s["max_cost"],
                        "divergences": s["divergences"], "by_best_at": by_best_at}]}
    path = HERE.parents[1] / "src" / "lrkit" / "auto" / "measured_regret.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
