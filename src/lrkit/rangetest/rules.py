"""Suggestion rules: pure functions from a range-test curve ``(lrs, raw_losses)`` to an LR.

Every rule has the signature ``rule(lrs, losses) -> Suggestion``. lrkit's own rules
(``lrkit``, ``steepest``, ``minimum``) work on the *raw* losses: they truncate at the first
non-finite loss, smooth after the sweep with a zero-phase window in log-LR space
(``smoothing.smooth``), and measure slopes per decade of LR. They are therefore unchanged
when the loss is scaled by c > 0 or shifted by any constant (negative losses included),
and nearly unchanged when the same sweep is sampled with more or fewer steps.

``valley``, ``slide`` (fastai) and ``torch_lr_finder`` are re-implementations of other
libraries' rules, pre-processing included, kept for comparison (see ``fastai_rules``).

>>> import numpy as np
>>> lrs = np.logspace(-6, 0, 61)
>>> losses = 1 - np.tanh(3 * (np.log10(lrs) + 3)) + np.exp(4 * (np.log10(lrs) + 1))
>>> s = suggest(lrs, losses, "steepest")
>>> round(float(np.log10(s.lr)), 1)
-3.0
>>> sorted(RULES)
['lrkit', 'minimum', 'slide', 'steepest', 'torch_lr_finder', 'valley']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lrkit.errors import ConfigError
from lrkit.rangetest import fastai_rules
from lrkit.rangetest.smoothing import DEFAULT_BANDWIDTH, Smoothed, noise_scale, smooth

__all__ = [
    "EDGE_LEVEL",
    "EDGE_OFFSET_DECADES",
    "LRKIT_OFFSET_DECADES",
    "MIN_POINTS",
    "RULES",
    "Curve",
    "Suggestion",
    "SweepCurve",
    "analyse",
    "suggest",
]

FloatArray = NDArray[np.float64]

MIN_POINTS = 8
# lrkit's rule in decades below two landmarks of the smoothed curve: its minimum, and its
# "edge" (where the loss has climbed back by EDGE_LEVEL of its descent). Fitted on held-out
# calibration tasks (benchmarks/rangetest/calibrate.py; RESULTS.md), never on the built-in
# tasks the benchmark scores: offsets 0.9-1.1 below the minimum and 1.4-1.6 below the edge
# all keep the worst normalised regret under 0.12 there.
LRKIT_OFFSET_DECADES = 1.0
EDGE_OFFSET_DECADES = 1.5
EDGE_LEVEL = 0.5


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """One rule's answer.

    Attributes:
        rule: the rule's name.
        lr: the suggested LR (NaN when the curve is unusable).
        low, high: a range of reasonable LRs around it.
        index: the curve point the rule picked, if any.
    """

    rule: str
    lr: float
    low: float
    high: float
    index: int | None = None


@dataclasses.dataclass(frozen=True)
class SweepCurve:
    """The analysed range-test curve: finite prefix, log10 LRs, smoothed fit and landmarks.

    (Not ``lrkit.diagnose.Curve``, a logged metric over training steps.)
    """

    lrs: FloatArray
    losses: FloatArray
    x: FloatArray
    fit: Smoothed
    i_min: int  # index of the smoothed minimum
    i_steep: int  # index of the steepest smoothed descent before the minimum
    noise: float  # robust noise scale of the raw losses around the fit (before the minimum)
    depth: float  # smoothed loss drop from the start to the minimum
    rise: float  # smoothed loss rise after the minimum
    i_edge: int | None  # first point after the minimum back up by EDGE_LEVEL x depth

    @property
    def lr_min(self) -> float:
        return float(self.lrs[self.i_min])

    @property
    def lr_steep(self) -> float:
        return float(self.lrs[self.i_steep])


def _validate(lrs: ArrayLike, losses: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lr = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    if lr.ndim != 1 or lr.shape != y.shape:
        raise ConfigError(f"lrs/losses: lengths {lr.size} and {y.size} differ; pass one loss "
                          "per LR")
    if lr.size and (not np.all(np.isfinite(lr)) or np.any(lr <= 0)):
        raise ConfigError("lrs: must be finite and > 0; pass the LRs of the sweep")
    if lr.size > 1 and np.any(np.diff(lr) <= 0):
        raise ConfigError("lrs: must increase strictly; pass the sweep in order")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:  # everything from the first NaN/Inf on is divergence, not signal
        lr, y = lr[: bad[0]], y[: bad[0]]
    return lr, y


def analyse(lrs: ArrayLike, losses: ArrayLike,
            bandwidth: float = DEFAULT_BANDWIDTH) -> SweepCurve | None:
    """Smooth the curve and find its landmarks; None when fewer than MIN_POINTS are finite."""
    lr, y = _validate(lrs, losses)
    if lr.size < MIN_POINTS:
        return None
    x = np.log10(lr)
    fit = smooth(x, y, bandwidth)
    s = fit.values
    g_min = int(np.argmin(s))
    noise = noise_scale(y[: g_min + 1], s[: g_min + 1])
    i_edge = _first_edge(s, noise)
    # Only the first valley is signal: once the loss has clearly climbed back, what follows
    # is post-divergence dynamics (e.g. a separable problem whose loss falls again at
    # absurd LRs), so the minimum is searched before the edge.
    i_min = g_min if i_edge is None else int(np.argmin(s[: i_edge + 1]))
    i_steep = int(np.argmin(fit.slopes[: i_min + 1]))
    depth = float(s[0] - s[i_min])
    rise = float(s[i_min:].max() - s[i_min])
    return SweepCurve(lrs=lr, losses=y, x=x, fit=fit, i_min=i_min, i_steep=i_steep,
                 noise=noise, depth=depth, rise=rise, i_edge=i_edge)


def _first_edge(s: FloatArray, noise: float) -> int | None:
    """First index where the smoothed loss is back up by EDGE_LEVEL of the descent so far.

    Counts only descents larger than 3 noise widths, and only a valley that holds at
    least half of the curve's whole descent or whose climb goes on past the starting
    level (by 3 noise widths) before the loss falls any lower: a shallow dip and recovery
    on a noisy plateau, with the real descent still to come, is no edge. Descents are
    measured from the median of the first three points, not from one first batch.

    >>> s = np.array([1.0, 0.8, 0.95, 0.5, 0.2, 0.9, 1.5])  # a wiggle, then the real valley
    >>> _first_edge(s, noise=0.01)
    5
    """
    top = float(np.median(s[:3]))
    low = np.minimum.accumulate(s)
    depth = top - low
    hits = np.flatnonzero((depth > 3.0 * noise) & (depth > 0) & (s >= low + EDGE_LEVEL * depth))
    whole = top - s.min()
    for i in hits:
        if depth[i] >= 0.5 * whole:
            return int(i)
        deeper = np.flatnonzero(s[i:] < low[i])
        back = np.flatnonzero(s[i:] > top + 3.0 * noise)
        if back.size and (not deeper.size or back[0] < deeper[0]):
            return int(i)
    return None


def _none(rule: str) -> Suggestion:
    return Suggestion(rule, math.nan, math.nan, math.nan)


def _nearest(x: FloatArray, target: float) -> int:
    return int(np.argmin(np.abs(x - target)))


def steepest(lrs: ArrayLike, losses: ArrayLike) -> Suggestion:
    """The steepest descent per decade of the smoothed curve, before its minimum.

    Range: from there to the smoothed minimum.
    """
    c = analyse(lrs, losses)
    if c is None:
        return _none("steepest")
    return Suggestion("steepest", c.lr_steep, c.lr_steep, c.lr_min, c.i_steep)


def minimum(lrs: ArrayLike, losses: ArrayLike, k: float = 10.0) -> Suggestion:
    """The LR of the smoothed minimum divided by ``k`` (10 by default).

    Range: ``[lr_min / k**1.5, lr_min / k**0.5]`` (half a factor k either side).
    """
    c = analyse(lrs, losses)
    if c is None:
        return _none("minimum")
    lr = c.lr_min / k
    return Suggestion("minimum", lr, lr / math.sqrt(k), lr * math.sqrt(k), c.i_min)


def lrkit_rule(lrs: ArrayLike, losses: ArrayLike) -> Suggestion:
    """lrkit's robust rule: step back from where the growing LR stops helping.

    Two landmarks of the zero-phase smoothed curve mark that point: the minimum, and the
    *edge* where the loss has climbed back by half its descent. The edge sits on the steep
    rising flank, where vertical noise moves it little; the minimum is defined even when
    the curve never rose again. The rule averages ``x_min - 1.0`` and ``x_edge - 1.5``
    (decades of LR; the minimum alone when there is no edge). The range spans half a
    decade either side.
    """
    c = analyse(lrs, losses)
    if c is None:
        return _none("lrkit")
    x = float(c.x[c.i_min]) - LRKIT_OFFSET_DECADES
    if c.i_edge is not None:
        x = 0.5 * (x + float(c.x[c.i_edge]) - EDGE_OFFSET_DECADES)
    lr = 10.0 ** x
    half = 10.0 ** 0.5
    return Suggestion("lrkit", lr, lr / half, lr * half, _nearest(c.x, x))


def valley(lrs: ArrayLike, losses: ArrayLike, num_it: int | None = None) -> Suggestion:
    """fastai ``valley`` (re-implementation), with fastai's EMA and trimming first."""
    lr, y = fastai_rules.fastai_preprocess(lrs, losses, num_it)
    if lr.size < 2:
        return _none("valley")
    value = fastai_rules.fastai_valley(lr, y)
    return Suggestion("valley", value, value, value)


