"""How right ``lrkit diagnose`` is on a sweep (several runs at different LRs) vs one run.

Reads zoo corpora built by ``zoo_corpus.py`` (each pair trained at 0.01x-1000x its oracle
LR, seed 1; labels from the measured regret against the zoo oracle's multi-seed loss) and
forms the sweeps a user would have: 3 or 5 neighbouring LRs on a half-decade grid, 3 or 5
on a decade grid, 3 or 5 on a factor-2 grid around the oracle. Every run of every sweep
is diagnosed alone (``diagnose_curves``) and within its sweep (``diagnose_sweep``), from
the per-update training loss and LR and, in the "val" view, the per-epoch validation
loss; it is scored against its label (ambiguous runs left out).

Beside the sweeps: two-run pairs (a run and one more, as ``check_lr`` names it), the
issue's other lines (leave-one-family-out, "not enough data", the suggestion's direction)
and, with ``--in-progress``, sweeps of runs cut at 10-100% of their updates.

The sweep's one knob, ``lrkit.diagnose.sweep.GAP``, is chosen on the dev families
(``--fit``: a table of gaps); the other splits are then scored at the shipped value.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diagnose/sweep_eval.py \\
        --corpus /tmp/lrkit-diag2-zoo --fit            # dev: the gap table
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diagnose/sweep_eval.py \\
        --corpus /tmp/lrkit-diag-holdout11 --splits holdout11 --in-progress
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


def curves_of(trace: dict[str, Any], run: str, with_val: bool,
              fraction: float = 1.0, planned: tuple[int, int] = (0, 0)) -> list[Curve]:
    """The run's curves, or their first ``fraction`` of the ``planned`` (updates, epochs):
    a run in progress."""
    n = max(2, round(fraction * (planned[0] or len(trace["loss"]))))
    steps = np.arange(len(trace["loss"][:n]), dtype=float)
    curves = [Curve.of("loss", trace["loss"][:n], steps=steps, run=run),
              Curve.of("lr", trace["lr"][:n], steps=steps, run=run)]
    val = trace["val"][:math.floor(fraction * (planned[1] or len(trace["val"])) + 1e-9)]
    if with_val and val:
        epochs = np.arange(1, len(val) + 1, dtype=float)
        curves.append(Curve.of("val_loss", val, epochs=epochs, run=run))
    return curves


def diagnosed(records: list[dict[str, Any]], fraction: float = 1.0
              ) -> dict[tuple[str, str], Diagnosis]:
    """Each run diagnosed alone, in both views, on its first ``fraction`` (a few seconds:
    no cache, so a change to the single-run verdict is always what is scored). A view
    with no validation loss yet reads the training loss."""
    out: dict[tuple[str, str], Diagnosis] = {}
    planned: dict[str, int] = defaultdict(int)  # a run that blew up logged fewer updates
    for r in records:
        planned[r["task"]] = max(planned[r["task"]], int(r["steps"]))
    for r in records:
        trace = json.loads(Path(r["trace"]).read_text())
        for view in ("train", "val"):
            curves = curves_of(trace, r["run"], view == "val", fraction,
                               (planned[r["task"]], r["epochs"]))
            metric = "val_loss" if view == "val" and len(curves) == 3 else None
            out[(r["run"], view)] = diagnose_curves(curves, metric, project=False,
                                                    progress=fraction)
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
                                     "sweep": sr.verdict,
                                     "single": diags[(r["run"], view)].verdict,
                                     "basis": sr.basis, "multiplier": r["multiplier"],
                                     "lr": sr.lr, "suggested": s.suggested_lr,
                                     "sweep_id": (task, kind, sweep)})
    return rows


#: A user's run and one more: a decade or a half-decade away (either side), or "guided":
#: at the run's own ``check_lr`` (``lrkit diagnose``'s "to check this verdict" line).
TWO_RUNS = {"a decade away": (10.0, 0.1), "a half-decade away": (3.162278, 0.316228)}


def two_run_rows(records: list[dict[str, Any]], diags: dict[tuple[str, str], Diagnosis],
                 gap: float) -> list[dict[str, Any]]:
    """One row per (labelled run, partner run, view): the first run's verdict in the pair."""
    by_task: dict[str, dict[float, dict[str, Any]]] = defaultdict(dict)
    for r in records:
        by_task[r["task"]][round(float(r["multiplier"]), 4)] = r
    rows = []
    for r in records:
        if r["lr_class"] not in CLASSES:
            continue
        m = float(r["multiplier"])
        partners = {f"{k}, {'up' if f > 1 else 'down'}": f
                    for k, fs in TWO_RUNS.items() for f in fs}
        alone = diags[(r["run"], "train")]  # what the run's own report says
        if alone.check_lr is not None and alone.base_lr:
            partners["guided"] = alone.check_lr / alone.base_lr
        for kind, f in partners.items():
            other = by_task[r["task"]].get(round(m * f, 4))
            if other is None:
                continue
            for view in ("train", "val"):
                s = diagnose_sweep([diags[(r["run"], view)], diags[(other["run"], view)]],
                                   ["mine", "other"], gap=gap)
                sr = next(x for x in s.runs if x.name == "mine")
                rows.append({"task": r["task"], "family": r["family"], "split": r["split"],
                             "kind": kind, "view": view, "label": r["lr_class"],
                             "sweep": sr.verdict, "single": diags[(r["run"], view)].verdict,
                             "basis": sr.basis, "multiplier": m})
    return rows


