"""Diagnose a sweep: several runs of one model at different LRs, judged against each other.

One curve cannot say how far a run's loss is from the best loss the model can reach at
another LR; a sweep can. Each run's final loss is compared with the sweep's best:
``gap = (L - L_best) / max(|L_best|, 0.05 |L0|)`` (``L0``: the untrained loss, read as the
runs' first logged value), the same scale-free regret the diagnosis benchmark labels
runs by. A run more than ``GAP`` worse than the best is too high or too low by which side
of the best it sits; a run within it is healthy, unless the sweep's best cannot vouch
for it: the best is the sweep's highest or lowest LR (the best LR may then lie outside
the sweep), or the best run's own curve says its LR is too high. Such a run, and any
run that blew up, keeps its own verdict, read from its per-update training loss where
the log has one (a richer curve than a per-epoch validation loss, and far more often
right alone: ``benchmarks/diagnose/RESULTS.md``). The suggested LR is the minimum of a
quadratic fitted to the final losses against log2 LR (``lrkit.auto.pick.smooth_minimum``),
within the runs tried; past an edge only where the best run's own curve points there.

>>> from lrkit.diagnose import Curve, diagnose_curves
>>> def run(lr, final):
...     steps = list(range(60))
...     loss = [final + (2.0 - final) * 0.9 ** s for s in steps]
...     return diagnose_curves([Curve.of("loss", loss, steps=steps, run=f"lr={lr}"),
...                             Curve.of("lr", [lr] * 60, steps=steps, run=f"lr={lr}")])
>>> s = diagnose_sweep([run(0.01, 0.9), run(0.1, 0.3), run(1.0, 0.33), run(10.0, 1.5)])
>>> [(r.lr, r.verdict) for r in s.runs]
[(0.01, 'too_low'), (0.1, 'ok'), (1.0, 'ok'), (10.0, 'too_high')]
>>> 0.1 < s.suggested_lr < 1.0
True
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.auto.pick import smooth_minimum
from lrkit.diagnose.advice import fmt_lr
from lrkit.diagnose.curves import Curve, curves_of_kind
from lrkit.diagnose.diagnosis import Diagnosis, diagnose_curves
from lrkit.diagnose.readers import detect_format, read_logs
from lrkit.diagnose.run_curves import split_runs
from lrkit.errors import ConfigError, LrkitError

__all__ = ["GAP", "Sweep", "SweepRun", "diagnose_runs", "diagnose_sweep", "final_loss"]

#: A run whose final loss is more than this (relative, see the module doc) above the
#: sweep's best is called too high or too low. Fitted on the zoo's dev families
#: (``benchmarks/diagnose/sweep_eval.py``): the benchmark's labels call a run healthy up to
#: 0.10 and a problem from 0.25, and one seed's final loss scatters around its mean.
GAP = 0.15
#: The untrained loss's share below which the gap's denominator does not shrink (a loss
#: that reaches 0 would make every other run infinitely worse).
SCALE_FLOOR = 0.05


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep.

    Attributes:
        name: the run's name (its log's path, or its run name in a multi-run log).
        lr: its peak LR, read from the log.
        final: the diagnosed metric's final value (inf when the run diverged).
        gap: how much worse than the sweep's best, relative (0 for the best run).
        verdict: ``too_high``, ``too_low``, ``ok`` or ``not_enough_data``.
        basis: ``"sweep"`` (judged against the other runs) or ``"single run"`` (the run's
            own diagnosis, where the sweep cannot tell).
        diagnosis: the run's own diagnosis: of its training loss where the log has one,
            else of the metric compared.
    """

    name: str
    lr: float
    final: float
    gap: float
    verdict: str
    basis: str
    diagnosis: Diagnosis

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers as null), with the run's own verdict beside."""
        return {"name": self.name, "lr": self.lr,
                "final": self.final if math.isfinite(self.final) else None,
                "gap": self.gap if math.isfinite(self.gap) else None,
                "verdict": self.verdict, "basis": self.basis,
                "single_run_verdict": self.diagnosis.verdict}