def slide(lrs: ArrayLike, losses: ArrayLike, num_it: int | None = None) -> Suggestion:
    """fastai ``slide`` (re-implementation), with fastai's EMA and trimming first."""
    lr, y = fastai_rules.fastai_preprocess(lrs, losses, num_it)
    if lr.size < 2:
        return _none("slide")
    value = fastai_rules.fastai_slide(lr, y)
    return Suggestion("slide", value, value, value)


def torch_lr_finder(lrs: ArrayLike, losses: ArrayLike) -> Suggestion:
    """torch-lr-finder's steepest-gradient rule (re-implementation): EMA 0.05, trim 10/5,
    argmin of the per-index gradient."""
    lr, y = fastai_rules.torch_lr_finder_preprocess(lrs, losses)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        lr, y = lr[: bad[0]], y[: bad[0]]
    if lr.size < 2:
        return _none("torch_lr_finder")
    value = fastai_rules.torch_lr_finder_steepest(lr, y)
    return Suggestion("torch_lr_finder", value, value, value)


Rule = Callable[[ArrayLike, ArrayLike], Suggestion]

RULES: dict[str, Rule] = {
    "lrkit": lrkit_rule,
    "minimum": minimum,
    "slide": slide,
    "steepest": steepest,
    "torch_lr_finder": torch_lr_finder,
    "valley": valley,
}


def suggest(lrs: ArrayLike, losses: ArrayLike, rule: str = "lrkit", **options: Any) -> Suggestion:
    """Apply the suggestion rule named ``rule`` to a curve.

    Raises:
        ConfigError: unknown rule name, or malformed ``lrs``/``losses``.
    """
    if rule not in RULES:
        raise ConfigError(f"rule = {rule!r}: unknown suggestion rule; use one of "
                          f"{', '.join(sorted(RULES))}")
    return RULES[rule](lrs, losses, **options)


# the older name, kept for this round (lrkit.diagnose.Curve is a logged metric)
Curve = SweepCurve
