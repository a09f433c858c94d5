"""How right ``lrkit diagnose`` is on a sweep (several runs at different LRs) vs one run.

Reads zoo corpora built by ``zoo_corpus.py`` (each pair trained at 0.01x-1000x its oracle
LR, seed 1; labels from the measured regret against the zoo oracle's multi-seed loss) and
forms the sweeps a user would have: 3 or 5 neighbouring LRs on a half-decade grid, 3 or 5
on a decade grid, 3 or 5 on a factor-2 grid around the oracle. Every run of every sweep
is diagnosed alone (``diagnose_curves``) and within its sweep (``diagnose_sweep``), from
the per-update training loss and LR and, in the "val" view, the per-epoch validation
loss; it is scored against its label (ambiguous runs left out).

The sweep's one knob, ``lrkit.diagnose.sweep.GAP``, is chosen on the dev families
(``--fit``: a table of gaps); the other splits are then scored at the shipped value.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diagnose/sweep_eval.py \\
        --corpus /tmp/lrkit-diag2-zoo --fit            # dev: the gap table
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diagnose/sweep_eval.py \\
        --corpus /tmp/lrkit-diag2-zoo /tmp/lrkit-diag-holdout10 --splits test holdout10
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.diagnose import Curve, Diagnosis, diagnose_curves
from lrkit.diagnose.sweep import GAP, diagnose_sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verdict_fit import wrong_way

HALF = [0.01, 0.031623, 0.1, 0.316228, 1.0, 3.162278, 10.0, 31.622777, 100.0, 1000.0]
DECADE = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
FINE = [0.316228, 0.5, 1.0, 2.0, 3.162278]
CLASSES = ("too_high", "too_low", "healthy")


def windows(grid: list[float], k: int) -> list[tuple[float, ...]]:
    return [tuple(grid[i:i + k]) for i in range(len(grid) - k + 1)]


#: A decade grid that misses eta* (the corpus grids above all hold 1.0 = eta*, which
#: flatters the best run's LR as an estimate): scored for the suggested LR only.
OFFSET = [0.031623, 0.316228, 3.162278, 31.622777]
SUGGEST_ONLY = {"decade offset x3": windows(OFFSET, 3), "decade offset x4": windows(OFFSET, 4)}
SWEEPS: dict[str, list[tuple[float, ...]]] = {
    "half-decade x3": windows(HALF, 3), "half-decade x5": windows(HALF, 5),
    "decade x3": windows(DECADE, 3), "decade x5": windows(DECADE, 5),
    "factor 2 x3": windows(FINE, 3), "factor 2 x5": windows(FINE, 5)}


def runs_of(corpus: Path) -> list[dict[str, Any]]:
    """One record per corpus run (its label and its trace)."""
    labels = json.loads((corpus / "labels.json").read_text())["runs"]
    seen: dict[str, dict[str, Any]] = {}
    for row in labels:
        if row["run"] in seen:
            continue
        folder = corpus / "traces" / row["task"]
        trace = min(folder.glob(f"lr*-s{row['seed']}.json"),
                    key=lambda p: abs(math.log(float(p.stem[2:].split("-s")[0]) / row["lr"])))
        seen[row["run"]] = {**row, "trace": trace}
    return list(seen.values())


def curves_of(trace: dict[str, Any], run: str, with_val: bool) -> list[Curve]:
    steps = np.arange(len(trace["loss"]), dtype=float)
    curves = [Curve.of("loss", trace["loss"], steps=steps, run=run),
              Curve.of("lr", trace["lr"], steps=steps, run=run)]
    if with_val and trace["val"]:
        epochs = np.arange(1, len(trace["val"]) + 1, dtype=float)
        curves.append(Curve.of("val_loss", trace["val"], epochs=epochs, run=run))
    return curves


def diagnosed(records: list[dict[str, Any]]) -> dict[tuple[str, str], Diagnosis]:
    """Each run diagnosed alone, in both views (a few seconds: no cache, so a change to
    the single-run verdict is always what is scored)."""
    out: dict[tuple[str, str], Diagnosis] = {}
    for r in records:
        trace = json.loads(Path(r["trace"]).read_text())
        for view in ("train", "val"):
            curves = curves_of(trace, r["run"], view == "val")
            metric = "val_loss" if view == "val" and len(curves) == 3 else None
            out[(r["run"], view)] = diagnose_curves(curves, metric, project=False)
    return out


def scored_rows(records: list[dict[str, Any]], diags: dict[tuple[str, str], Diagnosis],
                gap: float, suggestions: list[dict[str, Any]] | None = None
                ) -> list[dict[str, Any]]:
    """One row per (sweep, member run) with a label: the sweep's and the single verdicts;
    ``suggestions`` (when given) gets one row per sweep: its suggested LR against eta*."""
    by_task: dict[str, dict[float, dict[str, Any]]] = defaultdict(dict)
    for r in records:
        by_task[r["task"]][round(float(r["multiplier"]), 4)] = r
    rows = []
    for task, members in by_task.items():
        for kind, sweeps in {**SWEEPS, **SUGGEST_ONLY}.items():
            for sweep in sweeps:
                if any(round(m, 4) not in members for m in sweep):
                    continue
                runs = [members[round(m, 4)] for m in sweep]
                for view in ("train", "val"):
                    s = diagnose_sweep([diags[(r["run"], view)] for r in runs], gap=gap)
                    if suggestions is not None:
                        eta = float(runs[0]["eta_star"])
                        suggestions.append({
                            "kind": kind, "view": view, "edge": s.edge,
                            "suggested": math.log2(s.suggested_lr / eta),
                            "best": math.log2(s.best_lr / eta),
                            "brackets": min(sweep) < 1.0 < max(sweep)})
                    # the sweep's runs come back by LR, as the members are listed
                    for r, sr in zip(runs, s.runs, strict=True):
                        if r["lr_class"] not in CLASSES or kind not in SWEEPS:
                            continue
                        rows.append({"task": task, "family": r["family"], "split": r["split"],
                                     "kind": kind, "view": view, "label": r["lr_class"],
                                     "sweep": sr.verdict, "single": sr.diagnosis.verdict,
                                     "basis": sr.basis, "multiplier": r["multiplier"]})
    return rows


def _norm(v: str) -> str:
    return "healthy" if v == "ok" else v


def table(rows: Iterable[dict[str, Any]], key: str) -> dict[str, Any]:
    rows = list(rows)
    n = len(rows)
    right = sum(_norm(r[key]) == r["label"] for r in rows)
    out: dict[str, Any] = {"n": n, "accuracy": right / n if n else math.nan}
    for c in CLASSES:
        said = [r for r in rows if _norm(r[key]) == c]
        truly = [r for r in rows if r["label"] == c]
        out[c] = ((sum(r["label"] == c for r in said) / len(said)) if said else math.nan,
                  (sum(_norm(r[key]) == c for r in truly) / len(truly)) if truly else math.nan)
    # verdict_fit's own count, on its spelling of a healthy label ("ok")
    out["wrong_way"], out["problems"] = wrong_way(
        [("ok" if r["label"] == "healthy" else r["label"], r[key]) for r in rows])
    return out


def line(name: str, t: dict[str, Any]) -> str:
    pr = " | ".join(f"{100 * t[c][0]:.1f} / {100 * t[c][1]:.1f}" for c in CLASSES)
    return (f"| {name} | {t['n']} | {100 * t['accuracy']:.1f}% | {pr} | "
            f"{t['wrong_way']} of {t['problems']} |")


HEAD = ("| | rows | accuracy | too high P / R | too low P / R | healthy P / R | wrong way |\n"
        "|---|---:|---:|---:|---:|---:|---:|")


def suggestion_table(suggestions: list[dict[str, Any]]) -> str:
    """The suggested LR against eta*, in octaves, per sweep shape; beside it the sweep's
    best run's LR (on grids that hold eta* itself, the best run is flattered)."""
    out = ["\nThe suggested LR against eta* (octaves), per sweep:\n",
           "| sweeps | count | suggested: median abs error | within 1 octave | best run: "
           "median abs error | within 1 octave |", "|---|---:|---:|---:|---:|---:|"]
    groups: list[tuple[str, list[dict[str, Any]]]] = [
        ("all that bracket eta*", [x for x in suggestions if x["brackets"]]),
        ("all that do not", [x for x in suggestions if not x["brackets"]])]
    groups += [(f"{k}, bracketing", [x for x in suggestions if x["kind"] == k
                                     and x["brackets"]]) for k in {**SWEEPS, **SUGGEST_ONLY}]
    for name, g in groups:
        if not g:
            continue
        err = np.abs([x["suggested"] for x in g])
        best = np.abs([x["best"] for x in g])
        out.append(f"| {name} | {len(g)} | {np.median(err):.2f} | "
                   f"{100 * np.mean(err <= 1):.0f}% | {np.median(best):.2f} | "
                   f"{100 * np.mean(best <= 1):.0f}% |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", nargs="+", type=Path, required=True)
    ap.add_argument("--splits", nargs="+", default=["dev"])
    ap.add_argument("--fit", action="store_true", help="dev only: the table of gaps")
    args = ap.parse_args()
    splits = ["dev"] if args.fit else args.splits
    records = [r for c in args.corpus for r in runs_of(c) if r["split"] in splits]
    diags = diagnosed(records)
    print(f"{len(records)} runs of {len({r['task'] for r in records})} pairs "
          f"({len({r['family'] for r in records})} families), splits {', '.join(splits)}")
    if args.fit:
        print(HEAD)
        for gap in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3):
            suggestions: list[dict[str, Any]] = []
            rows = scored_rows(records, diags, gap, suggestions)
            print(line(f"gap {gap}", table(rows, "sweep")))
        print(line("single run (same rows)", table(rows, "single")))
        print(suggestion_table(suggestions))
        return
    suggestions = []
    rows = scored_rows(records, diags, GAP, suggestions)
    print(f"\nGap {GAP} (shipped). Every run in every sweep it belongs to:\n\n{HEAD}")
    print(line("**sweep**", table(rows, "sweep")))
    print(line("single run (same rows)", table(rows, "single")))
    for view in ("train", "val"):
        v = [r for r in rows if r["view"] == view]
        print(line(f"sweep, {view} view", table(v, "sweep")))
        print(line(f"single, {view} view", table(v, "single")))
    print(f"\nBy sweep shape (sweep / single):\n\n{HEAD}")
    for kind in SWEEPS:
        k = [r for r in rows if r["kind"] == kind]
        print(line(f"{kind}: sweep", table(k, "sweep")))
        print(line(f"{kind}: single", table(k, "single")))
    print(f"\nBy split and family (sweep):\n\n{HEAD}")
    for split in splits:
        for key in ("sweep", "single"):
            print(line(f"{split}: {key}", table([r for r in rows if r["split"] == split], key)))
    for fam in sorted({r["family"] for r in rows}):
        print(line(fam, table([r for r in rows if r["family"] == fam], "sweep")))
    print(suggestion_table(suggestions))
    fell_back = sum(r["basis"] == "single run" for r in rows)
    print(f"\nJudged by the run alone (the sweep's best at its edge, within the gap): "
          f"{fell_back} of {len(rows)} rows")


if __name__ == "__main__":
    main()