@dataclass(frozen=True)
class Sweep:
    """The runs of a sweep, each judged against the best, and the LR to use.

    Attributes:
        runs: the runs, by LR.
        metric: the metric compared (the first run's diagnosed metric).
        best_lr: the LR of the run with the lowest final loss.
        suggested_lr: the fitted minimum between the runs tried; at an edge, the next
            LR to try past it when the best run's own curve points past the edge, else
            the best run's LR.
        edge: ``"high"`` / ``"low"`` when the best run is the highest / lowest LR tried.
        summary: one line for people.
        notes: what the comparison could not check.
    """

    runs: tuple[SweepRun, ...]
    metric: str
    best_lr: float
    suggested_lr: float
    edge: str
    summary: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document of ``lrkit diagnose PATH PATH ...``."""
        return {"kind": "sweep", "metric": self.metric, "best_lr": self.best_lr,
                "suggested_lr": self.suggested_lr, "edge": self.edge,
                "summary": self.summary, "notes": list(self.notes),
                "runs": [r.to_dict() for r in self.runs]}


def final_loss(d: Diagnosis) -> tuple[float, float]:
    """The diagnosed metric's (first, final) values: the final is the mean of the last
    tenth of the finite points (one point for a short curve such as a per-epoch
    validation loss), inf when the run ended non-finite."""
    values = np.asarray(_metric_curve(d).values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.inf, math.inf
    if not np.isfinite(values[-1]):
        return float(finite[0]), math.inf
    tail = finite[-max(1, finite.size // 10):] if finite.size >= 20 else finite[-1:]
    return float(finite[0]), float(tail.mean())


def _metric_curve(d: Diagnosis) -> Curve:
    return next(c for c in d.curves if c.name == d.metric)


def _own(d: Diagnosis, model_kind: str | None) -> Diagnosis:
    """The run's verdict on its own: ``d`` when it read the training loss, else the
    training loss's diagnosis where the run logged one (many points per epoch, against a
    validation loss's one), else ``d``."""
    if _metric_curve(d).kind == "train_loss" or not curves_of_kind(d.curves, "train_loss"):
        return d
    try:
        return diagnose_curves(d.curves, "train_loss", model_kind=model_kind,
                               format=d.format, project=False)
    except LrkitError:
        return d


