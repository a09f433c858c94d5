"""Fit the verdict model on the dev families, score it on the test families, once.

Reads corpora written by ``zoo_corpus.py`` through lrkit's own readers, computes
``lrkit.diagnose.verdict.curve_features`` on every log and on its prefixes (25/50/75%),
fits a multinomial logistic model on the dev families only (its L2 strength and its
temperature chosen by leave-one-family-out within dev), and reports in Markdown:

* test families: precision / recall per class, "not enough data", the direction of the
  suggested LR, and the rule-based verdict of lrkit 1 on the same logs;
* leave-one-family-out over all families (a user with a new kind of model);
* prefixes: how early a too-high run is caught (first prefix judged too high);
* dev numbers, labelled dev.

``--write`` stores the dev-fitted weights in ``src/lrkit/diagnose/verdict_weights.py``.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diagnose/verdict_fit.py \\
        --corpus /tmp/lrkit-diag2 [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.diagnose import Curve, diagnose_curves, read_logs
from lrkit.diagnose.run import RunCurves, split_runs
from lrkit.diagnose.verdict import CLASSES, VerdictModel, curve_features, judge

LABELS = {"too_high": "too_high", "too_low": "too_low", "healthy": "ok"}
PREFIXES = (0.25, 0.5, 0.75, 1.0)
EARLY = tuple(round(0.1 * k, 1) for k in range(1, 11))
WEIGHTS_FILE = Path(__file__).resolve().parents[2] / "src/lrkit/diagnose/verdict_weights.py"


def truncate(curves: list[Curve], frac: float) -> list[Curve]:
    """The curves as a run in progress would have logged them at ``frac`` of its length."""
    if frac >= 1.0:
        return curves
    stepped = [c for c in curves if c.steps is not None and not c.meta.get("declared")]
    use_steps = bool(stepped) and all(c.steps is not None for c in curves
                                      if not c.meta.get("declared"))
    ref = [c.steps if use_steps else c.epochs for c in curves
           if not c.meta.get("declared") and (c.steps if use_steps else c.epochs) is not None]
    if not ref:
        return curves
    lo = min(float(np.nanmin(a)) for a in ref if len(a))
    hi = max(float(np.nanmax(a)) for a in ref if len(a))
    cut = lo + frac * (hi - lo)
    out = []
    for c in curves:
        axis = c.steps if use_steps else c.epochs
        if c.meta.get("declared") or axis is None:
            out.append(c)
            continue
        keep = axis <= cut
        out.append(Curve(name=c.name, kind=c.kind, values=c.values[keep],
                         steps=None if c.steps is None else c.steps[keep],
                         epochs=None if c.epochs is None else c.epochs[keep],
                         run=c.run, source=c.source, meta=c.meta))
    return [c for c in out if len(c) > 0]


def load(corpora: list[Path]) -> list[dict[str, Any]]:
    """One row per log: its label record, its features per prefix, lrkit 1's verdict."""
    rows = []
    for corpus in corpora:
        meta = json.loads((corpus / "labels.json").read_text())
        for rec in meta["runs"]:
            curves = read_logs(corpus / "runs" / rec["id"])
            curves = next(iter(split_runs(curves).values()))
            feats = {}
            for frac in sorted(set(PREFIXES) | set(EARLY)):
                part = truncate(curves, frac)
                try:
                    rc = RunCurves.build(part)
                except Exception:  # noqa: BLE001 - a prefix with no loss yet
                    continue
                feats[frac] = (curve_features(rc, frac), len(rc.y))
            old = diagnose_curves(curves).verdict
            rows.append(rec | {"feats": feats, "v1": old, "corpus": str(corpus)})
    return rows


