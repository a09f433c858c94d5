"""Detectors for an LR that is too high: NaN/Inf, explosion, spikes, oscillation.

Each is ``(RunCurves) -> Finding | None``. Every number a rule compares against lives in
a frozen thresholds object (:class:`ExplosionThresholds`, :class:`SpikeThresholds`,
:class:`OscillationThresholds`), whose defaults were set on the labelled corpora in
``benchmarks/diagnose/`` (see its RESULTS.md), and each rule is a named predicate over
the run's measurements (:class:`Explosion`: ``blown``, ``recovered``, ``ended_worse``,
``rose_back``), so a reader sees the rule and a benchmark can sweep a threshold:

>>> from dataclasses import replace
>>> from lrkit.diagnose.curves import Curve
>>> y = [2.3] * 3 + [60.0] * 3 + [0.5] * 40
>>> rc = RunCurves.build([Curve.of("loss", y, steps=range(len(y)))])
>>> m = Explosion.measure(rc)
>>> m.blown(EXPLOSION), m.recovered(EXPLOSION)
(False, True)
>>> m.recovered(replace(EXPLOSION, blowup_ratio=30.0))
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrkit.diagnose.advice import fmt_lr, fmt_num, scaled
from lrkit.diagnose.findings import Finding
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.signals import evidence_points, mad, odd_window, rolling_mean, smooth

__all__ = ["BLOWUP_RATIO", "EXPLOSION", "EXPLOSION_RISE", "OSCILLATION", "SPIKES",
           "START_POINTS", "STUCK_GAIN", "VAL_STUCK_GAIN", "Explosion", "ExplosionThresholds",
           "OscillationThresholds", "SpikeThresholds", "detect_explosion", "detect_nan",
           "detect_oscillation", "detect_spikes", "early_window", "progress_scale",
           "start_level", "step_noise"]

#: The untrained loss is the median of this many first points (see ``start_level``). More
#: points let a blow-up in the first updates of a chaotic run, whose noise is huge, pass
#: for the start.
START_POINTS = 3


@dataclass(frozen=True)
class ExplosionThresholds:
    """The numbers of the explosion rules (all relative to the untrained loss or the noise).

    Attributes:
        rise: "rose back": the loss ends this fraction of the progress made back above
            its best level ...
        rise_sigmas: ... and more than this many noise standard deviations of its mean ...
        rise_vs_best: ... and more than this fraction of the best level itself.
        progress_sigmas: the progress it lost must stand this many noise standard
            deviations (of a ~5% running median) out of the batch noise.
        stuck_gain: after an early blow-up, a loss that ends less than this fraction of
            its start level below it is stuck (dead units at chance level); runs that
            recover gain far more.
        val_stuck_gain: ... and so is one whose validation loss (when logged) never got
            this fraction of the untrained loss below it: the blow-up left weights that
            fit nothing beyond the batches.
        jump: an early excursion above the start by more than this fraction of it (and
            ``jump_sigmas`` noise standard deviations of a 5-point mean) is a blow-up.
        jump_sigmas: see ``jump``.
        huge_jump: a jump this many times the start is a blow-up on its own, when the loss
            then ends above the middle of start and best.
        blowup_ratio: an early blow-up to more than this many times the untrained loss
            above it is too high even when the run recovers: on the corpus, healthy runs
            reach at most 1.7x in their first updates and the recovered blow-ups of an LR
            10x too high 75-890x.
        worse: "ended worse": the end is this fraction of the start above the start ...
        worse_sigmas: ... and this many noise standard deviations of its mean.
        lower_broken: the LR factor advised for a blown or worse-than-start run.
        lower_recovered: the LR factor advised for a recovered blow-up or a late rise.
    """

    rise: float = 0.5
    rise_sigmas: float = 3.0
    rise_vs_best: float = 0.1
    progress_sigmas: float = 3.0
    stuck_gain: float = 0.2
    val_stuck_gain: float = 0.05
    jump: float = 0.5
    jump_sigmas: float = 6.0
    huge_jump: float = 3.0
    blowup_ratio: float = 10.0
    worse: float = 0.1
    worse_sigmas: float = 3.0
    lower_broken: float = 0.1
    lower_recovered: float = 0.3


@dataclass(frozen=True)
class SpikeThresholds:
    """The numbers of the spike rule.

    Attributes:
        height: a spike undoes at least this fraction of the progress made so far ...
        sigmas: ... standing this many noise standard deviations above the local level ...
        recovery: ... and the loss comes back within this fraction of the run (else it is
            an explosion).
        span: spikes are measured on a running mean over this many points (per-step logs),
            and must hold in a running median over it, so one or two bad batches do not
            count.
        warn_height: one spike undoing more than this fraction of the progress is a
            warning (two or more always are); smaller single spikes are info.
        min_points: fewer points than this cannot show a spike.
    """

    height: float = 0.35
    sigmas: float = 8.0
    recovery: float = 0.1
    span: int = 5
    warn_height: float = 0.6
    min_points: int = 40


@dataclass(frozen=True)
class OscillationThresholds:
    """The numbers of the oscillation rule.

    Attributes:
        swing: late swings (std of the detrended, smoothed second half) at least this
            fraction of the progress ...
        chaos: ... or step-to-step noise above this fraction of the starting loss
            (chaotic updates).
        progress_sigmas: without chaos, the progress must be this many noise standard
            deviations (else it is the flat / too-low detectors' case).
        noise_sigmas: ... and the swings must be this many times what the batch noise
            alone gives the smoothed trend (the batch noise over the square root of the
            smoothing window): a run that barely moved has a small progress, and its batch
            noise alone passes ``swing``.
        min_points: fewer points than this are not judged.
    """

    swing: float = 0.12
    chaos: float = 0.5
    progress_sigmas: float = 3.0
    noise_sigmas: float = 3.0
    min_points: int = 12


#: The defaults, used by the registered detectors.
EXPLOSION = ExplosionThresholds()
SPIKES = SpikeThresholds()
OSCILLATION = OscillationThresholds()
# The names of the first version, kept for readers of RESULTS.md and old scripts.
EXPLOSION_RISE = EXPLOSION.rise
STUCK_GAIN = EXPLOSION.stuck_gain
VAL_STUCK_GAIN = EXPLOSION.val_stuck_gain
BLOWUP_RATIO = EXPLOSION.blowup_ratio


def _lr_text(rc: RunCurves, step: float | None = None) -> str:
    lr = rc.lr_at(step) if step is not None else rc.base_lr
    return f"LR {fmt_lr(lr)}" if lr is not None else "an unknown LR"


def progress_scale(rc: RunCurves) -> tuple[float, float, float]:
    """(start level, best smoothed level, progress = start - best, floored at the noise)."""
    y, s = rc.y, rc.smooth_y
    start = start_level(y)
    best = float(s.min())
    noise = step_noise(y)
    return start, best, max(start - best, noise, 1e-12 * max(abs(start), 1.0))


def start_level(y: np.ndarray) -> float:
    """The untrained loss: the median of the first three points, or the first point alone
    when the median is further from it than the batch noise explains.

    The first point is logged before any update, but it is one batch: its noise can be as
    large as the whole gain of a slow run. While the loss has not moved beyond the noise,
    the first few points are samples of the same level and their median is the sturdier
    estimate. When they differ from the first point by more than 3 noise standard
    deviations, the run moved: it dropped fast in its first updates (the median would
    already be trained) or blew up in them (the median would not be the start), and the
    first point is the untrained loss.
    """
    first, med = float(y[0]), float(np.median(y[:START_POINTS]))
    return med if abs(med - first) <= 3.0 * step_noise(y) else first


def step_noise(y: np.ndarray) -> float:
    """The standard deviation of the step-to-step noise (from differences, robust)."""
    return mad(np.diff(y)) / np.sqrt(2) if len(y) > 3 else 0.0


def detect_nan(rc: RunCurves) -> Finding | None:
    """A NaN or Inf in the training or validation loss."""
    for c in (rc.loss, rc.train_loss, rc.val_loss):
        if c is None:
            continue
        bad = np.flatnonzero(~np.isfinite(c.values))
        if bad.size == 0:
            continue
        i = int(bad[0])
        at = float(c.x[i])
        before = c.values[max(0, i - 5):i]
        rising = before.size >= 2 and before[-1] > before[0]
        lr_then = rc.lr_at(at) if c.axis == rc.loss.axis else rc.base_lr
        factor = 0.1
        ev = {"steps": [float(v) for v in c.x[max(0, i - 5):i + 1]],
              "values": [float(v) for v in c.values[max(0, i - 5):i + 1]],
              "curve": c.name, "first_bad_step": at, "lr_at_failure": lr_then,
              "rising_before": bool(rising)}
        cause = ("the loss grew and overflowed: the LR is too high" if rising or i <= 2 else
                 "a sudden NaN: an LR too high for some batches, or a numerical fault "
                 "(log(0), a division, fp16 overflow)")
        new = scaled(lr_then if lr_then is not None else rc.base_lr, factor)
        action = (f"lower the LR 10x to {fmt_lr(new)}" if new is not None else
                  "lower the LR 10x") + ", add gradient clipping (max_norm=1.0) and, for " \
            "Adam-type optimizers, a warmup of ~2-5% of the steps"
        return Finding(kind="nan_loss", severity="critical",
                       title=f"{c.name} became {c.values[i]} at {c.axis} {at:g}",
                       evidence=ev, cause=cause, action=action, suggested_lr=new,
                       lr_direction="lower", step=at)
    return None


def _val_best(rc: RunCurves) -> float | None:
    """The best finite validation loss, when one is logged beside the loss diagnosed."""
    val = rc.val_loss
    if val is None or val is rc.loss:
        return None
    v = val.values[np.isfinite(val.values)]
    return float(v.min()) if len(v) else None


def early_window(y: np.ndarray) -> np.ndarray:
    """The first fifth of the run (at least 3 points), through a 5-point running mean on
    per-step logs: where a blow-up in the first updates shows."""
    if len(y) >= 100:
        return rolling_mean(y, 5)[:max(3, len(y) // 5)]
    return y[:max(3, len(y) // 5)]


def early_level(y: np.ndarray) -> np.ndarray:
    """The first fifth of the run (at least 3 points), through a 5-point running *median*
    on per-step logs: what the explosion rules call a blow-up.

    A blow-up lasts several updates; one bad batch of a heavy-tailed batch loss does not
    (an autoencoder at 0.01x its best LR logs single batches at 4x its typical loss). A
    running mean spreads that one batch over its window and lifts it by a fifth of its
    height, beyond the Gaussian noise of the mean; a running median of 5 moves only when 3
    of the 5 updates are high, so the batch noise's tail cannot make a blow-up.
    """
    if len(y) >= 100:
        return smooth(y, 5)[:max(3, len(y) // 5)]
    return y[:max(3, len(y) // 5)]


@dataclass(frozen=True)
class Explosion:
    """What the explosion rules measure on one run (build it with :meth:`measure`).

    Levels are loss values; ``scale`` is the untrained loss's size and ``noise`` the
    standard deviation of one update's batch noise, the two units the thresholds use.
    """

    n: int
    start: float
    best: float
    end: float
    head: float
    peak: float
    jump: float
    noise: float
    scale: float
    progress: float
    i_best: int
    k: int
    window: int
    val_best: float | None
    onset_early: int

    @classmethod
    def measure(cls, rc: RunCurves) -> Explosion | None:
        """The measurements, or None with fewer than 4 finite points."""
        y, s = rc.y, rc.smooth_y
        if len(y) < 4:
            return None
        start, best, progress = progress_scale(rc)
        k = max(1, min(len(y) // 10, 20))
        early = early_level(y)
        return cls(n=len(y), start=start, best=best, end=float(np.median(y[-k:])),
                   head=float(np.median(y[:max(3, len(y) // 10)])), peak=float(np.max(y)),
                   jump=float(early.max()) - start, noise=step_noise(y),
                   scale=max(abs(start), 1e-12), progress=progress,
                   i_best=int(np.argmin(s)), k=k, window=odd_window(len(y), 0.05),
                   val_best=_val_best(rc), onset_early=int(np.argmax(early)))

    def stuck(self, th: ExplosionThresholds) -> bool:
        """The loss ended less than ``stuck_gain`` of its start below it."""
        return self.end > self.start - th.stuck_gain * self.scale

    def val_stuck(self, th: ExplosionThresholds) -> bool:
        """The validation loss, when logged, never got ``val_stuck_gain`` below the start."""
        return self.val_best is not None and \
            self.val_best > self.start - th.val_stuck_gain * self.scale

    def jumped(self, th: ExplosionThresholds, size: float) -> bool:
        """The early window rose above the start by ``size`` x the start, and beyond its
        noise (``jump_sigmas`` standard deviations of a 5-point mean)."""
        return self.jump > max(size * self.scale, th.jump_sigmas * self.noise / np.sqrt(5.0))

    def blown(self, th: ExplosionThresholds) -> bool:
        """It blew up early and never came back: a huge jump that the loss did not undo,
        or a jump after which the run is stuck (train or validation)."""
        huge = self.jump > th.huge_jump * self.scale and \
            self.end > self.best + 0.5 * max(self.start - self.best, 0.0)
        return huge or (self.jumped(th, th.jump) and (self.stuck(th) or self.val_stuck(th)))

    def recovered(self, th: ExplosionThresholds) -> bool:
        """It blew up past ``blowup_ratio`` x the untrained loss early and came back."""
        return not self.blown(th) and self.jumped(th, th.blowup_ratio)

    def ended_worse(self, th: ExplosionThresholds) -> bool:
        """It ended above where it started by more than the noise can explain."""
        return self.n >= 8 and self.end > max(self.start, self.head) + max(
            th.worse * self.scale, th.worse_sigmas * self.noise / np.sqrt(self.k))

    def rose_back(self, th: ExplosionThresholds) -> bool:
        """After real progress (out of the noise), it rose back by ``rise`` of it and
        stayed there. The best must come after the points that set the start: a best *at*
        the start is one low first batch, not progress the run then lost."""
        real_progress = self.start - self.best > th.progress_sigmas * self.noise / \
            np.sqrt(self.window)
        rise = self.end - self.best
        return START_POINTS <= self.i_best < self.n - self.k and real_progress and rise > max(
            th.rise * self.progress, th.rise_sigmas * self.noise * np.sqrt(2.0 / self.k)) \
            and self.end > self.best + th.rise_vs_best * abs(self.best)


def detect_explosion(rc: RunCurves, th: ExplosionThresholds = EXPLOSION) -> Finding | None:
    """The loss rises far above its best level and does not come back (or starts that way).

    An early blow-up (the loss jumps far above the untrained loss, beyond what its batch
    noise explains) is too high when the run never recovers from it: the training loss
    ends near its start (dead units at chance level), or the validation loss never gets
    meaningfully below the untrained loss. The second case is a model whose huge weights
    fit the training batches (training loss ~0) but nothing else. A too-low run can have
    a flat validation loss too, but its training loss never jumps above its start. The
    rules are the predicates of :class:`Explosion`; their numbers are ``th``.
    """
    m = Explosion.measure(rc)
    if m is None:
        return None
    y, x = rc.y, rc.x
    blown, recovered = m.blown(th), m.recovered(th)
    ended_worse, exploded = m.ended_worse(th), m.rose_back(th)
    if not (blown or ended_worse or exploded or recovered):
        return None
    start, best, end, peak, val_best = m.start, m.best, m.end, m.peak, m.val_best
    came_back = recovered and not (ended_worse or exploded)
    onset_i = m.onset_early if blown or came_back else m.i_best
    onset = float(x[onset_i])
    lr_then = rc.lr_at(onset)
    factor = th.lower_broken if (blown or ended_worse) else th.lower_recovered
    new = scaled(lr_then, factor)
    idx = np.unique(np.linspace(0, len(y) - 1, 12).round().astype(int))
    ev = evidence_points(x, y, idx) | {"start_level": start, "best_level": best, "end_level": end,
                            "peak_level": peak, "onset_step": onset,
                            "best_val_loss": val_best,
                            "early_jump_vs_start": m.jump / m.scale,
                            "lr_at_onset": lr_then}
    if blown and m.val_stuck(th) and not m.stuck(th) and val_best is not None:
        title = (f"the loss blew up to {fmt_num(peak)} early (from {fmt_num(start)}) and the "
                 f"validation loss never got below the untrained loss (best "
                 f"{fmt_num(val_best)})")
    elif blown:
        title = (f"the loss blew up to {fmt_num(peak)} early (from {fmt_num(start)}) and "
                 f"ended at {fmt_num(end)}")
    elif came_back:
        title = (f"the loss blew up to {fmt_num(peak)} in the first updates (from an "
                 f"untrained {fmt_num(start)}) before it recovered")
    elif ended_worse:
        title = f"the loss ended at {fmt_num(end)}, worse than where it started ({fmt_num(start)})"
    else:
        title = (f"the loss rose from its best {fmt_num(best)} at {rc.loss.axis} {onset:g} "
                 f"to {fmt_num(end)} and stayed there")
    severity = "critical" if (blown or ended_worse) else "warning"
    action = (f"lower the LR {round(1 / factor):d}x to {fmt_lr(new)}" if new else
              f"lower the LR {round(1 / factor):d}x") + (
        ", or keep it and ramp it up over the first ~5% of updates (warmup)" if came_back
        else " (the LR in force when the loss turned up is the ceiling)") + \
        "; add gradient clipping"
    return Finding(kind="explosion", severity=severity, title=title, evidence=ev,
                   cause=f"the updates overshoot: {_lr_text(rc, onset)} is above the "
                         "stable range for this model", action=action,
                   suggested_lr=new, lr_direction="lower", step=onset)


def detect_spikes(rc: RunCurves, th: SpikeThresholds = SPIKES) -> Finding | None:
    """Short loss spikes that undo a large part of the progress and then recover."""
    raw, x = rc.y, rc.x
    if len(raw) < th.min_points:
        return None
    start, _best, progress = progress_scale(rc)
    # One bad batch is noise, not the LR: an LR spike lasts several updates, so it
    # survives a short running mean that divides a single-batch outlier by its span ...
    per_step = len(raw) >= 100
    y = rolling_mean(raw, th.span) if per_step else raw
    base = smooth(y, odd_window(len(y), 0.05, 9))
    resid = y - base
    noise = max(mad(resid), 1e-12)
    # The progress made *so far* at each point (a spike late in training is measured
    # against everything learned, one early against the little learned by then).
    so_far = np.maximum(start - np.minimum.accumulate(base), 0.05 * progress)
    hot = (resid > th.sigmas * noise) & (resid > th.height * so_far)
    if per_step:
        # ... but a heavy-tailed batch loss (an outlier batch at 4-20x the step noise)
        # lifts the mean beyond its Gaussian noise too: the spike must also hold in a
        # running median over the span, which moves only when most of its updates are
        # high, by as many standard deviations of a ``span``-point mean of the step noise.
        held = smooth(raw, th.span) - base
        hot &= (held > th.height * so_far) & \
            (held > th.sigmas * step_noise(raw) / np.sqrt(th.span))
    hot[: max(3, len(y) // 50)] = False  # the first updates are the start, not a spike
    if not hot.any():
        return None
    episodes = []
    i = 0
    horizon = max(3, int(th.recovery * len(y)))
    while i < len(y):
        if not hot[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(y) and hot[j + 1]:
            j += 1
        after = y[j + 1:j + 1 + horizon]
        recovered = after.size > 0 and float(after.min()) <= base[i] + 0.5 * (y[i:j + 1].max()
                                                                              - base[i])
        if recovered:
            episodes.append((i, j))
        i = j + 1
    if not episodes:
        return None
    heights = [float(y[a:b + 1].max() - base[a]) for a, b in episodes]
    tops = [a + int(np.argmax(y[a:b + 1])) for a, b in episodes]
    big = max(heights) / max(progress, 1e-12)
    severity = "warning" if (len(episodes) >= 2 or big > th.warn_height) else "info"
    first = float(x[tops[0]])
    lr_then = rc.lr_at(first)
    new = scaled(rc.base_lr, 0.5)
    ev = evidence_points(x, y, tops) | {"spikes": len(episodes), "largest_rise": max(heights),
                             "largest_rise_vs_progress": big, "noise_sd": noise,
                             "lr_at_first_spike": lr_then}
    return Finding(
        kind="loss_spikes", severity=severity,
        title=f"{len(episodes)} loss spike(s) that recovered; the largest undid "
              f"{100 * min(big, 9.99):.0f}% of the progress",
        evidence=ev,
        cause="some updates overshoot: the LR sits at the edge of stability (or a few "
              "batches have outsized gradients)",
        action=(f"lower the peak LR 2x to {fmt_lr(new)}" if new else "lower the peak LR 2x") +
        ", or keep it and add gradient clipping (max_norm=1.0) and a longer warmup",
        suggested_lr=new, lr_direction="lower" if severity == "warning" else None,
        step=first)


def detect_oscillation(rc: RunCurves, th: OscillationThresholds = OSCILLATION
                       ) -> Finding | None:
    """The loss keeps swinging up and down late in training instead of settling."""
    y, x = rc.y, rc.x
    if len(y) < th.min_points:
        return None
    start, best, progress = progress_scale(rc)
    noise = step_noise(y)
    # Chaotic: single updates move the loss by more than half of where it started.
    chaotic = noise > th.chaos * max(abs(start), 1e-12)
    if not chaotic and (start - best) < th.progress_sigmas * noise:
        return None  # no real progress to swing around: the flat / too-low detectors' case
    half = y[len(y) // 2:]
    # Smooth away single-batch noise, then measure how much the trend itself swings.
    w = odd_window(len(half), 0.1, 3) if len(y) >= 30 else 1
    trend = rolling_mean(half, w)
    t = np.arange(len(trend), dtype=np.float64)
    slope, icpt = np.polyfit(t, trend, 1) if len(trend) >= 3 else (0.0, float(trend.mean()))
    detrended = trend - (slope * t + icpt)
    swing = float(detrended.std())
    rel = swing / max(progress, 1e-12)
    improving = slope * len(trend) < -0.5 * swing * 4
    # What batch noise alone gives the trend: the batch noise of the second half averaged
    # over w points. The noise is read off what a 3-point mean removes (for white noise of
    # sd s that residual has sd s * sqrt(2/3)), robustly: unlike the step-to-step
    # differences, it holds little of a swing that takes 8 or more points.
    hf = half - rolling_mean(half, 3) if len(half) >= 3 else np.zeros(1)
    from_noise = mad(hf) / np.sqrt(2.0 / 3.0) / np.sqrt(w)
    if not chaotic and (rel < th.swing or improving or swing < th.noise_sigmas * from_noise):
        return None
    ups = int(np.sum(np.diff(np.sign(np.diff(trend))) != 0))
    lr_then = rc.base_lr
    new = scaled(lr_then, 0.3)
    idx = len(y) // 2 + np.unique(np.linspace(0, len(half) - 1, 12).round().astype(int))
    ev = evidence_points(x, y, idx) | {"swing_sd": swing, "swing_vs_progress": rel,
                            "turns": ups, "late_slope_per_point": float(slope),
                            "step_noise_sd": noise,
                            "swing_vs_noise": swing / max(from_noise, 1e-12),
                            "start_level": start, "chaotic": chaotic}
    return Finding(
        kind="oscillation", severity="warning",
        title=f"the loss keeps oscillating in the second half (swings of "
              f"{fmt_num(swing)}, {100 * rel:.0f}% of the progress) instead of settling",
        evidence=ev,
        cause=f"{_lr_text(rc)} is too high to settle into the minimum: each update "
              "overshoots it",
        action=(f"lower the LR ~3x to {fmt_lr(new)}" if new else "lower the LR ~3x") +
        ", or decay it (cosine to ~0) so the late steps get small",
        suggested_lr=new, lr_direction="lower", step=float(x[len(y) // 2]))