def diagnose_sweep(diagnoses: Sequence[Diagnosis], names: Sequence[str] | None = None, *,
                   gap: float = GAP, model_kind: str | None = None) -> Sweep:
    """Judge each run of a sweep against the others (see the module doc).

    Args:
        diagnoses: each run's own diagnosis (``lrkit.diagnose.diagnose``), same metric.
        names: the runs' names for the report (default: each diagnosis's run name).
        gap: the relative loss gap above which a run is called too high or too low.
        model_kind: as in :func:`lrkit.diagnose.diagnose`, for a run's own verdict when
            it is read afresh from its training loss.

    Raises:
        ConfigError: fewer than two runs, a run without a logged LR, two runs at the
            same LR, or runs whose diagnosed curves differ in kind.
    """
    names = list(names) if names is not None else [d.run or f"run {i + 1}"
                                                    for i, d in enumerate(diagnoses)]
    if len(diagnoses) < 2:
        raise ConfigError(f"runs = {len(diagnoses)}: a sweep needs at least two runs at "
                          "different LRs; pass two or more logs, a folder of runs, or "
                          "diagnose one run alone")
    for name, d in zip(names, diagnoses, strict=True):
        if d.base_lr is None or not d.base_lr > 0:
            raise ConfigError(f"run {name!r}: its log records no learning rate, and a sweep "
                              "compares runs by LR; log the LR (e.g. Lightning's "
                              "LearningRateMonitor) or diagnose this run alone with --lr")
    lrs = [float(d.base_lr) for d in diagnoses if d.base_lr is not None]
    if len(set(lrs)) < len(lrs):
        same = next(lr for lr in lrs if lrs.count(lr) > 1)
        which = ", ".join(n for n, lr in zip(names, lrs, strict=True) if lr == same)
        raise ConfigError(f"runs {which[:200]}: two runs have the same LR ({fmt_lr(same)}); "
                          "pass runs at different LRs (repeated seeds are not a sweep)")
    order = sorted(range(len(lrs)), key=lambda i: lrs[i])
    firsts, finals = zip(*(final_loss(diagnoses[i]) for i in order), strict=True)
    # a run that blew up is worse than any whatever its curve; the others compare one kind
    kinds = {_metric_curve(diagnoses[i]).kind for i, f in zip(order, finals, strict=True)
             if math.isfinite(f)}
    if len(kinds) > 1:
        raise ConfigError(parameter="metric", value=" and ".join(sorted(kinds)), rule="the "
                          "runs' diagnosed curves are of different kinds, and a sweep "
                          "compares one kind", fix="pass --metric, e.g. val_loss")
    lr_sorted = [lrs[i] for i in order]
    start = [f for f in firsts if math.isfinite(f)]
    untrained = float(np.median(start)) if start else math.inf
    best = int(np.argmin(finals))
    l_best = finals[best]
    # magnitudes: a loss that can be negative (a likelihood) is measured the same way
    scale = max(abs(l_best), SCALE_FLOOR * abs(untrained), 1e-12)
    edge = ""
    if math.isfinite(l_best) and best in (0, len(order) - 1):
        edge = "low" if best == 0 else "high"
    own = [_own(diagnoses[i], model_kind) for i in order]
    # the best run vouches for the runs within the gap of it only from inside the sweep,
    # and only when its own curve does not say its LR is too high
    vouched = math.isfinite(l_best) and not edge and own[best].verdict != "too_high"
    runs = []
    for k, i in enumerate(order):
        g = 0.0 if k == best else (finals[k] - l_best) / scale
        if not math.isfinite(finals[k]):
            verdict, basis = own[k].verdict, "single run"  # it blew up: its curve says why
        elif g > gap:
            verdict, basis = ("too_high" if k > best else "too_low"), "sweep"
        elif vouched:
            verdict, basis = "ok", "sweep"
        else:
            verdict, basis = own[k].verdict, "single run"  # the sweep cannot tell
        runs.append(SweepRun(names[i], lr_sorted[k], finals[k], g, verdict, basis, own[k]))
    suggested, notes = _suggest(lr_sorted, list(finals), best, edge, own[best].verdict)
    return Sweep(runs=tuple(runs), metric=diagnoses[0].metric, best_lr=lr_sorted[best],
                 suggested_lr=suggested, edge=edge,
                 summary=_summary(runs, lr_sorted[best], suggested, edge), notes=notes)


def diagnose_runs(paths: Sequence[str | os.PathLike[str]], metric: str | None = None, *,
                  model_kind: str | None = None, format: str | None = None,
                  gap: float = GAP) -> Sweep:
    """Read every run in ``paths`` (one log with several runs, such as a TensorBoard
    folder of runs or an MLflow store; a folder whose subfolders are runs, such as
    ``lightning_logs/``; or one log per run) and diagnose them as a sweep.

    ``metric``, ``model_kind`` and ``format`` are as in :func:`lrkit.diagnose.diagnose`
    and apply to every run. A run is named by its path, or ``path:run`` in a log that
    holds several.

    Raises:
        DataError: a log cannot be read.
        ConfigError: fewer than two runs, a run without a logged LR, two runs at one LR.
    """
    logs = [Path(p) for p in paths]
    read = {p: split_runs(read_logs(p, format=format)) for p in logs}
    if len(logs) == 1 and format is None and len(read[logs[0]]) == 1:
        # one folder read as one run: its subfolders may be the runs (version_N, lr*/)
        subs = _log_subfolders(logs[0])
        if subs:
            logs, read = subs, {p: split_runs(read_logs(p)) for p in subs}
    diagnoses: list[Diagnosis] = []
    names: list[str] = []
    for p in logs:
        fmt = format or detect_format(p)[0]
        runs = read[p]
        for run, curves in runs.items():
            try:
                d = diagnose_curves(curves, metric, model_kind=model_kind, format=fmt,
                                    project=False)
            except ConfigError:
                if metric is None:
                    raise
                # a run that blew up before its first validation has no val_loss: its
                # training loss says so; any other run without the metric is an error
                d = diagnose_curves(curves, None, model_kind=model_kind, format=fmt,
                                    project=False)
                if math.isfinite(final_loss(d)[1]):
                    raise
            diagnoses.append(d)
            names.append(str(p) if len(runs) == 1 else f"{p}:{run}" if len(logs) > 1
                         else run)
    return diagnose_sweep(diagnoses, names, gap=gap, model_kind=model_kind)


