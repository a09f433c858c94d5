"""Label a corpus run by where its LR sits on the zoo oracle's multi-seed regret curve.

The zoo's ``benchmarks/zoo/oracle.json`` holds, per pair, the final validation loss on a
``textbook * sqrt(2)**k`` grid: the mean over 3 selection seeds near the best LR
(``selection``), seed 0 further out (``screen``), and the 6 scoring seeds at eta* and its
two neighbours (``neighbour_regret``). From those this module builds the pair's regret
curve ``R(lr) = (L(lr) - L_sel(eta*)) / scale`` (the harness's scale,
``max(L*, 0.05 L0)``); a grid point where any seed diverged is ``inf``.

**The label rule** (fixed before any test score was looked at; the same for every pair):

* the run's regret is ``R`` interpolated linearly in log LR between the two grid points
  around it; when either of them diverged, the nearer one's (in log LR) is taken;
* the pair's noise band ``h = max(0.05, 4 * se, |floor|)``: ``se`` is the oracle's standard
  error of L* (relative; two 3-seed means differ by about ``2 se``, so ``4 se`` is two
  standard deviations), ``floor`` the regret of eta* on 6 fresh seeds;
* **healthy**: ``R <= h``; **too high** / **too low**: ``R >= max(0.25, 2 h)`` (or
  ``inf``) on the side above / below eta*, or the run itself diverged above eta*;
  anything between: **ambiguous** (reported, not scored);
* outside the oracle's grid the edge point stands in when it is itself a problem
  (``R >= max(0.25, 2 h)``); otherwise the run is ambiguous (the curve is unknown there);
* a pair whose noise floor is infinite (its fresh seeds diverge at eta*) labels only
  diverged runs (too high); the rest are ambiguous.

>>> e = {"eta_star": 1.0, "L_star": 1.0, "L_star_se": 0.0, "floor": 0.0, "scale": 1.0,
...      "selection": {"0.5": 1.5, "1.0": 1.0, "2.0": 1.02}, "screen": {"4.0": "inf"},
...      "neighbour_regret": {}}
>>> oracle_label(e, 1.0)[0], oracle_label(e, 0.5)[0], oracle_label(e, 3.5)[0]
('healthy', 'too_low', 'too_high')
>>> oracle_label(e, 0.7)[0]  # R = 0.25 on the low side: 2h = 0.1, so a problem
'too_low'
"""

from __future__ import annotations

import itertools
import math
from typing import Any

HEALTHY_MIN = 0.05  # the narrowest healthy band (regret)
BAD_MIN = 0.25  # the smallest regret that counts as a problem
SE_SIGMAS = 4.0  # healthy band in units of the oracle's s.e. of L* (2 sd of a 3-vs-3 gap)


def _num(v: Any) -> float:
    return math.inf if v in ("inf", None) else float(v)


def regret_curve(entry: dict[str, Any]) -> list[tuple[float, float]]:
    """[(log LR, regret)] on the oracle's grid, sorted by LR (``inf`` where it diverged)."""
    scale = _num(entry["scale"])
    sel = {float(k): _num(v) for k, v in entry.get("selection", {}).items()}
    eta = float(entry["eta_star"])
    ref = next((v for k, v in sel.items() if abs(k / eta - 1) < 1e-6), _num(entry["L_star"]))
    points = {float(k): (_num(v) - ref) / scale for k, v in entry.get("screen", {}).items()}
    points.update({k: (v - ref) / scale for k, v in sel.items()})
    # the neighbours were scored on the 6 scoring seeds: the best evidence there is
    points.update({float(k): _num(v) for k, v in entry.get("neighbour_regret", {}).items()})
    points[eta] = min(points.get(eta, 0.0), 0.0)
    return sorted((math.log(k), v) for k, v in points.items())


def band(entry: dict[str, Any]) -> tuple[float, float]:
    """(healthy at most, a problem at least) in regret, for this pair."""
    h = max(HEALTHY_MIN, SE_SIGMAS * _num(entry["L_star_se"]), abs(_num(entry["floor"])))
    return h, max(BAD_MIN, 2 * h)


def curve_regret(entry: dict[str, Any], lr: float) -> tuple[float, bool]:
    """(regret of ``lr`` on the pair's curve, whether ``lr`` lies inside the grid)."""
    curve = regret_curve(entry)
    x = math.log(lr)
    if x <= curve[0][0]:
        return curve[0][1], x >= curve[0][0] - 1e-9
    if x >= curve[-1][0]:
        return curve[-1][1], x <= curve[-1][0] + 1e-9
    for (x0, r0), (x1, r1) in itertools.pairwise(curve):
        if x0 <= x <= x1:
            if math.isfinite(r0) and math.isfinite(r1):
                return r0 + (r1 - r0) * (x - x0) / (x1 - x0), True
            return (r0 if x - x0 <= x1 - x else r1), True
    raise AssertionError("unreachable: the grid brackets x")


def oracle_label(entry: dict[str, Any], lr: float, run_diverged: bool = False
                 ) -> tuple[str, float]:
    """(label, curve regret) of a run at ``lr`` on the pair of oracle entry ``entry``."""
    eta = float(entry["eta_star"])
    side = "too_high" if lr > eta * (1 + 1e-9) else "too_low"
    r, inside = curve_regret(entry, lr)
    if run_diverged:
        return ("too_high", math.inf) if side == "too_high" else ("ambiguous", r)
    h, bad = band(entry)
    if not math.isfinite(_num(entry["floor"])):
        return "ambiguous", r
    if r >= bad and lr != eta:
        return side, r
    if not inside:
        return "ambiguous", r
    if r <= h:
        return "healthy", r
    return "ambiguous", r
