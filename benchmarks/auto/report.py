"""Print the study's markdown tables from ``results_<split>.json`` (written by study.py).

    .venv/bin/python benchmarks/auto/report.py test

One row per method: exact scores where the method was scored exactly, else the proxy,
and the column says which.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from study import plot, summarise, summary_row


def combined(split: str) -> dict[str, tuple[str, dict]]:
    """method -> (scoring used, summary): exact where the method was scored exactly."""
    doc = json.loads((Path(__file__).resolve().parent / f"results_{split}.json").read_text())
    rows = doc["rows"]
    out = {}
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == name]
        key = "exact" if any(r.get("exact") is not None for r in mine) else "proxy"
        out[name] = (key, summarise(mine, key))
    return out


def rows_table(split: str) -> str:
    doc = json.loads((Path(__file__).resolve().parent / f"results_{split}.json").read_text())
    rows = doc["rows"]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    out = ["| method | scoring | selections (pairs) | median regret | 90th pct | worst | "
           "divergences | median octave error | median cost (runs) | max cost |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name in methods:
        mine = [r for r in rows if r["method"] == name]
        key = "exact" if any(r.get("exact") is not None for r in mine) else "proxy"
        out.append(summary_row(name, summarise(mine, key), key))
    return "\n".join(out)


if __name__ == "__main__":
    split = sys.argv[1] if len(sys.argv) > 1 else "test"
    print(rows_table(split))
    if len(sys.argv) > 2:  # a PNG path: the regret-vs-cost plot of the same rows
        plot({f"{k} ({key})": s for k, (key, s) in combined(split).items()},
             Path(sys.argv[2]), f"{split} split (exact where marked, else proxy)")