def two_run_table(rows: list[dict[str, Any]]) -> str:
    out = [f"\nTwo runs: a run judged beside one more (sweep / single):\n\n{HEAD}"]
    for kind in sorted({r["kind"] for r in rows}):
        k = [r for r in rows if r["kind"] == kind]
        out += [line(f"{kind}: sweep", table(k, "sweep")),
                line(f"{kind}: single", table(k, "single"))]
    return "\n".join(out)


GAPS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def reference_table(records: list[dict[str, Any]]) -> str:
    """What the sweep's errors come from: its best run's final validation loss (one seed)
    stands in for the oracle's multi-seed L*, and the labels' bands are 10% (healthy)
    and 25% (a problem) of L*. Per shape, ``(L_best - L*) / scale`` over the sweeps."""
    by_task: dict[str, dict[float, dict[str, Any]]] = defaultdict(dict)
    for r in records:
        by_task[r["task"]][round(float(r["multiplier"]), 4)] = r
    out = ["\nThe sweep's best against the oracle's L* (validation loss, share of the "
           "labels' scale):\n", "| shape | sweeps | median | 10th percentile | "
           "90th percentile | more than 5% below L* |", "|---|---:|---:|---:|---:|---:|"]
    for kind, sweeps in SWEEPS.items():
        shifts = []
        for members in by_task.values():
            for sweep in sweeps:
                if any(round(m, 4) not in members for m in sweep):
                    continue
                runs = [members[round(m, 4)] for m in sweep]
                finals = [r["final_val"] for r in runs if r.get("final_val") is not None
                          and math.isfinite(r["final_val"])]
                if not finals:
                    continue
                star = float(runs[0]["oracle_loss"])
                shifts.append((min(finals) - star) /
                              max(star, 0.05 * float(runs[0]["init_val"])))
        if shifts:
            q10, q50, q90 = np.percentile(shifts, [10, 50, 90])
            out.append(f"| {kind} | {len(shifts)} | {q50:+.3f} | {q10:+.3f} | {q90:+.3f} | "
                       f"{100 * np.mean(np.array(shifts) < -0.05):.0f}% |")
    return "\n".join(out)


