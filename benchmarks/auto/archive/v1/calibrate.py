"""What ``lrkit auto``'s recommendation costs, measured: the regret it states.

``auto`` cannot measure the regret of its own pick (that takes the full runs it saves),
and the first rung's parabola was no guide: over the 184 budget-1 selections below its
depth had a median of 0.004% against a measured median regret of 4%, with a rank
correlation of -0.18. So ``auto`` quotes what its shipped design measured here, at the
largest budget measured that does not exceed the one it was given.

For budgets 0.5, 1, 2, 4 and 8: the ``shipped`` design (``replay.py``, checked against
``lrkit.auto``) on every selection the benchmark has, both protocols and the extra
selections of ``seeds.py`` (built-in: 8 pairs x seeds 0, 1, 4, 5, 12-19, scored on seeds B
against L*; held-out: 8 tasks x seeds 2-12, scored on seeds 0 and 1); the relative regret
and |log2(lr / eta*)| of each. A budget below a task's ``minimum_budget`` is refused by
``auto``; those selections are counted as refused, not scored. Writes ``calibrate.json``
(one row per selection) and the summary ``lrkit`` ships,
``src/lrkit/auto/measured_regret.json``.

Usage: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/auto/calibrate.py [--budgets 0.5,1,2,4,8]
           [--against "before the floor round"]   (paired against another design; writes nothing)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from replay import DESIGNS, check_shipped, pairs, select  # noqa: E402
from seeds import MORE_SELECTION  # noqa: E402

from lrkit.errors import ConfigError  # noqa: E402

SHIPPED = HERE.parents[1] / "src" / "lrkit" / "auto" / "measured_regret.json"
DEFAULT_BUDGETS = "0.5,1,2,4,8"  # the shipped table; other --budgets only print


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", default=DEFAULT_BUDGETS)
    parser.add_argument("--against", help="a replay.py design to compare with, paired, on "
                        "the same selections (writes nothing)")
    args = parser.parse_args()
    everything = pairs()
    check_shipped(everything)
    if args.against:
        for budget in (float(b) for b in args.budgets.split(",")):
            print(paired(everything, budget, args.against))
        return
    rows = []
    for budget in (float(b) for b in args.budgets.split(",")):
        design = dataclasses.replace(DESIGNS["shipped"], budget=budget)
        for pair in everything:
            for seed in pair.selection + MORE_SELECTION[pair.tag]:
                row = {"budget": budget, "task": pair.name, "shape": pair.shape,
                       "group": pair.tag or "built-in", "seed": seed}
                try:
                    lr, cost = select(pair, seed, design)
                except ConfigError:  # below minimum_budget: auto refuses it, so do we
                    rows.append(row | {"refused": True})
                    continue
                rows.append(row | {"refused": False, "lr": lr, "regret": pair.regret(lr),
                                   "octaves": math.log2(lr / pair.eta), "cost_runs": cost})
            print(f"{budget:g} {pair.name} {pair.shape}", flush=True)
    summary = summarize(rows)
    if args.budgets == DEFAULT_BUDGETS:  # a partial table must not replace the shipped one
        (HERE / "calibrate.json").write_text(json.dumps(rows, indent=1))
        SHIPPED.write_text(json.dumps(summary, indent=1) + "\n")
    print(table(summary))


def paired(everything: list, budget: float, against: str) -> str:
    """The shipped design against another on the same selections: the ones both run,
    the ones only the other runs (the shipped design refuses them), better / worse."""
    designs = {name: dataclasses.replace(DESIGNS[name], budget=budget)
               for name in ("shipped", against)}
    both: dict[str, list[float]] = {"shipped": [], against: []}
    refused = []
    for pair in everything:
        for seed in pair.selection + MORE_SELECTION[pair.tag]:
            other = pair.regret(select(pair, seed, designs[against])[0])
            try:
                mine = pair.regret(select(pair, seed, designs["shipped"])[0])
            except ConfigError:
                refused.append(other)
                continue
            both["shipped"].append(mine)
            both[against].append(other)
    lines = [f"budget {budget:g}: | design | selections | mean | median | 90th pct. | worst |"]
    for label, values in ((f"{against}, both run", both[against]),
                          ("shipped, both run", both["shipped"]),
                          (f"{against}, shipped refuses", refused)):
        v = np.array(values) if values else np.array([math.nan])
        lines.append(f"| {label} | {len(values)} | {v.mean():.1%} | {np.median(v):.1%} "
                     f"| {np.percentile(v, 90):.1%} | {v.max():.1%} |")
    diff = np.array(both["shipped"]) - np.array(both[against])
    lines.append(f"paired: {sum(diff < -1e-9)} better, {sum(diff > 1e-9)} worse, "
                 f"{sum(abs(diff) <= 1e-9)} unchanged")
    return "\n".join(lines)


def summarize(rows: list[dict]) -> dict:
    """Per budget: how many selections, and their regret and octave-error quantiles."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()
    out: dict = {"source": "benchmarks/auto/calibrate.py", "date": date.today().isoformat(),
                 "commit": commit, "budgets": []}
    for budget in sorted({r["budget"] for r in rows}):
        rs = [r for r in rows if r["budget"] == budget and not r["refused"]]
        refused = sum(r["budget"] == budget and r["refused"] for r in rows)
        regret = np.array([r["regret"] for r in rs])
        octaves = np.abs([r["octaves"] for r in rs])
        out["budgets"].append({
            "budget": budget, "selections": len(rs), "refused": refused,
            "tasks": len({(r["task"], r["shape"]) for r in rs}),
            "mean_regret": float(regret.mean()), "median_regret": float(np.median(regret)),
            "p90_regret": float(np.percentile(regret, 90)), "worst_regret": float(regret.max()),
            "median_octaves": float(np.median(octaves)),
            "p90_octaves": float(np.percentile(octaves, 90)),
            "mean_cost_runs": float(np.mean([r["cost_runs"] for r in rs]))})
    return out


def table(summary: dict) -> str:
    out = ["| budget | selections (refused) | mean regret | median | 90th percentile | worst "
           "| median octaves | 90th pct. octaves | mean cost |", "|---" * 9 + "|"]
    for b in summary["budgets"]:
        out.append(f"| {b['budget']:g} | {b['selections']} ({b['refused']}) "
                   f"| {b['mean_regret']:.1%} "
                   f"| {b['median_regret']:.1%} | {b['p90_regret']:.1%} "
                   f"| {b['worst_regret']:.1%} | {b['median_octaves']:.2f} "
                   f"| {b['p90_octaves']:.2f} | {b['mean_cost_runs']:.2f} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
