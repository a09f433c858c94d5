"""When will the loss stop improving? Saturating curve fits with uncertainty.

The per-epoch loss so far is fitted by four saturating families, each with an asymptote
``a`` (the projected final loss), as in Domhan et al. (IJCAI 2015):

* ``pow3``    ``a + b * t**-c``
* ``exp3``    ``a + b * exp(-c * t)``
* ``mmf4``    ``a + b / (1 + (k * t)**d)`` (Morgan-Mercer-Flodin)
* ``weibull4`` ``a + b * exp(-(k * t)**d)``

The families are averaged with Akaike weights; a residual bootstrap of the fits gives the
spread. The *convergence epoch* is the first epoch ``E`` after which one more epoch
improves the loss by less than ``tolerance`` times the improvement still ahead at epoch 1
(``f(E) - f(E + 1) < tolerance * (f(1) - a)``).

>>> import numpy as np
>>> t = np.arange(1, 11.0)
>>> est = estimate_convergence(0.2 + 2.0 * t ** -1.0, unit="epoch")
>>> round(est.final_loss, 2), est.epoch
(0.2, 10.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrkit.diagnose.signals import FloatArray

__all__ = ["FAMILIES", "Convergence", "describe_convergence", "estimate_convergence",
           "per_epoch"]

Model = Callable[..., FloatArray]


def _pow3(t: FloatArray, a: float, b: float, c: float) -> FloatArray:
    return a + b * np.power(t, -c)


def _exp3(t: FloatArray, a: float, b: float, c: float) -> FloatArray:
    return a + b * np.exp(-c * t)


def _mmf4(t: FloatArray, a: float, b: float, k: float, d: float) -> FloatArray:
    return a + b / (1.0 + np.power(k * t, d))


def _weibull4(t: FloatArray, a: float, b: float, k: float, d: float) -> FloatArray:
    return a + b * np.exp(-np.power(k * t, d))


#: name -> (function, parameter count).
FAMILIES: dict[str, tuple[Model, int]] = {
    "pow3": (_pow3, 3),
    "exp3": (_exp3, 3),
    "mmf4": (_mmf4, 4),
    "weibull4": (_weibull4, 4),
}

_BOOTSTRAP = 12
_SEARCH_LIMIT = 100_000


@dataclass(frozen=True)
class Convergence:
    """The projected end of a loss curve.

    Attributes:
        epoch: the estimated convergence epoch (median), None when it is beyond the
            search limit or no family fits. In ``unit`` (epochs, or steps when the log
            has no epoch information).
        epoch_interval: (10th, 90th) percentile over the bootstrap.
        final_loss: the projected final loss (the weighted asymptote).
        final_loss_interval: (10th, 90th) percentile over the bootstrap.
        converged: True when ``epoch`` is not after the last observed point.
        unit: ``"epoch"`` or ``"step"``.
        tolerance: the relative per-epoch improvement that counts as converged.
        weights: each family's Akaike weight.
        observed: how many points (epochs) the fit used, and the last one.
        reason: why there is no estimate (None when there is one).
    """

    epoch: float | None
    epoch_interval: tuple[float | None, float | None]
    final_loss: float | None
    final_loss_interval: tuple[float | None, float | None]
    converged: bool
    unit: str
    tolerance: float
    weights: dict[str, float] = field(default_factory=dict)
    observed: tuple[int, float] = (0, 0.0)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {"epoch": self.epoch, "epoch_interval": list(self.epoch_interval),
                "final_loss": self.final_loss,
                "final_loss_interval": list(self.final_loss_interval),
                "converged": self.converged, "unit": self.unit, "tolerance": self.tolerance,
                "weights": self.weights, "points": self.observed[0],
                "last_observed": self.observed[1], "reason": self.reason}


def _none(unit: str, tol: float, reason: str, n: int = 0, last: float = 0.0) -> Convergence:
    return Convergence(None, (None, None), None, (None, None), False, unit, tol,
                       observed=(n, last), reason=reason)


def per_epoch(epochs: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Average a per-step curve into one point per epoch (epoch k covers (k-1, k]).

    >>> e, v = per_epoch(np.array([.5, 1., 1.5, 2.]), np.array([4., 2., 2., 0.]))
    >>> e.tolist(), v.tolist()
    ([1.0, 2.0], [3.0, 1.0])
    """
    ok = np.isfinite(epochs) & np.isfinite(values) & (epochs > 0)
    e, v = epochs[ok], values[ok]
    if e.size == 0:
        return e, v
    bins = np.ceil(e - 1e-9)
    keys = np.unique(bins)
    means = np.array([v[bins == k].mean() for k in keys])
    # A last, partial epoch is noisier and earlier in training than its label says: drop it
    # unless it is nearly complete.
    if len(keys) > 2 and float(e.max()) < keys[-1] - 0.2:
        keys, means = keys[:-1], means[:-1]
    return keys.astype(np.float64), means


