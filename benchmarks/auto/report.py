"""Print the study's markdown tables from ``results_<split>.json`` (written by study.py).

    .venv/bin/python benchmarks/auto/report.py test
    .venv/bin/python benchmarks/auto/report.py --pool   # every held-out split, pooled
    .venv/bin/python benchmarks/auto/report.py --pool holdout6 holdout7   # these, pooled

One row per method: exact scores where the method was scored exactly, else the proxy,
and the column says which. A second table gives, per auto design, the length of its
ladder runs, where their best sat (an edge or inside) and how often it spent more
than one run. A third compares each auto variant (``--design``) with the shipped design
selection by selection: where its pick or cost differs, which way, and what it gained.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from study import MEASURED_SPLITS, plot, quantile, summarise, summary_row

SHIPPED = "lrkit auto"
SAME = 0.005  # exact regrets this close (half a point) count as neither better nor worse


def load(split: str) -> list[dict]:
    """The rows of ``results_<split>.json``."""
    path = Path(__file__).resolve().parent / f"results_{split}.json"
    return list(json.loads(path.read_text())["rows"])


def combined(split: str) -> dict[str, tuple[str, dict]]:
    """method -> (scoring used, summary): exact where the method was scored exactly."""
    rows = load(split)
    out = {}
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == name]
        key = "exact" if any(r.get("exact") is not None for r in mine) else "proxy"
        out[name] = (key, summarise(mine, key))
    return out


def rows_table(split: str) -> str:
    rows = load(split)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    out = ["| method | scoring | selections (pairs) | median regret | 90th pct | worst | "
           "divergences | median octave error | median cost (runs) | max cost |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name in methods:
        mine = [r for r in rows if r["method"] == name]
        key = "exact" if any(r.get("exact") is not None for r in mine) else "proxy"
        out.append(summary_row(name, summarise(mine, key), key))
    return "\n".join(out)


def search_table(split: str) -> str:
    """Per auto design: the ladder runs' length (share of a run) and where its best sat."""
    doc = {"rows": load(split)}
    out = ["| design | ladder run length, median / 90th pct (share of a run) | ladder's best "
           "at the low edge / inside / at the high edge | cost: 90th pct, selections above "
           "1 run |", "|---|---|---|---|"]
    for name in dict.fromkeys(r["method"] for r in doc["rows"]):
        infos = [r["info"] for r in doc["rows"] if r["method"] == name]
        fractions = sorted(i["fraction"] for i in infos if i.get("fraction"))
        if not fractions:
            continue
        where = [i.get("ladder_best") for i in infos]
        costs = [r["cost_runs"] for r in doc["rows"] if r["method"] == name]
        over = sum(1 for c in costs if c > 1.0 + 1e-9)
        out.append(f"| {name} | {quantile(fractions, 0.5):.3f} / "
                   f"{quantile(fractions, 0.9):.3f} | {where.count('low')} / "
                   f"{where.count('inside')} / {where.count('high')} | "
                   f"{quantile(costs, 0.9):.2f}, {over} of {len(costs)} |")
    return "\n".join(out)


def variants_table(split: str) -> str:
    """Each auto variant against the shipped design, on the selections both made: how many
    picks or costs differ, how many of those it raised or lowered, made better or worse
    (exact regret, by more than ``SAME``), the mean exact regret of both and the 75th pct
    of its cost."""
    rows = load(split)
    by = {(r["method"], r["pair"], r["seed"]): r for r in rows}
    out = ["| variant | differs from shipped | raised / lowered | better / worse | mean regret "
           "(shipped) | cost 75th pct (shipped) |", "|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["method"] for r in rows):
        if not name.startswith(SHIPPED + " "):
            continue
        pairs = [(by[(SHIPPED, p, s)], r) for (m, p, s), r in by.items()
                 if m == name and (SHIPPED, p, s) in by]
        changed = [(a, b) for a, b in pairs
                   if a["lr"] != b["lr"] or abs(a["cost_runs"] - b["cost_runs"]) > 1e-3]
        better = sum(1 for a, b in changed if b["exact"] < a["exact"] - SAME)
        worse = sum(1 for a, b in changed if b["exact"] > a["exact"] + SAME)
        raised = sum(1 for a, b in changed if b["lr"] > a["lr"])
        lowered = sum(1 for a, b in changed if b["lr"] < a["lr"])
        mean = [sum(r["exact"] for r in side) / len(side) for side in zip(*pairs, strict=True)]
        cost = [quantile([r["cost_runs"] for r in side], 0.75)
                for side in zip(*pairs, strict=True)]
        out.append(f"| {name} | {len(changed)} of {len(pairs)} | {raised} / {lowered} | "
                   f"{better} / {worse} | {mean[1]:.1%} ({mean[0]:.1%}) | {cost[1]:.2f} "
                   f"({cost[0]:.2f}) |")
    return "\n".join(out)


def pooled_table(splits: tuple[str, ...] = MEASURED_SPLITS) -> str:
    """Exact scores pooled over ``splits`` (default every held-out split: what auto's
    "how close" line quotes), for each method scored on all of them."""
    rows = {split: load(split) for split in splits}
    common = set.intersection(*({r["method"] for r in rs} for rs in rows.values()))
    out = [f"Pooled over {', '.join(splits)} (exact):", "",
           "| method | selections (pairs) | median regret | 90th pct | worst | divergences "
           "| median octave error | median cost | max cost |",
           "|---|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["method"] for rs in rows.values() for r in rs):
        if name in common:
            mine = [r for rs in rows.values() for r in rs if r["method"] == name]
            out.append(summary_row(name, summarise(mine, "exact")))
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pool"]:
        print(pooled_table(tuple(sys.argv[2:]) or MEASURED_SPLITS))
        raise SystemExit(0)
    split = sys.argv[1] if len(sys.argv) > 1 else "test"
    print(rows_table(split))
    print()
    print(search_table(split))
    print()
    print(variants_table(split))
    if len(sys.argv) > 2:  # a PNG path: the regret-vs-cost plot of the same rows
        plot({f"{k} ({key})": s for k, (key, s) in combined(split).items()},
             Path(sys.argv[2]), f"{split} split (exact where marked, else proxy)")
