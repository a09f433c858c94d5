"""``diagnose``: read a run's logs, run every detector, project convergence.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> rows = "\\n".join(f"{s},{2.0 * 0.9 ** s + 0.1},0.1" for s in range(60))
>>> _ = p.write_text("step,loss,lr\\n" + rows + "\\n")
>>> d = diagnose(p)
>>> d.verdict, d.summary
('ok', 'no learning-rate problem found')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lrkit._check import INPUT
from lrkit.diagnose.advice import fmt_lr, fmt_num, raise_bound, scaled
from lrkit.diagnose.convergence import Convergence, estimate_convergence, per_epoch
from lrkit.diagnose.curves import Curve
from lrkit.diagnose.detectors import DETECTORS, LR_HIGH_KINDS, LR_LOW_KINDS, SUPERSEDES
from lrkit.diagnose.findings import Finding
from lrkit.diagnose.readers import detect_format, read_logs
from lrkit.diagnose.run_curves import RunCurves, some_names, split_runs
from lrkit.diagnose.verdict import Verdict, judge
from lrkit.errors import ConfigError, LrkitError

__all__ = ["Diagnosis", "diagnose", "diagnose_curves"]

_MAX_CURVE_POINTS = 2000  # per curve in the JSON document (the full curves stay in .curves)
#: How far from the run's LR a second run best checks its verdict: judged side by side
#: (``lrkit diagnose A B``), a run and one a decade away are right far more often than the
#: run alone (``benchmarks/diagnose/RESULTS.md``, "two runs").
CHECK_FACTOR = 10.0


@dataclass(frozen=True)
class Diagnosis:
    """The outcome of diagnosing one run.

    Attributes:
        findings: what the detectors found, worst first.
        verdict: ``"too_high"``, ``"too_low"``, ``"ok"`` or ``"not_enough_data"``: whether
            the LR's *value* is the problem (schedule and overfitting findings do not
            change it), decided by the calibrated model of ``lrkit.diagnose.verdict``.
        summary: one line for people.
        convergence: the projected convergence epoch and final loss.
        curves: every curve of the diagnosed run.
        metric: the name of the curve diagnosed.
        run: the run diagnosed; ``runs`` lists every run in the log.
        format: the log format that was read.
        base_lr: the run's peak LR as read from the log (None if it does not say).
        notes: remarks on what could not be checked (no LR logged, few points, ...).
        probability: the calibrated probability of the verdict (None when there is not
            enough data).
        probabilities: every verdict's probability.
        reasons: what pushed the verdict most, in words with the measured values.
        progress: the fraction of the planned run the curves cover (1.0: finished).
    """

    findings: tuple[Finding, ...]
    verdict: str
    summary: str
    convergence: Convergence
    curves: tuple[Curve, ...]
    metric: str
    run: str = ""
    runs: tuple[str, ...] = ()
    format: str = ""
    base_lr: float | None = None
    steps_per_epoch: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    probability: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = field(default_factory=tuple)
    progress: float = 1.0

    @property
    def estimated_convergence_epoch(self) -> float | None:
        """The convergence epoch (None when the log has no epoch axis or it can't be fit)."""
        return self.convergence.epoch if self.convergence.unit == "epoch" else None

    @property
    def convergence_summary(self) -> str:
        """One line on convergence that agrees with the findings (see describe_convergence)."""
        from lrkit.diagnose.convergence import describe_convergence

        curve = next((c for c in self.curves if c.name == self.metric), None)
        finite = None if curve is None else curve.values[np.isfinite(curve.values)]
        lowest = float(finite.min()) if finite is not None and finite.size else None
        return describe_convergence(
            self.convergence, lowest=lowest,
            still_falling=any(f.kind == "lr_too_low" for f in self.findings))

    @property
    def suggested_lr(self) -> float | None:
        """The corrected LR of the worst finding that has one."""
        return next((f.suggested_lr for f in self.findings if f.suggested_lr is not None
                     and f.lr_direction is not None), None)

    @property
    def check_lr(self) -> float | None:
        """The LR of one more run that would check the verdict when both logs are
        diagnosed together: a decade below a run called too high, a decade above any other
        (None without a logged LR, or when the run is too short to judge). A check, not
        advice: a run there may well be worse, which is what settles it.

        >>> steps = range(60)
        >>> d = diagnose_curves([Curve.of("loss", [2.0 * 0.9 ** s + 0.1 for s in steps],
        ...                               steps=steps), Curve.of("lr", [0.01] * 60, steps=steps)])
        >>> d.verdict, d.check_lr
        ('ok', 0.1)
        """
        if self.base_lr is None or self.verdict == "not_enough_data":
            return None
        factor = 1 / CHECK_FACTOR if self.verdict == "too_high" else CHECK_FACTOR
        return float(self.base_lr) * factor

    def to_dict(self, *, max_points: int = _MAX_CURVE_POINTS) -> dict[str, Any]:
        """The ``--json`` document: findings, convergence, curves (thinned to max_points)."""
        return {
            "verdict": self.verdict,
            "probability": self.probability,
            "probabilities": self.probabilities,
            "reasons": list(self.reasons),
            "progress": self.progress,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "estimated_convergence_epoch": self.estimated_convergence_epoch,
            "convergence": self.convergence.to_dict(),
            "convergence_summary": self.convergence_summary,
            "suggested_lr": self.suggested_lr,
            "check_lr": self.check_lr,
            "base_lr": self.base_lr,
            "metric": self.metric,
            "run": self.run,
            "runs": list(self.runs),
            "format": self.format,
            "steps_per_epoch": self.steps_per_epoch,
            "notes": list(self.notes),
            "curves": [_thin(c, max_points) for c in self.curves],
        }


#: Model kinds ``model_kind=`` / ``--model-kind`` accepts (the calculator's, and the names
#: the warmup check knows transformers by).
MODEL_KINDS = ("cnn", "resnet", "mlp", "rnn", "linear", "transformer", "vit", "llm", "bert",
               "gpt")

def _thin(c: Curve, max_points: int) -> dict[str, Any]:
    d = c.to_dict()
    n = len(c)
    if n > max_points:
        idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
        # Keep every non-finite point: a NaN is evidence, not noise.
        idx = np.union1d(idx, np.flatnonzero(~np.isfinite(c.values)))
        for key in ("steps", "epochs", "values"):
            if d[key] is not None:
                d[key] = [d[key][i] for i in idx]
        d["thinned_from"] = n
    return d


def _rule_verdict(findings: Sequence[Finding]) -> str:
    """lrkit 1's verdict from the rules alone (kept for comparison and the notes)."""
    high = [f for f in findings if f.kind in LR_HIGH_KINDS and f.lr_direction == "lower"
            and f.severity != "info"]
    low = [f for f in findings if f.kind in LR_LOW_KINDS and f.lr_direction == "raise"
           and f.severity != "info"]
    if high and (not low or min(f.rank for f in high) <= min(f.rank for f in low)):
        return "too_high"
    return "too_low" if low else "ok"


# The first version's name, which lrkit.integrations.doctor imports (the rules' verdict
# alone; the calibrated verdict is diagnose_curves(curves, progress=...).verdict).
_verdict = _rule_verdict


def _says(f: Finding, direction: str) -> bool:
    kinds = LR_HIGH_KINDS if direction == "lower" else LR_LOW_KINDS
    return f.kind in kinds and f.lr_direction == direction and f.severity != "info"


def _model_finding(rc: RunCurves, v: Verdict, direction: str) -> Finding:
    """The verdict's own finding, when no rule fired for it: its reasons are the evidence."""
    y, x = rc.y, rc.x
    idx = np.unique(np.linspace(0, max(len(y) - 1, 0), 12).round().astype(int))[:len(y)]
    ev = {"steps": [float(x[i]) for i in idx], "values": [float(y[i]) for i in idx],
          "probabilities": v.probabilities, "reasons": list(v.reasons),
          "features": v.features}
    p = v.probability or 0.0
    because = "; ".join(v.reasons) or "the curve's shape"
    if direction == "lower":
        broken = v.features["nonfinite"] > 0 or v.features["gain"] < 0
        factor = 0.1 if broken else 0.3
        new = scaled(rc.base_lr, factor)
        return Finding(
            kind="lr_too_high", severity="warning",
            title=f"the loss behaves like a run whose LR is above its stable range "
                  f"(p={p:.2f}): {because}",
            evidence=ev,
            cause="updates that overshoot: the loss settles high, noisy or late",
            action=(f"lower the LR {round(1 / factor):d}x to {fmt_lr(new)}" if new else
                    f"lower the LR {round(1 / factor):d}x"),
            suggested_lr=new, lr_direction="lower")
    return Finding(
        kind="lr_too_low", severity="warning",
        title=f"the loss is still improving at the pace its LR allows (p={p:.2f}): {because}",
        evidence=ev, cause="the LR is too small: the run ends before the loss levels off",
        action="raise the LR", suggested_lr=scaled(rc.base_lr, 3.0), lr_direction="raise")


def _withheld_finding(rc: RunCurves, v: Verdict) -> Finding:
    """Why no raise was advised on a curve the model found too low: the run lost ground
    (``verdict.no_raise``). The evidence is the start and end levels, their standard
    error and the curve's thinned points, to check against the plot."""
    w = v.withheld or {}
    y, x = rc.y, rc.x
    idx = np.unique(np.linspace(0, max(len(y) - 1, 0), 12).round().astype(int))[:len(y)]
    ev = {"steps": [float(x[i]) for i in idx], "values": [float(y[i]) for i in idx],
          "probabilities": v.probabilities} | w
    if w.get("why") == "nonfinite":
        title = "the loss became NaN/Inf: a run that diverged is never told to raise its LR"
    else:
        title = (f"the loss ended at {fmt_num(w['end_level'])}, above where it started "
                 f"({fmt_num(w['start_level'])}) by {w['rise_se']:.3g} standard errors: "
                 "a run that lost ground is never told to raise its LR")
    return Finding(
        kind="raise_withheld", severity="info", title=title, evidence=ev,
        cause="the curve's shape looked like an LR too low, but a too-low LR still makes "
              "progress; a loss that ends higher than it began points to instability or "
              "a fault, not to a small step",
        action="no raise advised; check the plot's first and last points, then compare "
               "short runs at 0.3x and 1x the LR")


def _bounded(rc: RunCurves, f: Finding, v: Verdict) -> Finding:
    """A raise capped by what the run's own curve shows is stable (``advice.raise_bound``)."""
    wanted = 10.0 if f.kind == "flat_loss" else 3.0
    if f.suggested_lr is not None and rc.base_lr:
        wanted = f.suggested_lr / rc.base_lr
    cap, why = raise_bound(v.features)
    factor = min(wanted, cap)
    new = scaled(rc.base_lr, factor)
    action = (f"raise the LR {factor:.3g}x to {fmt_lr(new)}" if new else
              f"raise the LR {factor:.3g}x") + f" ({why})"
    ev = dict(f.evidence) | {"raise_bound": cap, "raise_bound_why": why}
    return dataclasses.replace(f, suggested_lr=new, action=action, evidence=ev)


def _reconcile(rc: RunCurves, findings: Sequence[Finding], v: Verdict
               ) -> tuple[str, tuple[Finding, ...], list[str]]:
    """The verdict and the findings that agree with it.

    The calibrated verdict decides; a critical too-high finding (a NaN, a blow-up the run
    never came back from) is conclusive on its own. A rule's LR advice that disagrees with
    the verdict is not reported as a problem (a note says it fired), so one diagnosis
    never says both "lower" and "raise", nor "raise" on a run judged fine.
    """
    notes: list[str] = []
    verdict = v.label
    conclusive = [f for f in findings if _says(f, "lower") and f.severity == "critical"]
    if conclusive and verdict != "too_high":
        notes.append(f"{conclusive[0].kind} is conclusive: the verdict is too_high (the "
                     f"curve model alone said {verdict})")
        verdict = "too_high"
    kept: list[Finding] = []
    for f in findings:
        value = f.kind in LR_HIGH_KINDS | LR_LOW_KINDS and f.lr_direction is not None
        agrees = (verdict == "too_high" and f.lr_direction == "lower") or (
            verdict == "too_low" and f.lr_direction == "raise")
        if not value or agrees:
            kept.append(f)
        else:
            notes.append(f"the {f.kind} rule fired ({f.title}), but the verdict is {verdict}"
                         f"{'' if v.probability is None else f' (p={v.probability:.2f})'}: "
                         "not reported as an LR problem")
    if verdict == "too_high" and not any(_says(f, "lower") for f in kept):
        kept.append(_model_finding(rc, v, "lower"))
    if v.withheld is not None and verdict != "too_low":
        kept.append(_withheld_finding(rc, v))
    if verdict == "too_low":
        if not any(_says(f, "raise") for f in kept):
            kept.append(_model_finding(rc, v, "raise"))
        kept = [_bounded(rc, f, v) if _says(f, "raise") else f for f in kept]
    order = {k: i for i, k in enumerate((*DETECTORS, "lr_too_high"))}
    return verdict, tuple(sorted(kept, key=lambda f: (f.rank, order.get(f.kind, 99)))), notes


def _summary(findings: Sequence[Finding], verdict: str) -> str:
    problems = [f for f in findings if f.severity != "info"]
    if verdict == "not_enough_data":
        return "not enough data to judge the learning rate yet"
    if verdict == "too_high":
        head = "the learning rate is too high"
    elif verdict == "too_low":
        head = "the learning rate is too low"
    elif any(f.lr_related for f in problems):
        head = "the learning-rate schedule needs a fix"
    elif any(f.kind == "raise_withheld" for f in findings):
        # the model leaned "too low", but the run lost ground: say so, not "no problem"
        head = "no LR change advised: the loss ended above where it started"
    elif problems:
        head = "no learning-rate problem found, but see the findings"
    else:
        head = "no learning-rate problem found"
    lr = next((f.suggested_lr for f in findings if f.suggested_lr is not None and
               f.lr_direction is not None and f.severity != "info"), None)
    if lr is not None and verdict in ("too_high", "too_low"):
        head += f"; try {fmt_lr(lr)}"
    return head


def _convergence(rc: RunCurves, tolerance: float) -> Convergence:
    c = rc.loss
    epochs = rc.epochs_of(c)
    if rc.finite_end < len(c):
        return Convergence(None, (None, None), None, (None, None), False,
                           "epoch" if epochs is not None else "step", tolerance,
                           reason="the loss became NaN/Inf")
    if epochs is not None:
        e, v = per_epoch(epochs, c.values)
        if len(e) >= 4 or c.steps is None or len(c) < 20:
            return estimate_convergence(v, epochs=e, unit="epoch", tolerance=tolerance)
        # Too few epochs to fit: fall back to bins of steps below.
    if c.steps is None or len(c) < 20:
        return estimate_convergence(c.values, unit="step" if c.steps is not None else "epoch",
                                    tolerance=tolerance)
    # No epochs: bins of steps act as "epochs"; the unit says so.
    bins = 20
    edges = np.linspace(c.steps[0], c.steps[-1], bins + 1)
    width = float(edges[1] - edges[0]) or 1.0
    pseudo = (c.steps - c.steps[0]) / width
    e, v = per_epoch(np.maximum(pseudo, 1e-9), c.values)
    est = estimate_convergence(v, epochs=e, unit="step", tolerance=tolerance)
    if est.epoch is None:
        return est
    scale = width
    lo, hi = est.epoch_interval
    return Convergence(
        epoch=float(c.steps[0] + est.epoch * scale),
        epoch_interval=(None if lo is None else float(c.steps[0] + lo * scale),
                        None if hi is None else float(c.steps[0] + hi * scale)),
        final_loss=est.final_loss, final_loss_interval=est.final_loss_interval,
        converged=est.converged, unit="step", tolerance=tolerance, weights=est.weights,
        observed=(est.observed[0], float(c.steps[-1])), reason=est.reason)


def diagnose_curves(curves: Sequence[Curve], metric: str | None = None, *,
                    run: str | None = None, lr: float | None = None,
                    model_kind: str | None = None, tolerance: float = 0.01,
                    format: str = "", progress: float | None = None,
                    project: bool = True) -> Diagnosis:
    """Diagnose curves already read, e.g. a run in progress (the live doctor's entry point).

    Args:
        curves: the run's curves as :func:`read_logs` returns them, or built with
            ``Curve.of``; for a run in progress, the points logged so far.
        progress: the fraction of the planned run these curves cover, for a run in
            progress (e.g. ``step / total_steps``); None: the log is the whole run. A
            still-falling loss at 25% of a run is expected, at its end it is not.
        metric, run, lr, model_kind, tolerance: as in :func:`diagnose`.
        format: the log format's name, for the report.
        project: fit the convergence projection (most of the cost on a short curve);
            the live doctor passes False, the findings and verdict do not depend on it.

    Returns:
        A :class:`Diagnosis`; ``verdict`` is ``not_enough_data`` while the loss has fewer
        than ``lrkit.diagnose.verdict.MIN_POINTS`` finite points.

    Raises:
        ConfigError: ``metric`` / ``run`` / ``lr`` / ``tolerance`` / ``progress`` is invalid.

    >>> import numpy as np
    >>> from lrkit.diagnose import Curve
    >>> steps = np.arange(100.0)
    >>> curves = [Curve.of("loss", 2.3 * np.exp(-steps / 20) + 0.2, steps=steps),
    ...           Curve.of("lr", np.full(100, 0.01), steps=steps)]
    >>> diagnose_curves(curves[:1], progress=0.02).verdict
    'ok'
    >>> d = diagnose_curves([c.__class__.of(c.name, c.values[:2], steps=c.steps[:2])
    ...                      for c in curves], progress=0.02)
    >>> d.verdict, d.probability
    ('not_enough_data', None)
    """
    if progress is not None:  # the fraction of the planned run the curves cover
        progress = INPUT.fraction("progress", progress, low_open=True,
                                  example="step / total_steps")
    if model_kind is not None:
        model_kind = INPUT.lookup("model_kind", model_kind, MODEL_KINDS)
    tolerance = INPUT.fraction("tolerance", tolerance, low_open=True, high_open=True,
                               example="0.01 (1% of the remaining improvement per epoch)")
    runs = split_runs(curves)
    notes: list[str] = []
    if run is None:
        chosen = next(iter(runs))
        if len(runs) > 1:
            others = some_names(list(runs)[1:])
            notes.append(f"the log holds {len(runs)} runs; diagnosed {chosen!r} (others: "
                         f"{others}); choose one with run=... / --run")
    elif run in runs:
        chosen = run
    else:
        raise ConfigError(f"run = {str(run)[:80]!r}: no such run in the log; use one of "
                          f"{some_names(runs)}")
    rc = RunCurves.build(runs[chosen], metric, model_family=model_kind, lr=lr)
    found: dict[str, Finding] = {}
    # Logs hold overflowing values (an exploded loss at 1e30): those are evidence, and
    # numpy's warnings about them are noise for the user.
    with np.errstate(all="ignore"):
        for kind, detector in DETECTORS.items():
            finding = detector(rc)
            if finding is not None:
                found[kind] = finding
    for kind in list(found):
        for other in SUPERSEDES.get(kind, ()):
            if kind in found:
                found.pop(other, None)
    findings = tuple(sorted(found.values(), key=lambda f: (f.rank, list(DETECTORS).index(
        f.kind))))
    if not rc.lr_known:
        notes.append("the log has no learning rate: schedule checks were skipped and "
                     "suggested LRs are given as factors; pass lr=... / --lr")
    elif rc.lr_points is None:
        notes.append("only the configured LR is known (no per-step LR logged): schedule "
                      "checks were skipped")
    if rc.steps_per_epoch_assumed:
        notes.append(f"the log has no epochs: assumed one epoch = {rc.steps_per_epoch:g} "
                     "updates, the spacing of the validation loss")
    if len(rc.y) < 30:
        steps = rc.loss.steps
        per_step = (steps is not None and len(steps) > 1
                    and float(np.median(np.diff(steps))) <= 1.0)
        # a short per-step log needs more updates, not a different logging interval
        need = "at least 30 logged points" if per_step else "per-step logging"
        notes.append(f"{rc.loss.name} has {len(rc.loss)} points: spike and oscillation "
                     f"checks need {need}")
    with np.errstate(all="ignore"):
        v = judge(rc, 1.0 if progress is None else float(progress), findings,
                  rule=_rule_verdict(findings))
    verdict, findings, more = _reconcile(rc, findings, v)
    notes += more
    if verdict == "not_enough_data":
        notes.append(v.reasons[0])
    if project:
        with np.errstate(all="ignore"):
            convergence = _convergence(rc, tolerance)
    else:
        convergence = Convergence(None, (None, None), None, (None, None), False,
                                  "step" if rc.loss.steps is not None else "epoch",
                                  tolerance, reason="not projected (project=False)")
    return Diagnosis(findings=findings, verdict=verdict, summary=_summary(findings, verdict),
                     convergence=convergence, curves=tuple(runs[chosen]),
                     metric=rc.loss.name, run=chosen, runs=tuple(runs), format=format,
                     base_lr=rc.base_lr, steps_per_epoch=rc.steps_per_epoch,
                     notes=tuple(notes), probability=v.probability,
                     probabilities=v.probabilities, reasons=v.reasons,
                     progress=1.0 if progress is None else float(progress))


def diagnose(path: str | os.PathLike[str], metric: str | None = None, *,
             run: str | None = None, lr: float | None = None, model_kind: str | None = None,
             tolerance: float = 0.01, format: str | None = None) -> Diagnosis:
    """Read a run's logs and say whether the learning rate is the problem.

    Args:
        path: a log file or folder in any format :func:`read_logs` reads.
        metric: the curve to diagnose, by name (``"val_loss"``, ``"train/loss"``) or kind
            (``"val_loss"``); default the training loss.
        run: which run, when the log holds several (W&B exports, MLflow stores).
        lr: the run's peak LR, when the log does not record it.
        model_kind: e.g. ``"transformer"`` (enables the warmup check); read from the log
            where it says (Hugging Face Trainer logs are transformers).
        tolerance: convergence = one more epoch improves the loss by less than this
            fraction of the improvement still ahead.
        format: force a reader instead of detecting it.

    Returns:
        A :class:`Diagnosis`.

    Raises:
        DataError: the log cannot be read (one line saying why and what to do).
        ConfigError: ``metric`` / ``run`` / ``lr`` / ``format`` is invalid.
    """
    p = Path(path)
    fmt = format or detect_format(p)[0]
    curves = read_logs(p, format=format)
    try:
        return diagnose_curves(curves, metric, run=run, lr=lr, model_kind=model_kind,
                               tolerance=tolerance, format=fmt)
    except LrkitError:
        raise
    except (ValueError, FloatingPointError, ZeroDivisionError) as err:  # pragma: no cover
        # A detector must never turn odd data into a traceback.
        raise ConfigError(f"path = '{p}': the log's values could not be analysed "
                          f"({type(err).__name__}: {err}); check the metric chosen") from None

