"""Score ``lrkit.diagnose`` on the labelled corpus written by ``corpus.py``.

Reports, in Markdown on stdout (paste into RESULTS.md):

* precision / recall of the verdict on the ``too_high`` / ``too_low`` / ``healthy`` runs;
* precision / recall per finding kind against the runs made to show it (schedule bugs,
  overfitting, NaN logged);
* the error of the convergence projection made from the first half of each long run,
  against the same estimate made from the whole run and against the run's observed loss.

Usage (several corpora are scored as one, e.g. two fresh seeds)::

    .venv/bin/python benchmarks/diagnose/evaluate.py --corpus /tmp/lrkit-diag-corpus
    .venv/bin/python benchmarks/diagnose/evaluate.py --corpus /tmp/lrkit-diag-seed5 \
        /tmp/lrkit-diag-seed6
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.diagnose import Curve, diagnose, diagnose_curves, read_logs
from lrkit.diagnose.convergence import estimate_convergence, per_epoch

CLASSES = ("too_high", "too_low", "healthy")
VERDICT = {"too_high": "too_high", "too_low": "too_low", "ok": "healthy"}
DEFECT_KIND = {"floor_early": "schedule_floor_early", "unit_mixup": "schedule_unit_mixup",
               "restart": "schedule_restart", "overfit": "overfitting"}


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    return p, r


def _fmt(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f}%"


def three_class(rows: list[dict[str, Any]]) -> tuple[str, list[str]]:
    scored = [r for r in rows if r["lr_class"] in CLASSES]
    lines = ["| class | runs | precision | recall |", "|---|---:|---:|---:|"]
    for cls in CLASSES:
        tp = sum(r["lr_class"] == cls and r["pred"] == cls for r in scored)
        fp = sum(r["lr_class"] != cls and r["pred"] == cls for r in scored)
        fn = sum(r["lr_class"] == cls and r["pred"] != cls for r in scored)
        p, rc = _pr(tp, fp, fn)
        lines.append(f"| {cls} | {tp + fn} | {_fmt(p)} ({tp}/{tp + fp}) | {_fmt(rc)} "
                     f"({tp}/{tp + fn}) |")
    confusion = Counter((r["lr_class"], r["pred"]) for r in scored)
    lines += ["", "Confusion (rows: label, columns: verdict):", "",
              "| label \\ verdict | " + " | ".join(CLASSES) + " |",
              "|---|" + "---:|" * len(CLASSES)]
    for cls in CLASSES:
        lines.append(f"| {cls} | " + " | ".join(str(confusion[(cls, p)]) for p in CLASSES)
                     + " |")
    errors = [f"{r['id']}: label {r['lr_class']}, verdict {r['pred']}, findings "
              f"{r['kinds']} (m={r['multiplier']:g}, R={r['regret']})"
              for r in scored if r["pred"] != r["lr_class"]]
    return "\n".join(lines), errors


def per_kind(rows: list[dict[str, Any]]) -> str:
    lines = ["| finding kind | runs made to show it | precision | recall |",
             "|---|---:|---:|---:|"]
    truth: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r["defect"] in DEFECT_KIND:
            truth[DEFECT_KIND[r["defect"]]].add(r["id"])
        if r["nan_logged"]:
            truth["nan_loss"].add(r["id"])
    for kind in ("nan_loss", *DEFECT_KIND.values()):
        pred = {r["id"] for r in rows if kind in r["kinds"]}
        tp, fp, fn = len(pred & truth[kind]), len(pred - truth[kind]), len(truth[kind] - pred)
        p, rc = _pr(tp, fp, fn)
        lines.append(f"| {kind} | {len(truth[kind])} | {_fmt(p)} ({tp}/{tp + fp}) | "
                     f"{_fmt(rc)} ({tp}/{tp + fn}) |")
    counts = Counter(k for r in rows for k in r["kinds"])
    lines += ["", "Findings reported over the whole corpus: " +
              ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
    return "\n".join(lines)


def _epoch_loss(curves: list[Curve], spe: float) -> tuple[np.ndarray, np.ndarray]:
    c = next(c for c in curves if c.kind == "train_loss")
    if c.epochs is not None:
        epochs = c.epochs
    else:
        assert c.steps is not None  # a Curve has steps or epochs (Curve.__post_init__)
        epochs = (c.steps + 1) / spe
    return per_epoch(epochs, c.values)


def convergence(rows: list[dict[str, Any]]) -> str:
    lines = ["| run | epochs | E from 50% | E from 100% | final loss projected from 50% "
             "| observed final epoch loss |", "|---|---:|---:|---:|---:|---:|"]
    errs, rel = [], []
    for r in rows:
        if r["lr_class"] != "long":
            continue
        curves = read_logs(Path(r["corpus"]) / "runs" / r["id"])
        e, v = _epoch_loss(curves, r["steps_per_epoch"])
        half = len(e) // 2
        full = estimate_convergence(v, epochs=e)
        part = estimate_convergence(v[:half], epochs=e[:half])
        if part.epoch is not None and full.epoch is not None:
            errs.append(abs(part.epoch - full.epoch))
        if part.final_loss is not None:
            rel.append(abs(part.final_loss - v[-1]) / max(abs(v[-1]), 1e-12))
        lines.append(f"| {r['id']} | {len(e)} | {part.epoch} | {full.epoch} | "
                     f"{'n/a' if part.final_loss is None else f'{part.final_loss:.4f}'} "
                     f"| {v[-1]:.4f} |")
    if errs:
        lines += ["", f"Convergence epoch from the first half vs the whole run: median "
                  f"absolute error {np.median(errs):.1f} epochs, max {np.max(errs):.1f} "
                  f"({len(errs)} runs)."]
    if rel:
        lines.append(f"Projected final loss (from the first half) vs the loss observed in the "
                     f"last epoch: median relative error {100 * np.median(rel):.1f}%, max "
                     f"{100 * np.max(rel):.1f}% ({len(rel)} runs).")
    return "\n".join(lines)


def _labels(corpus: Path) -> list[dict[str, Any]]:
    final = corpus / "labels.json"
    if final.exists():
        labels: list[dict[str, Any]] = json.loads(final.read_text())
        return labels
    # a corpus still being built: score what is there
    partial = (corpus / "labels.partial.jsonl").read_text().splitlines()
    return [json.loads(line) for line in partial]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=[Path("/tmp/lrkit-diag-corpus")],
                        help="one corpus folder, or several to score together")
    parser.add_argument("--dump", type=Path, help="write per-run predictions as JSON here")
    args = parser.parse_args()
    labels = [lab | {"corpus": str(corpus)} for corpus in args.corpus
              for lab in _labels(corpus)]
    rows = []
    started = time.perf_counter()
    for lab in labels:
        run = Path(lab["corpus"]) / "runs" / lab["id"]
        d = diagnose(run)
        curves = read_logs(run)
        loss = next(c for c in curves if c.kind == "train_loss")
        rows.append(lab | {"pred": VERDICT[d.verdict],
                           "kinds": [f.kind for f in d.findings],
                           "nan_logged": bool(np.any(~np.isfinite(loss.values))),
                           "evidence": {f.kind: {k: v for k, v in f.evidence.items()
                                                 if k not in ("steps", "values")}
                                        for f in d.findings}})
    seconds = time.perf_counter() - started
    table, errors = three_class(rows)
    n_scored = sum(r["lr_class"] in CLASSES for r in rows)
    n_amb = sum(r["lr_class"] == "ambiguous" for r in rows)
    print("Corpora: " + ", ".join(str(c) for c in args.corpus) + "\n")
    print(f"## Too high / too low / healthy ({n_scored} runs scored, {n_amb} ambiguous "
          f"left out)\n")
    print(table)
    print("\nMisclassified:\n")
    print("\n".join(f"- {e}" for e in errors) or "- none")
    # Sensitivity: the same runs with a wider "ambiguous" band (R between 0.05 and 0.3).
    wide = [r | {"lr_class": "ambiguous"} if r["lr_class"] in ("too_high", "too_low")
            and r["regret"] is not None and math.isfinite(r["regret"]) and r["regret"] < 0.3
            else r for r in rows]
    table2, _ = three_class(wide)
    print(f"\n### The same, with runs of regret R < 0.3 also left out "
          f"({sum(r['lr_class'] in CLASSES for r in wide)} runs scored)\n")
    print(table2)
    print("\n## Per finding kind\n")
    print(per_kind(rows))
    print("\n## Convergence projection\n")
    print(convergence(rows))
    print(f"\nDiagnosed {len(rows)} runs in {seconds:.1f} s "
          f"({1000 * seconds / max(len(rows), 1):.0f} ms per run, read + diagnose).")
    if args.dump:
        args.dump.write_text(json.dumps(rows, indent=1, default=float))
    _ = diagnose_curves  # the public entry point used by the web page, same code path


if __name__ == "__main__":
    main()