def _xy(rows: list[dict[str, Any]], names: tuple[str, ...], fracs: tuple[float, ...]
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, ws = [], [], []
    for r in rows:
        if r["lr_class"] not in LABELS:
            continue
        for frac in fracs:
            if frac not in r["feats"]:
                continue
            f, _n = r["feats"][frac]
            xs.append([f[k] for k in names])
            ys.append(CLASSES.index(LABELS[r["lr_class"]]))
            ws.append(1.0)
    return np.array(xs), np.array(ys), np.array(ws)


def fit(rows: list[dict[str, Any]], names: tuple[str, ...], c: float,
        temperature: float = 1.0) -> VerdictModel:
    """A multinomial logistic model (class-balanced, L2 strength ``c``) on ``rows``."""
    from sklearn.linear_model import LogisticRegression

    x, y, _w = _xy(rows, names, PREFIXES)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    clf.fit((x - mean) / scale, y)
    coef = np.zeros((len(CLASSES), len(names)))
    icpt = np.full(len(CLASSES), -30.0)
    for i, k in enumerate(clf.classes_):
        coef[k], icpt[k] = clf.coef_[i], clf.intercept_[i]
    return VerdictModel(classes=CLASSES, names=names, mean=tuple(mean), scale=tuple(scale),
                        coef=tuple(tuple(r) for r in coef), intercept=tuple(icpt),
                        temperature=temperature)


def predict(model: VerdictModel, r: dict[str, Any], frac: float = 1.0) -> tuple[str, float]:
    """(label, probability) for one row at one prefix, with the not-enough-data rule."""
    from lrkit.diagnose.verdict import MIN_POINTS

    if frac not in r["feats"]:
        return "not_enough_data", math.nan
    f, n = r["feats"][frac]
    if n < MIN_POINTS and not f["nonfinite"]:
        return "not_enough_data", math.nan
    p = model.proba(f)
    label = max(p, key=lambda k: p[k])
    return label, p[label]


def families(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({r["family"] for r in rows})


def lofo(rows: list[dict[str, Any]], names: tuple[str, ...], c: float
         ) -> list[tuple[dict[str, Any], str, float]]:
    """Leave-one-family-out predictions (full logs) over ``rows``."""
    out = []
    for fam in families(rows):
        train = [r for r in rows if r["family"] != fam]
        if not any(r["lr_class"] in LABELS for r in train):
            continue
        model = fit(train, names, c)
        out += [(r, *predict(model, r)) for r in rows if r["family"] == fam]
    return out


def nll(preds: list[tuple[dict[str, Any], dict[str, float]]], t: float) -> float:
    total = 0.0
    for r, logits in preds:
        z = np.array([logits[k] for k in CLASSES]) / t
        z -= z.max()
        total -= z[CLASSES.index(LABELS[r["lr_class"]])] - math.log(np.exp(z).sum())
    return total / max(len(preds), 1)


def choose(dev: list[dict[str, Any]], names: tuple[str, ...]) -> tuple[float, float, str]:
    """(C, temperature, table) chosen by leave-one-family-out accuracy / NLL within dev."""
    lines = ["| C | dev LOFO accuracy (full logs, scored) |", "|---:|---:|"]
    best: tuple[float, float] = (-1.0, 1.0)
    for c in (0.03, 0.1, 0.3, 1.0, 3.0):
        preds = lofo(dev, names, c)
        scored = [(r, lab) for r, lab, _p in preds if r["lr_class"] in LABELS]
        acc = np.mean([LABELS[r["lr_class"]] == lab for r, lab in scored]) if scored else 0
        lines.append(f"| {c:g} | {100 * acc:.1f}% |")
        if acc > best[0] + 1e-9:
            best = (float(acc), c)
    c = best[1]
    # Temperature: the held-out families' logits, scaled to the lowest NLL.
    held: list[tuple[dict[str, Any], dict[str, float]]] = []
    for fam in families(dev):
        train = [r for r in dev if r["family"] != fam]
        if not any(r["lr_class"] in LABELS for r in train):
            continue
        model = fit(train, names, c)
        for r in dev:
            if r["family"] == fam and r["lr_class"] in LABELS and 1.0 in r["feats"]:
                z = model._z(r["feats"][1.0][0])
                lg = np.asarray(model.coef) @ z + np.asarray(model.intercept)
                held.append((r, dict(zip(CLASSES, lg, strict=True))))
    temps = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    t = min(temps, key=lambda t: nll(held, t)) if held else 1.0
    return c, t, "\n".join(lines)


def prf(pairs: list[tuple[str, str]]) -> list[str]:
    """Precision / recall table over (label, verdict) pairs (label in CLASSES)."""
    lines = ["| class | runs | precision | recall |", "|---|---:|---:|---:|"]
    for cls in CLASSES:
        tp = sum(t == cls and p == cls for t, p in pairs)
        fp = sum(t != cls and p == cls for t, p in pairs)
        fn = sum(t == cls and p != cls for t, p in pairs)
        pr = f"{100 * tp / (tp + fp):.1f}% ({tp}/{tp + fp})" if tp + fp else "n/a"
        rc = f"{100 * tp / (tp + fn):.1f}% ({tp}/{tp + fn})" if tp + fn else "n/a"
        lines.append(f"| {cls} | {tp + fn} | {pr} | {rc} |")
    conf = Counter(pairs)
    cols = (*CLASSES, "not_enough_data")
    lines += ["", "| label \\ verdict | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for cls in CLASSES:
        lines.append(f"| {cls} | " + " | ".join(str(conf[(cls, p)]) for p in cols) + " |")
    acc = np.mean([t == p for t, p in pairs]) if pairs else math.nan
    lines.append(f"\nAccuracy {100 * acc:.1f}% over {len(pairs)} scored logs.")
    return lines


def score(rows: list[dict[str, Any]], model: VerdictModel, title: str) -> list[str]:
    scored = [r for r in rows if r["lr_class"] in LABELS]
    pairs = [(LABELS[r["lr_class"]], predict(model, r)[0]) for r in scored]
    v1 = [(LABELS[r["lr_class"]], r["v1"]) for r in scored]
    ned = sum(predict(model, r)[0] == "not_enough_data" for r in rows)
    amb = [r for r in rows if r["lr_class"] not in LABELS]
    out = [f"### {title}: lrkit 2 verdict", ""] + prf(pairs)
    out += ["", f"Not enough data: {ned} of {len(rows)} logs ({100 * ned / max(len(rows), 1):.1f}%)."
            f" Ambiguous (not scored): {len(amb)} logs; their verdicts: "
            + ", ".join(f"{k} {v}" for k, v in sorted(Counter(
                predict(model, r)[0] for r in amb).items()))]
    # Direction: a too-high verdict lowers the LR, a too-low one raises it; a wrong
    # direction is a too-high run told too_low or the reverse.
    wrong = sum((t, p) in (("too_high", "too_low"), ("too_low", "too_high")) for t, p in pairs)
    n_bad = sum(t != "ok" for t, _ in pairs)
    out.append(f"Suggested LR in the wrong direction: {wrong} of {n_bad} too-high/too-low logs.")
    out += ["", f"### {title}: lrkit 1 rule verdict on the same logs", ""] + prf(v1)
    errs = [f"- {r['id']} ({r['family']}, m={r['multiplier']:g}, R={r['regret']:.3g}): "
            f"label {r['lr_class']}, verdict {lab}"
            for r, (_t, lab) in zip(scored, pairs, strict=True) if LABELS[r["lr_class"]] != lab]
    out += ["", f"Misclassified by lrkit 2 ({len(errs)}):", ""] + (errs[:60] or ["- none"])
    return out


def early(rows: list[dict[str, Any]], model: VerdictModel) -> list[str]:
    """When each problem is first caught, as a fraction of the run's updates."""
    out = ["| class | runs | caught by 25% | 50% | 75% | 100% | median first catch |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for cls in ("too_high", "too_low"):
        runs = [r for r in rows if r["lr_class"] == cls]
        firsts = []
        for r in runs:
            hit = next((fr for fr in EARLY if predict(model, r, fr)[0] == LABELS[cls]), None)
            firsts.append(hit)
        caught = [f for f in firsts if f is not None]
        cells = [f"{sum(f is not None and f <= q for f in firsts)}" for q in PREFIXES]
        med = f"{100 * float(np.median([f if f is not None else 9.9 for f in firsts])):.0f}%"\
            if firsts else "n/a"
        out.append(f"| {cls} | {len(runs)} | " + " | ".join(cells) + f" | {med} |")
        _ = caught
    fp = defaultdict(int)
    healthy = [r for r in rows if r["lr_class"] == "healthy"]
    for q in PREFIXES:
        fp[q] = sum(predict(model, r, q)[0] != "ok" for r in healthy)
    out.append("")
    out.append("Healthy logs called a problem at each prefix: " + ", ".join(
        f"{int(100 * q)}% {fp[q]}/{len(healthy)}" for q in PREFIXES))
    return out


def write_weights(model: VerdictModel, meta: dict[str, Any]) -> None:
    w = {"classes": list(model.classes), "names": list(model.names),
         "mean": [round(v, 6) for v in model.mean], "scale": [round(v, 6) for v in model.scale],
         "coef": [[round(v, 6) for v in row] for row in model.coef],
         "intercept": [round(v, 6) for v in model.intercept],
         "temperature": model.temperature, "meta": meta}
    WEIGHTS_FILE.write_text(
        '"""The verdict model\'s weights, fitted on the dev families only.\n\n'
        "Generated by ``benchmarks/diagnose/verdict_fit.py --write``; do not edit by hand.\n"
        '"""\n\nfrom typing import Any\n\nWEIGHTS: dict[str, Any] = ' +
        json.dumps(w, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", required=True)
    parser.add_argument("--write", action="store_true", help="store the dev-fitted weights")
    parser.add_argument("--features", nargs="*", help="a subset of the features")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    rows = load(args.corpus)
    from lrkit.diagnose.verdict import FEATURES

    names = tuple(args.features or FEATURES)
    dev = [r for r in rows if r["split"] == "dev"]
    test = [r for r in rows if r["split"] == "test"]
    c, t, ctable = choose(dev, names)
    model = fit(dev, names, c, t)
    split = sorted({(r["family"], r["split"], r["task"]) for r in rows})
    out = [f"Corpora: {', '.join(str(p) for p in args.corpus)}; {len(rows)} logs of "
           f"{len({r['run'] for r in rows})} runs; machine {platform.node()} "
           f"({platform.machine()}, Python {platform.python_version()}); "
           f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
           "Split by family (the zoo's own): " + "; ".join(
               f"{f} [{s}] {tk}" for f, s, tk in split), "",
           f"Model: {len(names)} features, L2 C={c:g}, temperature {t:g} (both chosen by "
           "leave-one-family-out within dev).", "", ctable, ""]
    out += score(test, model, "Test families")
    out += ["", "### Leave-one-family-out (all families, full logs)", ""]
    preds = lofo(rows, names, c)
    out += prf([(LABELS[r["lr_class"]], lab) for r, lab, _p in preds if r["lr_class"] in LABELS])
    out += ["", "### How early (test families; prefixes of 10%, 20%, ... of the updates)", ""]
    out += early(test, model)
    out += ["", *score(dev, model, "Dev families (fitted here: dev numbers)")]
    out += ["", f"Scored in {time.perf_counter() - started:.0f} s."]
    print("\n".join(out))
    if args.write:
        write_weights(model, {"C": c, "temperature": t, "corpora": [str(p) for p in args.corpus],
                              "dev_families": sorted({r["family"] for r in dev}),
                              "fitted": time.strftime("%Y-%m-%d", time.gmtime())})


if __name__ == "__main__":
    main()
