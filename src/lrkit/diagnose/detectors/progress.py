"""Detectors for how fast the loss improves: too slow, not at all, or stalled early.

They measure progress in *LR time* (the running sum of the LRs used, see
``RunCurves.tau``): a cosine schedule slows the loss down at the end because the LR
shrinks, and that is not the same as being converged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrkit.diagnose.advice import cosine_spec, fmt_lr, fmt_num, scaled
from lrkit.diagnose.detectors.instability import (
    EXPLOSION,
    early_window,
    progress_scale,
    start_level,
    step_noise,
)
from lrkit.diagnose.findings import Finding
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.signals import evidence_points, mad, odd_window, rolling_mean

__all__ = ["FLAT", "FLAT_CHANGE", "LATE_SHARE", "PLATEAU", "TOO_LOW", "TREND_SIGMAS",
           "VAL_LATE_SHARE", "VAL_LATE_SIGMAS", "FlatThresholds", "PlateauThresholds",
           "TooLowThresholds", "detect_flat", "detect_plateau", "detect_too_low",
           "fitted_late_share", "late_share", "val_late_share"]


@dataclass(frozen=True)
class TooLowThresholds:
    """The numbers of the too-low rule (shares of the run's own drop, or noise units).

    Attributes:
        late_share: at least this share of the run's progress came in its last half of LR
            time ...
        max_gain: ... and the loss improved by less than this fraction of its start level
            (a run that already made most of its progress is not held back by its LR) ...
        gain_sigmas: ... by at least this many noise standard deviations of a tenth of
            the run's mean.
        val_still_improving: the validation loss (when logged) must gain at least this
            share of its drop (from the untrained loss) in its second half.
        val_late_share: too low, read from the validation loss: its best value gained at
            least this share of its drop in the last third of the run's LR time ...
        val_late_sigmas: ... by at least this many times its epoch-to-epoch noise.
        trend_sigmas: the fitted late share (``fitted_late_share``) counts only when the
            fitted drop over the run is at least this many standard errors ...
        noisy_gain: ... and only when the gain read from points is under this many batch
            noise standard deviations: there, one noisy point decides the point estimates.
        strong_share: a late share this large advises ``raise_strong`` x, else
            ``raise_mild`` x.
    """

    late_share: float = 0.3
    max_gain: float = 0.9
    gain_sigmas: float = 3.0
    val_still_improving: float = 0.05
    val_late_share: float = 0.05
    val_late_sigmas: float = 3.0
    trend_sigmas: float = 3.0
    noisy_gain: float = 3.0
    strong_share: float = 0.42
    raise_strong: float = 10.0
    raise_mild: float = 3.0


@dataclass(frozen=True)
class FlatThresholds:
    """The numbers of the flat-loss rule.

    Attributes:
        change: the loss moved by less than this fraction of its level over the run ...
        sigmas: ... and by less than this many noise standard deviations of a tenth of
            the run's mean.
        raise_by: the LR factor advised.
    """

    change: float = 0.05
    sigmas: float = 3.0
    raise_by: float = 10.0


@dataclass(frozen=True)
class PlateauThresholds:
    """The numbers of the plateau rule (a constant LR that stalled).

    Attributes:
        late_share: at most this share of the progress in the last 40% of the run ...
        early_share: ... after at least this share in the first 30% ...
        noise: ... with late noise at least this fraction of the end level (a noise floor
            the constant LR sets; a smooth plateau is converged).
    """

    late_share: float = 0.03
    early_share: float = 0.8
    noise: float = 0.02


#: The defaults, used by the registered detectors.
TOO_LOW = TooLowThresholds()
FLAT = FlatThresholds()
PLATEAU = PlateauThresholds()
# The names of the first version, kept for readers of RESULTS.md and the tests.
LATE_SHARE = TOO_LOW.late_share
VAL_LATE_SHARE = TOO_LOW.val_late_share
VAL_LATE_SIGMAS = TOO_LOW.val_late_sigmas
TREND_SIGMAS = TOO_LOW.trend_sigmas
FLAT_CHANGE = FLAT.change


def head_level(y: np.ndarray) -> float:
    """The starting level as the median of the first few points (one noisy first batch
    must not decide how much progress a slow run made)."""
    return float(np.median(y[:max(3, min(10, len(y) // 40))]))


def _val_still_improving(rc: RunCurves, start: float | None = None,
                         th: TooLowThresholds = TOO_LOW) -> bool:
    """False when a validation loss exists and gained under 5% of its drop in its second
    half: a faster LR would not help it (it has levelled off, or it is overfitting).

    The drop is measured from the untrained loss (``start_level`` of the training loss),
    not from the first validation point: a run that was nearly done after its first epoch
    must not have a small late wobble count as a large share of a small remainder.
    """
    val = rc.val_loss
    if val is None or val is rc.loss:
        return True
    v = val.values[np.isfinite(val.values)]
    if len(v) < 4:
        return True
    start = start_level(rc.y) if start is None else start
    mid, end = float(v[len(v) // 2 - 1]), float(np.median(v[-2:]))
    if start <= end:
        return False
    return (mid - end) / (start - end) >= th.val_still_improving


def _trend(rc: RunCurves) -> np.ndarray:
    y = rc.y
    return rolling_mean(y, odd_window(len(y), 0.1, 3)) if len(y) >= 30 else y.copy()


def late_share(rc: RunCurves) -> tuple[float, float, float] | None:
    """(share of the progress made in the last half of LR time, start level, end level).

    None when the loss did not improve at all (see the flat detector).

    >>> from lrkit.diagnose.curves import Curve
    >>> import numpy as np
    >>> steps = np.arange(100.0)
    >>> rc = RunCurves.build([Curve.of("loss", 2 - 0.01 * steps, steps=steps)])
    >>> round(late_share(rc)[0], 2)
    0.5
    """
    y = rc.y
    if len(y) < 5:
        return None
    trend = _trend(rc)
    tau = rc.tau
    start = head_level(y)
    k = max(1, min(len(y) // 10, 20))
    end = float(np.median(trend[-k:]))
    if start - end <= 0:
        return None
    half = int(np.searchsorted(tau, tau[-1] / 2.0))
    half = min(max(half, 1), len(y) - 1)
    mid = float(trend[half])
    return (mid - end) / (start - end), start, end


def fitted_late_share(rc: RunCurves) -> tuple[float, float, float, float] | None:
    """(share of the drop made in the last half of LR time, fitted start level, fitted end
    level, the whole run's fitted drop in standard errors), from straight lines fitted by
    least squares to each half of the run in LR time.

    ``late_share`` reads the start, the middle and the end from a few points each. When
    the whole gain is comparable to the batch noise (a run whose LR is ~1000x too small
    moves its loss a few percent), those point estimates are noise, and a steady decline
    can read as a 27% or a 130% late share. A line through every point of each half
    measures the pace of each half with an error that shrinks with the number of points;
    the pace of the second half against the first is the diminishing-returns test of
    ``late_share``, made sturdy. The drop's standard error is the batch noise over the
    spread of LR time, so a flat, noisy loss does not pass for a trend. None with fewer
    than 20 points or no LR time.
    """
    y = rc.y
    tau = rc.tau
    if len(y) < 20 or not tau[-1] > tau[0]:
        return None
    t = (tau - tau[0]) / (tau[-1] - tau[0])
    late = t >= 0.5
    if late.sum() < 5 or (~late).sum() < 5:
        return None
    drops = []
    for part, width in ((~late, 0.5), (late, 0.5)):
        slope = np.polyfit(t[part], y[part], 1)[0]
        drops.append(-float(slope) * width)
    slope_all, icpt = np.polyfit(t, y, 1)
    noise = step_noise(y)
    se = noise / max(float(np.sqrt(np.sum((t - t.mean()) ** 2))), 1e-12)
    total = drops[0] + drops[1]
    if not total > 0:
        return None
    start = float(icpt)
    return drops[1] / total, start, start - total, -float(slope_all) / max(se, 1e-12 * abs(
        start))


def val_late_share(rc: RunCurves) -> tuple[float, float, float] | None:
    """(share of the best validation loss's drop made in the last third of LR time, the
    share made in the middle third, the late gain in units of the validation loss's
    epoch-to-epoch noise).

    The drop is measured from the untrained loss (``start_level`` of the training loss),
    so a run that got most of the way in its first epoch shows a small share. The validation
    loss has no batch noise, so it shows a slow, steady gain that the training loss
    hides; its running best ignores a one-epoch excursion and stops gaining when the
    model overfits. None without a validation loss of at least four finite points.
    """
    val = rc.val_loss
    y = rc.y
    if val is None or val is rc.loss or len(y) < 2:
        return None
    xv = rc.on_loss_axis(val)
    if xv is None:
        return None
    ok = np.isfinite(val.values) & np.isfinite(xv)
    xv, v = xv[ok], val.values[ok]
    if len(v) < 4:
        return None
    tau_v = np.interp(xv, rc.x, rc.tau)
    best = np.minimum.accumulate(v)
    start, end = start_level(y), float(best[-1])
    if not start - end > 0 or tau_v[-1] <= 0:
        return None
    third, two_thirds = (float(np.interp(tau_v[-1] * f, tau_v, best)) for f in (1 / 3, 2 / 3))
    late, middle = two_thirds - end, third - two_thirds
    # The noise of the late part only: early epochs fall steeply and would inflate it.
    noise = step_noise(v[-max(4, len(v) // 2):])
    return late / (start - end), middle / (start - end), late / max(noise, 1e-12 * abs(start))


def _train_says_too_low(rc: RunCurves, got: tuple[float, float, float],
                        th: TooLowThresholds = TOO_LOW) -> tuple[float, float, float] | None:
    """(late share, start, end) when the training loss made a large share of its progress
    late, else None.

    Read from points (``late_share``, given as ``got``); when the whole gain is within a
    few batches' noise those points are noise, and the same test is made on the pace of
    each half fitted through every point (``fitted_late_share``).
    """
    y = rc.y
    share, start, end = got
    noise = step_noise(y)
    if share >= th.late_share and (start - end) / max(abs(start), 1e-12) <= th.max_gain \
            and start - end >= th.gain_sigmas * noise / np.sqrt(max(len(y) // 10, 1)) \
            and _val_still_improving(rc, th=th):
        return got
    if start - end >= th.noisy_gain * noise:
        return None
    fit = fitted_late_share(rc)
    if fit is None:
        return None
    share, start, end, sigmas = fit
    if share >= th.late_share and sigmas >= th.trend_sigmas \
            and (start - end) / max(abs(start), 1e-12) <= th.max_gain \
            and _val_still_improving(rc, max(start, start_level(y)), th):
        return share, start, end
    return None


def _val_says_too_low(val: tuple[float, float, float],
                      th: TooLowThresholds = TOO_LOW) -> bool:
    """The validation loss (``val_late_share``) still gained clearly in the last third.

    An LR that limits progress gives diminishing returns in LR time, so the late gain must
    not exceed the middle third's: a larger one is a decaying schedule annealing a high
    LR's noise away.
    """
    return th.val_late_share <= val[0] <= val[1] and val[2] >= th.val_late_sigmas


def detect_too_low(rc: RunCurves, th: TooLowThresholds = TOO_LOW) -> Finding | None:
    """The loss is still falling steadily at the end: the LR is too small to get there.

    Either the training loss made a large share of its progress late (in LR time), or the
    validation loss was still gaining clearly in the last third of the run.
    """
    y, x = rc.y, rc.x
    got = late_share(rc)
    if got is None or len(y) < 5:
        return None
    train = _train_says_too_low(rc, got, th)
    val = val_late_share(rc)
    if train is not None:
        share, start, end = train
        title = (f"the loss is still falling steadily: {100 * share:.0f}% of its drop came "
                 f"in the second half of the run ({fmt_num(start)} -> {fmt_num(end)})")
    elif val is not None and _val_says_too_low(val, th):
        share, start, end = got
        title = (f"the validation loss is still improving: {100 * val[0]:.0f}% of its drop "
                 "came in the last third of the run")
    else:
        return None
    gain = (start - end) / max(abs(start), 1e-12)
    factor = th.raise_strong if train is not None and share >= th.strong_share else \
        th.raise_mild
    new = scaled(rc.base_lr, factor)
    idx = np.unique(np.linspace(0, len(y) - 1, 10).round().astype(int))
    ev = evidence_points(x, y, idx) | {
        "late_share": share, "start_level": start, "end_level": end, "relative_gain": gain,
        "val_late_share": None if val is None else val[0]}
    return Finding(
        kind="lr_too_low", severity="warning",
        title=title,
        evidence=ev,
        cause=f"LR {fmt_lr(rc.base_lr)} is too small: each update makes little progress, "
              "so the run ends long before the loss levels off" if rc.lr_known else
              "the LR is too small: the run ends long before the loss levels off",
        action=(f"raise the LR {factor:.0f}x to {fmt_lr(new)}" if new else
                f"raise the LR {factor:.0f}x") + " (then check the first steps for spikes)",
        suggested_lr=new, lr_direction="raise")


def detect_flat(rc: RunCurves, th: FlatThresholds = FLAT) -> Finding | None:
    """The loss barely moves from its starting level over the whole run."""
    y, x = rc.y, rc.x
    if len(y) < 5:
        return None
    start, _best, _ = progress_scale(rc)
    k = max(1, len(y) // 10)
    head = float(np.median(y[:k]))
    end = float(np.median(y[-k:]))
    scale = max(abs(start), 1e-12)
    noise = step_noise(y)
    early = early_window(y)
    if float(early.max()) > start + max(EXPLOSION.jump * scale,
                                        EXPLOSION.jump_sigmas * noise / np.sqrt(5.0)):
        return None  # it blew up first: that is the explosion detector's case
    # No change beyond FLAT_CHANGE of the level, nor beyond what batch noise explains.
    allowed = max(th.change * scale, th.sigmas * noise * np.sqrt(2.0 / k))
    # Both from the first few updates (a fast run drops there) and from the first tenth.
    first = float(np.median(y[:5]))
    if head - end > allowed or first - end > allowed:
        return None
    new = scaled(rc.base_lr, th.raise_by)
    idx = np.unique(np.linspace(0, len(y) - 1, 10).round().astype(int))
    ev = evidence_points(x, y, idx) | {
        "start_level": start, "end_level": end, "relative_change": (start - end) / scale}
    return Finding(
        kind="flat_loss", severity="warning",
        title=f"the loss is flat: {fmt_num(start)} -> {fmt_num(end)} "
              f"({100 * (start - end) / scale:.2f}%) over {rc.loss.axis} "
              f"{x[0]:g}-{x[-1]:g}",
        evidence=ev,
        cause=(f"LR {fmt_lr(rc.base_lr)} is far too small to move the weights" if rc.lr_known
               else "the LR is far too small") +
        " (or the parameters are not being updated: frozen layers, an optimizer built "
        "over the wrong parameters)",
        action=(f"raise the LR {th.raise_by:g}x to {fmt_lr(new)}" if new else
                f"raise the LR {th.raise_by:g}x") + "; if it stays flat, check that "
        "optimizer.step() updates the model's parameters",
        suggested_lr=new, lr_direction="raise")


def detect_plateau(rc: RunCurves, th: PlateauThresholds = PLATEAU) -> Finding | None:
    """A constant LR that made fast progress and then stalled: decay would go further."""
    y, x = rc.y, rc.x
    if len(y) < 20 or not rc.lr_constant or (rc.lr is None and rc.lr_override is None):
        return None
    trend = _trend(rc)
    start = float(np.median(y[:max(1, min(5, len(y) // 50))]))
    end = float(np.median(trend[-max(1, len(y) // 20):]))
    drop = start - end
    if drop <= 0:
        return None
    i30, i60 = int(0.3 * len(y)), int(0.6 * len(y))
    early_share = (start - float(trend[i30])) / drop
    late = (float(trend[i60]) - end) / drop
    noise = mad(y[i60:] - trend[i60:])
    if early_share < th.early_share or late > th.late_share or \
            noise < th.noise * abs(end) or rc.base_lr is None:
        return None
    steps = round(rc.run_steps + 1) if rc.loss.axis == "step" else None
    spec = cosine_spec(rc.base_lr, steps) if steps else None
    ev = {"steps": [float(x[0]), float(x[i30]), float(x[i60]), float(x[-1])],
          "values": [start, float(trend[i30]), float(trend[i60]), end],
          "early_share": early_share, "late_share": late, "late_noise_sd": noise}
    return Finding(
        kind="plateau_no_decay", severity="info",
        title=f"{100 * early_share:.0f}% of the progress came in the first 30% of the run, "
              f"then the loss stalled at ~{fmt_num(end)} with the LR held constant",
        evidence=ev,
        cause=f"a constant LR {fmt_lr(rc.base_lr)} keeps the weights bouncing around the "
              "minimum; the noise floor it sets is the plateau",
        action=f"keep the peak LR {fmt_lr(rc.base_lr)} but decay it: "
               + (f"{spec}, " if spec else "cosine to ~0 over the run, ")
               + f"or drop it 10x at {rc.loss.axis} {x[i30]:g}",
        suggested_lr=rc.base_lr, suggested_schedule=spec, step=float(x[i30]))