def _guess(name: str, t: FloatArray, y: FloatArray) -> list[float]:
    """Starting values in natural units (every parameter after ``a`` is positive)."""
    lo, hi = float(y.min()), float(y.max())
    span = max(hi - lo, 1e-12)
    a0 = lo - 0.1 * span
    b0 = max(float(y[0]) - a0, 1e-12)
    tmax = float(t.max())
    if name == "pow3":
        return [a0, b0 * float(t[0]) ** 0.5, 0.5]
    if name == "exp3":
        return [a0, b0 * 2, 2.0 / tmax]
    return [a0, b0 * 2, 2.0 / tmax, 1.0]


def _fit(name: str, t: FloatArray, y: FloatArray,
         start: list[float] | None = None) -> tuple[np.ndarray, float] | None:
    """Least squares with the positive parameters fitted as logs (MINPACK, no bounds)."""
    from scipy.optimize import curve_fit

    fn, _k = FAMILIES[name]
    # A loss that is never negative (cross-entropy, MSE) cannot level off below zero: fit
    # its asymptote as a log too.
    nonneg = float(y.min()) >= 0.0

    def model(tt: FloatArray, a: float, *logs: float) -> FloatArray:
        base = float(np.exp(np.clip(a, -50.0, 50.0))) if nonneg else a
        return fn(tt, base, *np.exp(np.clip(logs, -50.0, 50.0)))

    p0 = start if start is not None else _guess(name, t, y)
    # In log space a start far below the data barely moves; start at half the lowest loss.
    a0 = float(np.log(max(0.5 * float(y.min()), 1e-12))) if nonneg else p0[0]
    if nonneg and start is not None and p0[0] > 0:
        a0 = float(np.log(p0[0]))
    q0 = [a0, *np.log(np.maximum(p0[1:], 1e-300))]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            q, _ = curve_fit(model, t, y, p0=q0, maxfev=600)
    except (RuntimeError, ValueError, FloatingPointError, TypeError):
        return None
    a_fit = float(np.exp(np.clip(q[0], -50.0, 50.0))) if nonneg else float(q[0])
    params = np.array([a_fit, *np.exp(np.clip(q[1:], -50.0, 50.0))])
    with np.errstate(all="ignore"):
        resid = y - fn(t, *params)
    sse = float(np.sum(resid ** 2))
    # The asymptote must lie below where the loss started, or nothing was fitted.
    if not math.isfinite(sse) or params[0] >= float(y[0]):
        return None
    return params, sse


def _convergence_epoch(fn: Model, params: np.ndarray, tol: float, start: float) -> float | None:
    a = float(params[0])
    ahead = float(fn(np.array([1.0]), *params)[0]) - a
    if ahead <= 0:
        return 1.0
    # Scan geometrically, then refine: f is monotone for every family here.
    grid = np.unique(np.concatenate([np.arange(1.0, 200.0),
                                     np.geomspace(200.0, _SEARCH_LIMIT, 400).round()]))
    gain = fn(grid, *params) - fn(grid + 1.0, *params)
    below = np.flatnonzero(gain < tol * ahead)
    if below.size == 0:
        return None
    e = float(grid[below[0]])
    if below[0] > 0 and e > 200:
        lo = float(grid[below[0] - 1])
        fine = np.arange(lo, e + 1.0)
        g = fn(fine, *params) - fn(fine + 1.0, *params)
        e = float(fine[np.flatnonzero(g < tol * ahead)[0]])
    return max(e, start)