def _log_subfolders(folder: Path) -> list[Path]:
    """The subfolders of ``folder`` that are logs of their own (``lightning_logs/
    version_N``, ``runs/lr0.1``), when there are two or more; else []."""
    if not folder.is_dir():
        return []
    subs = []
    for sub in sorted(d for d in folder.iterdir() if d.is_dir()):
        try:
            detect_format(sub)
        except LrkitError:
            continue
        subs.append(sub)
    return subs if len(subs) > 1 else []


def _suggest(lrs: list[float], finals: list[float], best: int, edge: str,
             alone: str) -> tuple[float, tuple[str, ...]]:
    """The fitted minimum between the runs; at an edge that holds the best, one spacing
    of the sweep past it when the best run's own curve (``alone``: its single-run
    verdict) points that way, else the best run's LR."""
    if not math.isfinite(finals[best]):
        return lrs[0] / 10.0, ("every run diverged: start ten times below the lowest LR",)
    if edge:
        up = edge == "high"
        step = lrs[-1] / lrs[-2] if up else lrs[1] / lrs[0]
        past = "above" if up else "below"
        if alone == ("too_low" if up else "too_high"):
            nxt = lrs[-1] * step if up else lrs[0] / step
            return nxt, (f"the best run is the {edge}est LR tried ({fmt_lr(lrs[best])}) and "
                         f"its own curve says its LR is {alone.replace('_', ' ')}: the best "
                         f"LR lies {past} the sweep; try {fmt_lr(nxt)} next",)
        return lrs[best], (f"the best run is the {edge}est LR tried ({fmt_lr(lrs[best])}); "
                           f"its own curve shows no sign that a LR {past} it is better, but "
                           "the sweep cannot rule it out",)
    pts = [(math.log2(lr), y) for lr, y in zip(lrs, finals, strict=True) if math.isfinite(y)]
    if len(pts) < 2:
        return lrs[best], (f"only the run at {fmt_lr(lrs[best])} ended finite: no minimum "
                           "to fit between runs",)
    spacing = max(b[0] - a[0] for a, b in itertools.pairwise(pts))
    # the vertex stays within one step of the best run (smooth_minimum's own rule)
    m = smooth_minimum([p[0] for p in pts], [p[1] for p in pts], window=1.01 * spacing)
    lr = 2.0 ** m.x
    if spacing <= 2.0:
        return lr, ()
    # a coarse sweep places the minimum only roughly (benchmarks/diagnose/RESULTS.md: on
    # a decade grid, within one octave of the best LR in 24-47% of the test sweeps)
    return lr, (f"the runs are {spacing:.1f} octaves apart, so {fmt_lr(lr)} is a rough "
                f"estimate; runs at {fmt_lr(lr / 2)} and {fmt_lr(2 * lr)} would refine it",)


def _summary(runs: list[SweepRun], best_lr: float, suggested: float, edge: str) -> str:
    counts = {v: sum(r.verdict == v for r in runs) for v in ("too_high", "too_low", "ok")}
    said = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in counts.items() if n)
    where = (f"use about {fmt_lr(suggested)}" if suggested == best_lr or not edge else
             f"the best LR lies {'above' if edge == 'high' else 'below'} the sweep: try "
             f"{fmt_lr(suggested)}")
    return (f"{len(runs)} runs: best at LR {fmt_lr(best_lr)}; {said}; {where}")
