"""Detectors that read the logged LR curve itself: warmup, floor, restarts, unit mix-ups.

They need the LR as logged per step (``LearningRateMonitor``, ``learning_rate`` in
``log_history``, an ``lr`` scalar); a configured LR alone says nothing about a schedule.
"""

from __future__ import annotations

import numpy as np

from lrkit.diagnose.advice import cosine_spec, fmt_lr
from lrkit.diagnose.detectors.instability import progress_scale, step_noise
from lrkit.diagnose.findings import Finding
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.signals import rolling_mean

__all__ = ["detect_floor_early", "detect_restart", "detect_unit_mixup", "detect_warmup",
           "rebounds"]

#: Fewer logged LR points than this and the schedule detectors stay quiet.
MIN_LR_POINTS = 8
#: The floor: within this fraction of the LR range above the smallest LR.
FLOOR_BAND = 0.001
#: Reaching the floor before this fraction of the run counts as "too early".
FLOOR_BY = 0.75


def _lr(rc: RunCurves) -> tuple[np.ndarray, np.ndarray] | None:
    pts = rc.lr_points
    if pts is None or len(pts[0]) < MIN_LR_POINTS:
        return None
    return pts


def rebounds(vs: np.ndarray) -> list[tuple[int, int]]:
    """(valley, top) index pairs where the LR, after decaying, climbs back up.

    A rebound starts once the LR has fallen to at most 60% of the peak seen so far (its
    lowest point after that is the valley) and ends where it first gets back to 80% of that
    peak. A warmup only rises, so it never counts.

    >>> lr = np.array([1.0, .5, .1, 1.0, .5, .1, 1.0, .5])
    >>> rebounds(lr)
    [(2, 3), (5, 6)]
    """
    out = []
    peak = float(vs[0])
    valley_i: int | None = None
    for i in range(1, len(vs)):
        v = float(vs[i])
        if valley_i is None:
            if v <= 0.6 * peak:
                valley_i = i
            peak = max(peak, v)
        else:
            if v < vs[valley_i]:
                valley_i = i
            if v >= 0.8 * peak:
                out.append((valley_i, i))
                valley_i = None
                peak = max(peak, v)
    return out


def _resumes(rc: RunCurves) -> list[float]:
    return sorted({float(s) for c in rc.curves for s in c.meta.get("resumed_at", [])})


def detect_restart(rc: RunCurves) -> Finding | None:
    """The LR jumped back up once mid-run: the schedule restarted (typically on resume)."""
    pts = _lr(rc)
    if pts is None:
        return None
    xs, vs = pts
    reb = rebounds(vs)
    if len(reb) != 1:
        return None  # none, or periodic (warm restarts / a cyclic schedule / a unit mix-up)
    valley, top = reb[0]
    at = float(xs[valley + 1])
    resumes = [r for r in _resumes(rc) if abs(r - at) <= max(0.02 * xs[-1], 2.0)]
    span = float(xs[-1] - xs[0]) or 1.0
    ev = {"steps": [float(s) for s in xs[max(0, valley - 3):top + 3]],
          "values": [float(v) for v in vs[max(0, valley - 3):top + 3]],
          "lr_before": float(vs[valley]), "lr_after": float(vs[top]),
          "restart_step": at, "resumed_at": resumes}
    why = (f"logging also went back to step {resumes[0]:g}, so the run was resumed from a "
           "checkpoint and the scheduler started over" if resumes else
           "a scheduler restarted from its first step (a resume that restored the model and "
           "optimizer but not the scheduler state, or a scheduler created twice)")
    remaining = round(xs[-1] - at)
    return Finding(
        kind="schedule_restart", severity="warning",
        title=f"the LR jumped from {fmt_lr(vs[valley])} back up to {fmt_lr(vs[top])} at "
              f"step {at:g} ({100 * (at - xs[0]) / span:.0f}% into the run)",
        evidence=ev, cause=why,
        action="restore the scheduler with the checkpoint (scheduler.load_state_dict, or "
               "Trainer(resume_from_checkpoint=...)); if you use warm restarts on purpose, "
               "ignore this" + (f" — {remaining} updates ran on the restarted schedule"
                                if remaining > 0 else ""),
        step=at)


def _n_epochs(rc: RunCurves, xs: np.ndarray) -> float | None:
    spe = rc.steps_per_epoch
    if not spe:
        return None
    return float(xs[-1] + 1) / spe