def goal_lines(records: list[dict[str, Any]], diags: dict[tuple[str, str], Diagnosis],
               rows: list[dict[str, Any]]) -> str:
    """The issue's other lines for the sweep: leave-one-family-out accuracy (the gap
    chosen on the other families of these splits), "not enough data", and whether the
    suggested LR points the right way from each too-high and too-low run."""
    # (right, scored) per gap and family: leaving a family out is then a sum
    counts: dict[tuple[float, str], list[int]] = defaultdict(lambda: [0, 0])
    for g in GAPS:
        for r in scored_rows(records, diags, g):
            c = counts[(g, r["family"])]
            c[0] += _norm(r["sweep"]) == r["label"]
            c[1] += 1
    families = sorted({r["family"] for r in rows})

    def others(g: float, fam: str) -> float:
        right = sum(counts[(g, f)][0] for f in families if f != fam)
        return right / max(1, sum(counts[(g, f)][1] for f in families if f != fam))

    chosen = {fam: max(GAPS, key=lambda g: others(g, fam)) for fam in families}
    right = sum(counts[(chosen[fam], fam)][0] for fam in families)
    n = sum(counts[(chosen[fam], fam)][1] for fam in families)
    ned = sum(r["sweep"] == "not_enough_data" for r in rows)
    problems = [r for r in rows if r["label"] in ("too_high", "too_low")]
    way = sum((r["suggested"] < r["lr"]) == (r["label"] == "too_high") and
              r["suggested"] != r["lr"] for r in problems)
    return (f"\nGoal lines (sweep):\n\n"
            f"- leave one family out: {100 * right / max(1, n):.1f}% of {n} rows "
            f"({len(families)} families; gaps chosen {sorted(set(chosen.values()))})\n"
            f"- not enough data: {ned} of {len(rows)} rows\n"
            f"- the suggested LR points the right way from a too-high or too-low run: "
            f"{way} of {len(problems)}")


def detection_table(records: list[dict[str, Any]]) -> str:
    """How early a sweep of runs in progress (each at the same share of its updates)
    calls a too-high run too high: the first share at which it does, per row."""
    fractions = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
    first: dict[tuple[Any, ...], float] = {}  # (sweep, view, run) -> first share caught
    for f in fractions:
        for r in scored_rows(records, diagnosed(records, f), GAP):
            if r["label"] != "too_high":
                continue
            key = (r["sweep_id"], r["view"], r["multiplier"])
            first.setdefault(key, math.inf)
            if r["sweep"] == "too_high":
                first[key] = min(first[key], f)
    firsts = sorted(first.values())
    out = ["\nRuns in progress: a too-high run first called too high by the sweep, at a "
           "share of its updates:\n", "| share | caught by then |", "|---:|---:|"]
    for f in fractions:
        out.append(f"| {f:.0%} | {100 * sum(x <= f for x in firsts) / len(firsts):.1f}% |")
    median = firsts[len(firsts) // 2] if firsts else math.nan
    out.append(f"\nMedian first catch: {median:.0%} of its updates ({len(firsts)} rows)")
    return "\n".join(out)


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
    ap.add_argument("--in-progress", action="store_true",
                    help="also score sweeps of runs in progress (a few minutes)")
    args = ap.parse_args()
    splits = ["dev"] if args.fit else args.splits
    records = [r for c in args.corpus for r in runs_of(c) if r["split"] in splits]
    diags = diagnosed(records)
    print(f"{len(records)} runs of {len({r['task'] for r in records})} pairs "
          f"({len({r['family'] for r in records})} families), splits {', '.join(splits)}")
    if args.fit:
        print(HEAD)
        for gap in GAPS:
            suggestions: list[dict[str, Any]] = []
            rows = scored_rows(records, diags, gap, suggestions)
            print(line(f"gap {gap}", table(rows, "sweep")))
        print(line("single run (same rows)", table(rows, "single")))
        shipped = scored_rows(records, diags, GAP)
        print(basis_table(shipped))
        print(suggestion_table(suggestions))
        print(two_run_table(two_run_rows(records, diags, GAP)))
        print(goal_lines(records, diags, shipped))
        if args.in_progress:
            print(detection_table(records))
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
    print(two_run_table(two_run_rows(records, diags, GAP)))
    print(goal_lines(records, diags, rows))
    print(reference_table(records))
    if args.in_progress:
        print(detection_table(records))
    print(basis_table(rows))


def basis_table(rows: list[dict[str, Any]]) -> str:
    """Where the errors are: rows judged against the sweep's best, and rows judged by the
    run's own curve (within the gap of a best that cannot vouch for it, or blown up)."""
    out = [f"\nBy what judged the run:\n\n{HEAD}"]
    for view in ("train", "val", None):
        for basis in ("sweep", "single run"):
            sub = [r for r in rows if r["basis"] == basis and view in (None, r["view"])]
            if sub:
                out.append(line(f"{basis}, {view or 'both'} view{'s' if not view else ''}",
                                table(sub, "sweep")))
    return "\n".join(out)


if __name__ == "__main__":
    main()
