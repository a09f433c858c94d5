"""Which candidate curve features carry LR information beyond round 2's 26 (dev only).

Reads the cached rows of ``verdict_fit.py`` (``--rows``, a cache of round 2's 26
features), computes each candidate feature of :func:`candidates` on the dev logs at the
prefixes the shipped trees train on (50% and 100%), and scores D1-3's knobs leaving one
dev family out with the 26 features, each candidate added alone (``--single``), and
groups of them (``--groups``); ``--mechanisms`` scores the decision variants against
wrong-way advice (:data:`VARIANTS`), ``--ceiling`` runs ``verdict_fit.ceiling``. Never
reads a test family's curves. Results: ``RESULTS.md`` (round 3).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diagnose/feature_study.py \\
        --corpus /tmp/lrkit-diag2-zoo --rows /tmp/rows_zoo2.pkl --jitter 3 --single \\
        --mechanisms half_at,half_tau,fall_at,loglog --ceiling base
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import pickle
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import verdict_fit as vf

from lrkit.diagnose import read_logs
from lrkit.diagnose.detectors.instability import start_level, step_noise
from lrkit.diagnose.run_curves import RunCurves, split_runs
from lrkit.diagnose.signals import odd_window, rolling_mean
from lrkit.diagnose.verdict import CLASSES, FEATURES, _shape_features
from lrkit.errors import LrkitError

FRACS = (0.5, 1.0)


def _clip(v: float, lo: float, hi: float) -> float:
    return float(min(max(v, lo), hi)) if math.isfinite(v) else (hi if v > 0 else lo)


def candidates(rc: RunCurves) -> dict[str, float]:
    """Candidate features (prototypes; the ones that pay move into ``verdict``)."""
    y = rc.y
    n = len(y)
    f = dict.fromkeys((*SHAPE, *NAMES), 0.0)
    if n < 3:
        return f
    start = start_level(y)
    scale = max(abs(start), 1e-12)
    trend = rolling_mean(y, odd_window(n, 0.1, 3)) if n >= 30 else y.astype(np.float64)
    noise = step_noise(y)
    best_i = int(np.argmin(trend))
    best = float(trend[best_i])
    drop = max(start - best, noise, 1e-9 * scale)
    f["best_at"] = best_i / (n - 1)
    tau = rc.tau
    # half_at, half_tau, fall_at, loglog: as shipped (they paid on dev)
    shape = dict.fromkeys(FEATURES, 0.0)
    _shape_features(rc, trend, start, shape)
    f |= {k: shape[k] for k in ("half_at", "half_tau", "fall_at", "loglog")}
    lo = n // 2
    xs = np.arange(n, dtype=np.float64) + 1.0
    if n >= 10 and float(trend.min()) > 0:
        a, b = max(int(0.1 * n), 1), n // 2
        f["loglog_early"] = _clip(float(np.polyfit(np.log(xs[a:b + 1]),
                                                   np.log(trend[a:b + 1]), 1)[0]), -5.0, 5.0)
        f["curv"] = _clip(f["loglog"] - f["loglog_early"], -5.0, 5.0)
        if tau[-1] > 0:
            tt = tau[lo:] + tau[-1] / n
            f["loglog_tau"] = _clip(float(np.polyfit(np.log(tt), np.log(trend[lo:]), 1)[0]),
                                    -5.0, 5.0)
    for q, name in ((0.1, "q10_at"), (0.9, "q90_at")):
        hit = np.flatnonzero(trend <= start - q * (start - best))
        f[name] = float(hit[0]) / (n - 1) if hit.size and start > best else 1.0
    # late residual noise around the trend, against the late decrease and the early noise
    if n >= 30:
        a, b = int(0.7 * n), int(0.1 * n)
        resid_late = float(np.std(y[a:] - trend[a:]))
        resid_early = float(np.std(y[b:int(0.4 * n)] - trend[b:int(0.4 * n)]))
        dec = float(trend[a] - trend[-1])
        f["noise_late"] = _clip(math.log10((resid_late + 1e-12) / (abs(dec) + resid_late
                                                                   / math.sqrt(n - a)
                                                                   + 1e-12)), -3, 3)
        f["noise_trend"] = _clip(math.log10((resid_late + 1e-12) / (resid_early + 1e-12)),
                                 -3, 3)
        f["noise_level"] = _clip(math.log10((resid_late + 1e-12) / drop), -4, 2)
        big = np.abs(y - trend) > 6.0 * max(noise, 1e-12)
        f["spikes"] = _clip(math.log10(1.0 + 1000.0 * float(big[b:].mean())), 0, 3)
    _decay_features(rc, trend, noise, drop, f)
    _gap_features(rc, trend, scale, f)
    return f


def _decay_features(rc: RunCurves, trend: np.ndarray, noise: float, drop: float,
                    f: dict[str, float]) -> None:
    """The loss's response where the logged LR fell to half its peak."""
    pts = rc.lr_points
    n = len(trend)
    if pts is None or n < 10:
        return
    xs, vs = pts
    peak_at = int(np.argmax(vs))
    below = np.flatnonzero(vs[peak_at:] <= 0.5 * vs.max())
    if not below.size:
        return
    x_d = float(xs[peak_at + below[0]])
    i = int(np.searchsorted(rc.x, x_d))
    w = max(2, n // 10)
    if i - w < 0 or i + w > n - 1:
        return
    before = float(trend[i - w] - trend[i])
    after = float(trend[i] - trend[i + w])
    fl = max(noise / math.sqrt(w), 1e-9 * drop)
    f["decay_pace"] = _clip(math.log10(max(after, fl) / max(before, fl)), -3, 3)
    f["decay_jump"] = _clip((after - before) / drop, -2, 2)
    f["decay_share"] = _clip(float(trend[i] - trend[-1]) / drop, -2, 2)


def _gap_features(rc: RunCurves, trend: np.ndarray, scale: float, f: dict[str, float]) -> None:
    """Growth of the validation-training gap since the validation loss's best."""
    val = rc.val_loss
    if val is None or val is rc.loss:
        return
    xv = rc.on_loss_axis(val)
    if xv is None or len(rc.x) < 2:
        return
    ok = np.isfinite(val.values) & np.isfinite(xv)
    v, xv = val.values[ok], xv[ok]
    if len(v) < 3:
        return
    tr = np.interp(xv, rc.x, trend)
    gap = v - tr
    j = int(np.argmin(v))
    f["gap_growth"] = _clip(float(gap[-1] - gap[j]) / scale, -2, 5)
    f["val_best_at"] = j / (len(v) - 1)


NAMES = ("best_at", "noise_late",
         "noise_trend", "noise_level", "spikes", "decay_pace", "decay_jump", "decay_share",
         "gap_growth", "val_best_at", "loglog_early", "curv", "loglog_tau", "q10_at", "q90_at")


#: The four shape features shipped in ``verdict`` (the study's base leaves them out).
SHAPE = ("half_at", "half_tau", "fall_at", "loglog")


def augment(corpus: Path, dev: list[dict[str, Any]], cache: Path) -> None:
    """Add the candidates to each dev row's features at :data:`FRACS` (cached)."""
    got: dict[str, Any] = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    for r in dev:
        if r["id"] not in got:
            curves = next(iter(split_runs(read_logs(corpus / "runs" / r["id"])).values()))
            per = {}
            for frac in FRACS:
                try:
                    rc = RunCurves.build(vf.truncate(curves, frac))
                except LrkitError:  # a prefix with no loss logged yet
                    continue
                with np.errstate(all="ignore"):
                    per[frac] = candidates(rc)
            got[r["id"]] = per
        feats = dict(r["feats"])
        for frac, extra in got[r["id"]].items():
            if frac in feats:
                f, *rest = feats[frac]
                feats[frac] = ({**f, **extra}, *rest)
        r["feats"] = feats
    cache.write_bytes(pickle.dumps(got))


def dev_lofo(dev: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, float]:
    """D1-3 (veto 0.3, low 0.7, no raise when unstable) leaving one dev family out."""
    vf.SAFE["on"] = True
    vf.VETO.update(value=0.3, low=0.7, guard=1.01)
    fams = vf.families(dev)
    models = {fam: vf.fit_trees([r for r in dev if r["family"] != fam], names,
                                vf.TREE_PARAMS[2]) for fam in fams}
    held = [(r, dict(zip(CLASSES, vf.logits(models[r["family"]], r["feats"][1.0][0]),
                         strict=True)))
            for r in dev if r["lr_class"] in vf.LABELS and 1.0 in r["feats"]]
    temps = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    t = min(temps, key=lambda t: vf.nll(held, t))
    models = {k: dataclasses.replace(m, temperature=t) for k, m in models.items()}
    MODELS[names] = models
    got = [(r, vf.predict(models[r["family"]], r)[0]) for r in dev]
    WRONG[names] = [(r, models[r["family"]].proba(r["feats"][1.0][0]), lab) for r, lab in got
                    if (vf.LABELS.get(r["lr_class"]), lab) in (("too_high", "too_low"),
                                                               ("too_low", "too_high"))]
    return summary(got) | {"nll": vf.nll(held, t), "T": t}


#: The wrong-way calls of the last :func:`dev_lofo` per feature set: (row, p, verdict).
WRONG: dict[tuple[str, ...], list[Any]] = {}


def jittered(dev: list[dict[str, Any]], names: tuple[str, ...], k: int) -> dict[str, float]:
    """:func:`dev_lofo` averaged over ``k`` fits, each with another pure-noise feature added:
    one fit's accuracy moves +-1.5 points with any change to the features (a placebo
    moves it as much), so a candidate is judged on the mean over the ``k`` jitters."""
    if k <= 0:
        return dev_lofo(dev, names)
    got = []
    for seed in range(k):
        rng = np.random.default_rng(100 + seed)
        for r in dev:
            for f, *_rest in r["feats"].values():
                f["placebo"] = float(rng.uniform())
        got.append(dev_lofo(dev, (*names, "placebo")))
    return {key: float(np.mean([g[key] for g in got])) for key in got[0]}


#: Decision variants against wrong-way advice: name -> (guard, ratio, no_lower_against_rule).
VARIANTS: dict[str, tuple[float, float, bool, tuple[str, ...]]] = {
    "D1-3": (1.01, 0.0, False, ()),
    "guard 0.2": (0.2, 0.0, False, ()), "guard 0.25": (0.25, 0.0, False, ()),
    "guard 0.3": (0.3, 0.0, False, ()),
    "ratio 1.5": (1.01, 1.5, False, ("too_high", "too_low")),
    "ratio 2": (1.01, 2.0, False, ("too_high", "too_low")),
    "ratio 2.5": (1.01, 2.5, False, ("too_high", "too_low")),
    "ratio 3": (1.01, 3.0, False, ("too_high", "too_low")),
    "ratio 4": (1.01, 4.0, False, ("too_high", "too_low")),
    "ratio 3, too-low calls only": (1.01, 3.0, False, ("too_low",)),
    "ratio 3, too-high calls only": (1.01, 3.0, False, ("too_high",)),
    "no lower against a too-low rule": (1.01, 0.0, True, ()),
    "ratio 2, too-high calls only": (1.01, 2.0, False, ("too_high",)),
    "ratio 2.5, too-high calls only": (1.01, 2.5, False, ("too_high",)),
    "ratio 3, too-high calls the rules did not make": (1.01, 3.0, False, ("too_high", "norule")),
    "ratio 2, too-high calls the rules did not make": (1.01, 2.0, False, ("too_high", "norule")),
}


def decide(model: Any, r: dict[str, Any],
           variant: tuple[float, float, bool, tuple[str, ...]]) -> str:
    """D1-3's verdict, then the variant: ``guard`` (no advice when the opposite keeps that
    probability), ``ratio`` (a direction needs that many times the opposite's probability),
    and no "lower" where the rules said too low."""
    guard, ratio, against, sides = variant
    vf.VETO["guard"] = guard
    label = vf.predict(model, r)[0]
    vf.VETO["guard"] = 1.01
    other = {"too_low": "too_high", "too_high": "too_low"}.get(label)
    if other is None or r["feats"][1.0][3]:  # a conclusive blow-up stays too high
        return label
    p = model.proba(r["feats"][1.0][0])
    rule_made = "norule" in sides and r["feats"][1.0][2] == label
    if label in sides and not rule_made and p[label] < ratio * p[other]:
        return "ok"
    if against and label == "too_high" and r["feats"][1.0][2] == "too_low":
        return "ok"
    return label


def mechanisms(dev: list[dict[str, Any]], names: tuple[str, ...], k: int) -> None:
    """Each :data:`VARIANTS` on dev, leaving one family out, averaged over ``k`` jitters."""
    got: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for seed in range(max(k, 1)):
        rng = np.random.default_rng(100 + seed)
        for r in dev:
            for f, *_rest in r["feats"].values():
                f["placebo"] = float(rng.uniform())
        use = (*names, "placebo") if k > 0 else names
        res = dev_lofo(dev, use)
        models = MODELS[use]
        for v, knobs in VARIANTS.items():
            got[v].append(summary([(r, decide(models[r["family"]], r, knobs)) for r in dev])
                          | {"nll": res["nll"]})
    for v, runs in got.items():
        print(line(v, {key: float(np.mean([g[key] for g in runs])) for key in runs[0]}),
              flush=True)


MODELS: dict[tuple[str, ...], Any] = {}


def summary(got: list[tuple[dict[str, Any], str]]) -> dict[str, float]:
    """Accuracy, per-class precision/recall, wrong-way advice, not-enough-data, cost."""
    sc = [(vf.LABELS[r["lr_class"]], p) for r, p in got if r["lr_class"] in vf.LABELS]
    out: dict[str, float] = {"acc": float(100 * np.mean([t == p for t, p in sc]))}
    for c in CLASSES:
        tp = sum(t == c and p == c for t, p in sc)
        out[f"P_{c}"] = 100 * tp / max(sum(p == c for _, p in sc), 1)
        out[f"R_{c}"] = 100 * tp / max(sum(t == c for t, _ in sc), 1)
    out["wrong"] = sum((t, p) in (("too_high", "too_low"), ("too_low", "too_high"))
                       for t, p in sc)
    out["ned"] = float(100 * np.mean([p == "not_enough_data" for _, p in got]))
    false_low = sum(t == "ok" and p == "too_low" for t, p in sc)
    out["cost"] = sum(t != p for t, p in sc) + out["wrong"] + false_low
    return out


def line(title: str, s: dict[str, float]) -> str:
    return (f"| {title} | {s['acc']:.1f}% | {s['P_too_high']:.0f}/{s['R_too_high']:.0f} | "
            f"{s['P_too_low']:.0f}/{s['R_too_low']:.0f} | {s['P_ok']:.0f}/{s['R_ok']:.0f} | "
            f"{s['wrong']:.1f} | {s['cost']:.1f} | {s['nll']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--rows", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/feature_study.pkl"))
    parser.add_argument("--groups", nargs="*", default=[],
                        help="comma-separated candidate groups to add together")
    parser.add_argument("--single", action="store_true", help="each candidate alone")
    parser.add_argument("--placebo", type=int, default=0,
                        help="add this many pure-noise features, one at a time (the yardstick)")
    parser.add_argument("--jitter", type=int, default=0,
                        help="average each score over this many placebo-jittered fits")
    parser.add_argument("--mechanisms", nargs="*", default=None,
                        help="the wrong-way variants with these groups ('base': none)")
    parser.add_argument("--wrong", action="store_true", help="list the wrong-way calls")
    parser.add_argument("--ceiling", nargs="*", default=None,
                        help="leave-one-run-out ceiling() with these groups")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    cache = pickle.loads(args.rows.read_bytes())
    rows = vf.load([args.corpus], cache)
    dev = [r for r in rows if r["split"] == "dev"]
    augment(args.corpus, dev, args.cache)
    base = tuple(k for k in FEATURES if k not in SHAPE)
    print("| features (dev LOFO, D1-3 knobs) | accuracy | too high P/R | too low P/R | "
          "healthy P/R | wrong way | cost | log loss |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(line("shipped 26", jittered(dev, base, args.jitter)), flush=True)
    if args.single:
        for name in (*SHAPE, *NAMES):
            print(line(f"+ {name}", jittered(dev, (*base, name), args.jitter)), flush=True)
    for seed in range(args.placebo):
        rng = np.random.default_rng(seed)
        for r in dev:
            for f, *_rest in r["feats"].values():
                f["placebo"] = float(rng.uniform())
        print(line(f"+ placebo {seed}", dev_lofo(dev, (*base, "placebo"))), flush=True)
    for g in args.groups:
        names = (*base, *g.split(","))
        print(line(f"+ {g}", jittered(dev, names, args.jitter)), flush=True)
        if args.wrong:
            for r, p, lab in WRONG[names]:
                print(f"  - {r['id']} m={r['multiplier']:g} {r['lr_class']} -> {lab} "
                      + " ".join(f"{k}={v:.2f}" for k, v in p.items())
                      + f" rule={r['feats'][1.0][2]} rule_high={r['feats'][1.0][0]['rule_high']:g}"
                      f" decay={r['feats'][1.0][0]['decay']:.2f}")
    for g in args.mechanisms or ():
        print(f"\nwrong-way variants with {g}:")
        mechanisms(dev, (*base, *g.split(",")) if g != "base" else base, args.jitter)
    for g in args.ceiling or ():
        names = (*base, *g.split(",")) if g != "base" else base
        print(f"\nceiling() with {g}:\n" + "\n".join(vf.ceiling(dev, names)), flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