def detect_unit_mixup(rc: RunCurves) -> Finding | None:
    """The LR's time scale is off by the number of steps in an epoch (or never ends warmup).

    Three signatures: the LR reaches its floor after about as many *steps* as the run has
    *epochs* (a schedule set in epochs, stepped every batch); it cycles faster than once an
    epoch; or it is still rising when the run ends (set in steps, stepped every epoch).
    """
    pts = _lr(rc)
    if pts is None:
        return None
    xs, vs = pts
    top, low = float(vs.max()), float(vs.min())
    total = float(xs[-1] + 1)
    n_ep = _n_epochs(rc, xs)
    spec = cosine_spec(top, int(total), warmup_steps=max(1, int(0.05 * total)))
    # Still warming up at the end.
    if vs[0] <= 0.5 * top and vs[-1] >= 0.98 * top and np.all(np.diff(vs) >= -1e-12 * top) \
            and len(np.unique(vs)) > 3:
        return Finding(
            kind="schedule_unit_mixup", severity="warning",
            title=f"the LR was still rising when the run ended ({fmt_lr(vs[0])} -> "
                  f"{fmt_lr(vs[-1])}): the schedule never got past its warmup",
            evidence={"steps": [float(s) for s in xs[:: max(1, len(xs) // 10)]],
                      "values": [float(v) for v in vs[:: max(1, len(xs) // 10)]],
                      "run_steps": total},
            cause="the schedule's length is in updates but the scheduler is stepped once per "
                  "epoch (or warmup_steps is longer than the run)",
            action=f"step the scheduler every batch, or size it to this run: {spec}",
            suggested_lr=top, suggested_schedule=spec, step=float(xs[-1]))
    if top <= 0 or low > 0.5 * top:
        return None
    reb = rebounds(vs)
    if len(reb) >= 2 and n_ep:
        period = float(np.median(np.diff([xs[t] for _, t in reb])))
        spe = rc.steps_per_epoch or 0.0
        # torch's CosineAnnealingLR(T_max=epochs) stepped per batch repeats every
        # 2 * epochs updates; any cycle shorter than an epoch is as telling.
        if period < spe or abs(period - 2.0 * n_ep) <= 0.2 * 2.0 * n_ep:
            return Finding(
                kind="schedule_unit_mixup", severity="warning",
                title=f"the LR cycles {len(reb) + 1} times, once every {period:g} steps "
                      f"(an epoch is {spe:g} steps; the run has {n_ep:g} epochs)",
                evidence={"steps": [float(xs[t]) for _, t in reb[:20]],
                          "values": [float(vs[t]) for _, t in reb[:20]],
                          "period_steps": period, "steps_per_epoch": spe},
                cause="a schedule sized in epochs (e.g. CosineAnnealingLR(T_max=epochs)) is "
                      "stepped every batch, so it runs through its whole length many times",
                action=f"step it once per epoch, or size it in updates: {spec}",
                suggested_lr=top, suggested_schedule=spec, step=float(xs[reb[0][0]]))
    if len(reb) >= 4 and not n_ep:
        period = float(np.median(np.diff([xs[t] for _, t in reb])))
        return Finding(
            kind="schedule_unit_mixup", severity="info",
            title=f"the LR cycles {len(reb) + 1} times, once every {period:g} steps",
            evidence={"steps": [float(xs[t]) for _, t in reb[:20]],
                      "values": [float(vs[t]) for _, t in reb[:20]], "period_steps": period},
            cause="if you did not mean a cyclic schedule: one sized in epochs (e.g. "
                  "CosineAnnealingLR(T_max=epochs)) is being stepped every batch",
            action=f"step it once per epoch, or size it in updates: {spec}; if the cycles "
                   "are intended, ignore this",
            suggested_lr=top, suggested_schedule=spec, step=float(xs[reb[0][0]]))
    floor_i = _floor_index(vs)
    if floor_i is None or reb:
        return None
    reached = float(xs[floor_i] - xs[0] + 1)
    if n_ep and n_ep >= 2 and reached <= 2.0 * n_ep and reached < FLOOR_BY * total / 4:
        return Finding(
            kind="schedule_unit_mixup", severity="warning",
            title=f"the LR reached its floor {fmt_lr(vs[floor_i])} after {reached:g} updates "
                  f"— about the number of epochs ({n_ep:g}), not of updates ({total:g})",
            evidence={"steps": [float(s) for s in xs[:floor_i + 2][:20]],
                      "values": [float(v) for v in vs[:floor_i + 2][:20]],
                      "floor_step": float(xs[floor_i]), "epochs": n_ep,
                      "run_steps": total},
            cause="the schedule's length was given in epochs but the scheduler is stepped "
                  "every batch",
            action=f"step the scheduler once per epoch, or size it in updates: {spec}",
            suggested_lr=top, suggested_schedule=spec, step=float(xs[floor_i]))
    return None


def _floor_index(vs: np.ndarray) -> int | None:
    """First index from which the LR stays at its floor to the end (decayed runs only)."""
    top, low = float(vs.max()), float(vs.min())
    if top <= 0 or low > top / 3.0:
        return None
    band = low + FLOOR_BAND * (top - low)
    above = np.flatnonzero(vs > band)
    if above.size == 0:
        return None
    i = int(above[-1]) + 1
    return i if i < len(vs) - 1 else None


def detect_floor_early(rc: RunCurves) -> Finding | None:
    """A decaying schedule hit its minimum well before the run ended."""
    pts = _lr(rc)
    if pts is None:
        return None
    xs, vs = pts
    if rebounds(vs):
        return None
    floor_i = _floor_index(vs)
    if floor_i is None:
        return None
    span = float(xs[-1] - xs[0]) or 1.0
    frac = float(xs[floor_i] - xs[0]) / span
    if frac > FLOOR_BY:
        return None
    n_ep = _n_epochs(rc, xs)
    reached = float(xs[floor_i] - xs[0] + 1)
    if n_ep and n_ep >= 2 and reached <= 2.0 * n_ep:
        return None  # the unit mix-up detector explains this one
    top, low = float(vs.max()), float(vs.min())
    total = float(xs[-1] + 1)
    spec = cosine_spec(top, int(total))
    severity = "warning" if low <= 0.05 * top else "info"
    return Finding(
        kind="schedule_floor_early", severity=severity,
        title=f"the LR reached its floor {fmt_lr(low)} at step {xs[floor_i]:g}, "
              f"{100 * frac:.0f}% into the run, and stayed there for the remaining "
              f"{100 * (1 - frac):.0f}%",
        evidence={"steps": [float(s) for s in xs[:: max(1, len(xs) // 12)]],
                  "values": [float(v) for v in vs[:: max(1, len(xs) // 12)]],
                  "floor_step": float(xs[floor_i]), "floor_fraction": frac,
                  "peak_lr": top, "floor_lr": low},
        cause="the schedule's total_steps (T_max) is shorter than the run, so the last "
              "part trains at the minimum LR and learns little",
        action=f"set the schedule's length to the run's {total:g} updates: {spec}",
        suggested_lr=top, suggested_schedule=spec, step=float(xs[floor_i]))


def detect_warmup(rc: RunCurves) -> Finding | None:
    """The LR starts at its peak where the model kind (or an early spike) calls for warmup."""
    pts = _lr(rc)
    if pts is None or len(rc.y) < 10:
        return None
    xs, vs = pts
    top = float(vs.max())
    total = float(max(xs[-1], rc.run_steps) + 1)
    if xs[0] > 0.01 * total or vs[0] < 0.9 * top:
        return None  # there is a ramp (or the start was not logged)
    y = rolling_mean(rc.y, 5) if len(rc.y) >= 100 else rc.y  # one bad batch is not trouble
    start, _, progress = progress_scale(rc)
    head = y[: max(3, len(y) // 10)]
    noise = step_noise(rc.y)
    early_trouble = float(head.max()) > start + max(0.5 * abs(start), 0.5 * progress,
                                                    6.0 * noise / np.sqrt(5.0))
    transformer = (rc.model_family or "").lower() in {"transformer", "bert", "gpt", "vit",
                                                      "llm"}
    if not (transformer or early_trouble):
        return None
    warm = max(1, round(0.05 * total))
    spec = cosine_spec(top, int(total), warmup_steps=warm)
    i_peak = int(np.argmax(head))
    ev = {"steps": [float(s) for s in rc.x[: len(head)][:20]],
          "values": [float(v) for v in head[:20]], "first_lr": float(vs[0]), "peak_lr": top,
          "early_peak_loss": float(head.max()), "start_level": start,
          "model_family": rc.model_family}
    kind_text = "a transformer" if transformer else "this run"
    return Finding(
        kind="warmup_missing", severity="warning" if early_trouble else "info",
        title=f"no warmup: the LR starts at its peak {fmt_lr(top)}" +
              (f" and the loss jumps to {head.max():.4g} in the first updates"
               if early_trouble else f" on {kind_text}"),
        evidence=ev,
        cause="Adam-type optimizers take oversized steps while their second-moment "
              "estimates are still near zero; attention layers are the most sensitive",
        action=f"ramp the LR up linearly over the first ~5% of updates ({warm}): {spec}",
        suggested_lr=top, suggested_schedule=spec,
        step=float(rc.x[i_peak]) if early_trouble else float(xs[0]))