def estimate_convergence(values: FloatArray, *, epochs: FloatArray | None = None,
                         unit: str = "epoch", tolerance: float = 0.01,
                         seed: int = 0) -> Convergence:
    """Fit the loss so far and project its convergence epoch and final value.

    Args:
        values: one loss per epoch (or per step bin), in order.
        epochs: their epoch numbers (default 1, 2, ...).
        unit: ``"epoch"`` or ``"step"``, echoed in the result.
        tolerance: converged once an epoch improves the loss by less than this fraction
            of the improvement still ahead at epoch 1.
        seed: seeds the bootstrap.

    Returns:
        A :class:`Convergence` (with ``reason`` set when no estimate can be made).
    """
    y = np.asarray(values, dtype=np.float64)
    t = np.arange(1.0, len(y) + 1.0) if epochs is None else np.asarray(epochs, np.float64)
    ok = np.isfinite(y) & np.isfinite(t) & (t > 0)
    y, t = y[ok], t[ok]
    last = float(t[-1]) if t.size else 0.0
    if len(y) < 4:
        return _none(unit, tolerance, f"needs at least 4 {unit}s of loss, has {len(y)}",
                     len(y), last)
    if np.isnan(values).any() or float(y[-1]) >= float(y[0]):
        return _none(unit, tolerance, "the loss is not decreasing", len(y), last)
    fits = {}
    for name in FAMILIES:
        got = _fit(name, t, y)
        if got is not None:
            fits[name] = got
    if not fits:
        return _none(unit, tolerance, "no saturating curve fits the loss", len(y), last)
    n = len(y)
    aic = {}
    for name, (_, sse) in fits.items():
        k = FAMILIES[name][1]
        # Akaike criterion on the residual variance; a floor keeps a perfect fit finite.
        aic[name] = n * math.log(max(sse / n, 1e-300)) + 2 * k
    best_aic = min(aic.values())
    raw = {k: math.exp(-0.5 * (v - best_aic)) for k, v in aic.items()}
    total = sum(raw.values())
    weights = {k: v / total for k, v in raw.items()}
    rng = np.random.default_rng(seed)
    finals: list[float] = []
    epochs_out: list[float] = []
    point_final = sum(weights[k] * float(fits[k][0][0]) for k in fits)
    point_epochs = []
    for name, (params, _sse) in fits.items():
        fn = FAMILIES[name][0]
        e = _convergence_epoch(fn, params, tolerance, 1.0)
        point_epochs.append((weights[name], e))
    # Bootstrap: resample the residuals of each family in proportion to its weight.
    for name, (params, _sse) in fits.items():
        fn = FAMILIES[name][0]
        fitted = fn(t, *params)
        resid = y - fitted
        draws = max(1, round(_BOOTSTRAP * weights[name]))
        for _ in range(draws):
            yb = fitted + rng.choice(resid, size=len(resid), replace=True)
            got = _fit(name, t, yb, start=list(params))
            if got is None:
                continue
            finals.append(float(got[0][0]))
            eb = _convergence_epoch(fn, got[0], tolerance, 1.0)
            epochs_out.append(math.inf if eb is None else eb)
    epoch = _weighted_median(point_epochs)
    e_lo, e_hi = (_pct(epochs_out, 10), _pct(epochs_out, 90)) if epochs_out else (None, None)
    f_lo, f_hi = (_pct(finals, 10), _pct(finals, 90)) if finals else (None, None)
    return Convergence(
        epoch=epoch, epoch_interval=(e_lo, e_hi), final_loss=point_final,
        final_loss_interval=(f_lo, f_hi), converged=epoch is not None and epoch <= last,
        unit=unit, tolerance=tolerance, weights=weights, observed=(n, last),
        reason=None if epoch is not None else
        f"the loss keeps improving past {_SEARCH_LIMIT:,} {unit}s at this rate")


def _weighted_median(pairs: list[tuple[float, float | None]]) -> float | None:
    items = sorted(((math.inf if e is None else e), w) for w, e in pairs)
    acc = 0.0
    for e, w in items:
        acc += w
        if acc >= 0.5:
            return None if math.isinf(e) else float(e)
    return None


def _pct(values: list[float], q: float) -> float | None:
    v = float(np.percentile(np.asarray(values), q))
    return None if not math.isfinite(v) else v


# a projected final loss further below the lowest logged loss than this factor is the
# fit's extrapolation, not something the log supports (a noisy regression's asymptote
# fitted to 4e-9 beside logged losses of 0.3)
_FINAL_BELOW_LOWEST = 0.1


def describe_convergence(conv: Convergence, *, still_falling: bool = False,
                         lowest: float | None = None) -> str:
    """One line about convergence that agrees with the run and with the findings.

    * a projection past the end of the run says the run stopped first;
    * "converged" is not said while a detector finds the loss still falling at the end;
    * a projected final loss far below every logged loss is not quoted.

    Args:
        conv: the estimate.
        still_falling: a finding says the loss is still falling at the end.
        lowest: the lowest logged value of the diagnosed curve.

    >>> c = Convergence(epoch=14.0, epoch_interval=(10.0, 20.0), final_loss=0.2,
    ...                 final_loss_interval=(0.1, 0.3), converged=False, unit="epoch",
    ...                 tolerance=0.01, weights={}, observed=(6, 6.0))
    >>> describe_convergence(c, lowest=0.25)[:60]
    'not converged by the end of the run (epoch 6): projected to '
    """
    if conv.epoch is None:
        return f"no estimate ({conv.reason})"
    last = conv.observed[1]
    lo, hi = conv.epoch_interval
    band = f" (80% band {lo:g}-{hi:g})" if lo is not None and hi is not None else ""
    projected = conv.final_loss
    final = "" if projected is None else f"; final loss ≈ {projected:.4g}"
    if (projected is not None and lowest is not None and lowest > 0
            and math.isfinite(projected) and projected < _FINAL_BELOW_LOWEST * lowest):
        final = (f"; final loss not projected (the fit's asymptote {projected:.2g} is "
                 f"far below the lowest logged loss {lowest:.4g})")
    if conv.converged and still_falling:
        return (f"not clearly converged: the fit levels off by {conv.unit} {conv.epoch:g}, "
                f"but the loss is still falling at the end ({conv.unit} {last:g}){final}")
    if conv.converged:
        return f"converged by {conv.unit} {conv.epoch:g} of {last:g}{band}{final}"
    return (f"not converged by the end of the run ({conv.unit} {last:g}): projected to "
            f"converge around {conv.unit} {conv.epoch:g}{band} if training continued{final}")
