"""The choice stage of ``auto``: a smooth, risk-aware pick from the search's runs.

Everything here is pure arithmetic on (LR, loss) pairs, in log2(LR) ("octaves"):

- ``smooth_minimum`` fits a quadratic to the loss against log2 LR around the best
  candidate and returns the fit's minimum, not the best grid point;
- ``steepness`` measures how fast the relative loss rises on each side of it (per
  octave squared; a diverged or blown-up neighbour makes that side a cliff);
- ``risk_offset`` is how far below the estimate to go so that the *expected* regret is
  smallest, given the estimate's spread and the two sides' steepness: too high costs
  more than too low on most tasks, so an uncertain estimate leans low;
- ``expected_regret`` is that expectation (what the adaptive budget weighs).

>>> xs = [-3.0, -2.0, -1.0, 0.0, 1.0]
>>> round(smooth_minimum(xs, [1 + (x + 1.3) ** 2 for x in xs]).x, 6)
-1.3
>>> risk_offset(0.0, k_low=1.0, k_high=1.0)  # no spread, or a symmetric curve: no lean
0.0
>>> risk_offset(0.5, k_low=0.1, k_high=1.0) < -0.2  # a steep high side leans low
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["Minimum", "expected_regret", "risk_offset", "smooth_minimum", "steepness"]

# Gauss-Hermite nodes for the expectations over a normal spread (exact for polynomials of
# degree <= 2 * 20 - 1 on each side, more than the piecewise quadratic needs)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


@dataclasses.dataclass(frozen=True)
class Minimum:
    """The minimum of a loss-against-log2(LR) curve.

    Attributes:
        x: log2 of the LR at the minimum (the fit's vertex, or the best point).
        loss: the loss there (the fit's value, or the best point's).
        fitted: True when a convex quadratic supplied ``x``.
        curvature: the quadratic's second-order coefficient (0 when not fitted).
        best_x: log2 of the best grid point.
        edge: ``"low"`` / ``"high"`` when the best point is the lowest / highest finite
            candidate, else ``""``.
    """

    x: float
    loss: float
    fitted: bool
    curvature: float
    best_x: float
    edge: str


def smooth_minimum(xs: Sequence[float], ys: Sequence[float], window: float = 2.0) -> Minimum:
    """The minimum of a quadratic fitted to the points within ``window`` of the best.

    Non-finite losses are left out. The vertex is used when the fit is convex and the
    vertex lies within one grid step of the best point; otherwise a 3-point fit around
    the best is tried, and failing that the best point is the answer.

    Raises:
        ValueError: no finite loss.
    """
    pts = sorted((float(x), float(y)) for x, y in zip(xs, ys, strict=True) if math.isfinite(y))
    if not pts:
        raise ValueError("smooth_minimum: no finite loss to fit")
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    i = int(np.argmin(y))
    edge = "low" if i == 0 and len(x) > 1 else ("high" if i == len(x) - 1 and len(x) > 1
                                                  else "")
    best = Minimum(float(x[i]), float(y[i]), False, 0.0, float(x[i]), edge)
    if len(x) < 3 or edge:
        return best
    lo_step, hi_step = x[i] - x[i - 1], x[i + 1] - x[i]
    wide = np.abs(x - x[i]) <= window + 1e-9
    for mask in (wide, np.isin(np.arange(len(x)), [i - 1, i, i + 1])):
        if mask.sum() < 3:
            continue
        c2, c1, c0 = np.polyfit(x[mask], y[mask], 2)
        if c2 <= 0:
            continue
        vertex = -c1 / (2 * c2)
        if x[i] - lo_step <= vertex <= x[i] + hi_step:
            value = c0 + c1 * vertex + c2 * vertex ** 2
            return Minimum(float(vertex), float(min(value, y[i])), True, float(c2),
                           float(x[i]), edge)
    return best


def steepness(xs: Sequence[float], ys: Sequence[float], at: Minimum, *,
              blowup: float = 3.0, cliff: float = 1.0) -> tuple[float, float]:
    """Relative loss rise per octave squared below and above the minimum ``at``.

    Each side takes the largest ``(y - y*) / |y*| / d**2`` over its points within three
    octaves (d = their distance from ``at.x``, at least half an octave); a non-finite loss,
    or one above ``blowup`` times the minimum, makes that side ``cliff`` (a relative rise
    of 100% per octave squared by default). A side with no point gets the other side's
    value.

    >>> at = Minimum(x=0.0, loss=1.0, fitted=True, curvature=0.1, best_x=0.0, edge="")
    >>> low, high = steepness([-2.0, -1.0, 0.0, 1.0, 2.0], [1.4, 1.1, 1.0, 1.3, math.inf], at)
    >>> round(low, 3), high
    (0.1, 1.0)
    """
    ref = abs(at.loss) if at.loss != 0 else 1.0
    floor = min((y for y in ys if math.isfinite(y)), default=at.loss)
    sides: dict[str, list[float]] = {"low": [], "high": []}
    for x, y in zip(xs, ys, strict=True):
        d = x - at.x
        if abs(d) < 1e-9 or abs(d) > 3.0:
            continue
        side = "low" if d < 0 else "high"
        if not math.isfinite(y) or (floor > 0 and y > blowup * floor):
            sides[side].append(cliff)
            continue
        sides[side].append(max(0.0, (y - at.loss) / ref) / max(abs(d), 0.5) ** 2)
    low = max(sides["low"], default=math.nan)
    high = max(sides["high"], default=math.nan)
    if math.isnan(low):
        low = high
    if math.isnan(high):
        high = low
    return (0.0 if math.isnan(low) else min(low, cliff),
            0.0 if math.isnan(high) else min(high, cliff))


def expected_regret(offset: float, spread: float, *, k_low: float, k_high: float) -> float:
    """E[r(offset - e)] for e ~ N(0, spread^2), r(d) = k_low d^2 (d < 0), k_high d^2 (d > 0).

    ``offset`` is where the choice sits relative to the estimate (octaves); the true best
    is the estimate plus a normal error of sd ``spread``.

    >>> expected_regret(0.0, 1.0, k_low=0.2, k_high=0.2)
    0.2
    """
    d = offset - spread * _NODES
    r = np.where(d < 0, k_low, k_high) * d ** 2
    return float(np.dot(_WEIGHTS, r))


def risk_offset(spread: float, *, k_low: float, k_high: float) -> float:
    """The offset (octaves, <= 0 when the high side is steeper) of least expected regret."""
    if spread <= 0 or k_low == k_high:
        return 0.0
    grid = np.linspace(-3.0 * spread, 3.0 * spread, 241)
    values = [expected_regret(o, spread, k_low=k_low, k_high=k_high) for o in grid]
    return float(grid[int(np.argmin(values))])
