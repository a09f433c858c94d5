"""Zero-phase smoothing of a range-test curve in log-LR space, after the sweep.

A causal EMA (fastai, torch-lr-finder) lags: it shifts the curve toward larger LRs, by a
number of *steps*, so the shift in LR depends on the sweep's resolution. Here every point
is a locally weighted linear fit over its neighbours within a Gaussian window whose width
is measured in decades of LR, symmetric around the point (zero phase). The same fit gives
the slope, d loss / d log10(lr), i.e. the change of loss per decade. Optional bisquare
re-weighting (as in LOWESS) stops single spikes from pulling the curve.

Because the window is fixed in decades, a sweep with 3x more steps gives the same curve
with less noise, not a different curve.

>>> import numpy as np
>>> x = np.linspace(-5, 0, 51)
>>> fit = smooth(x, 2.0 * x + 1.0, bandwidth=0.3)
>>> bool(np.allclose(fit.values, 2.0 * x + 1.0)), bool(np.allclose(fit.slopes, 2.0))
(True, True)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DEFAULT_BANDWIDTH", "Smoothed", "noise_scale", "smooth"]

FloatArray = NDArray[np.float64]

# Gaussian sigma of the window, in decades of LR. Wide enough to average ~5 points of the
# default sweep (12.5 points/decade), narrow enough to keep the minimum's position: the
# benchmark (benchmarks/rangetest) checked 0.1-0.4; results move little inside that range.
DEFAULT_BANDWIDTH = 0.2


@dataclasses.dataclass(frozen=True)
class Smoothed:
    """A smoothed curve: ``values`` and ``slopes`` (loss per decade) at each input point."""

    x: FloatArray
    values: FloatArray
    slopes: FloatArray
    weights: FloatArray  # final robustness weight of each raw point (1 = trusted)


def _local_linear(x: FloatArray, y: FloatArray, w_robust: FloatArray,
                  bandwidth: float) -> tuple[FloatArray, FloatArray]:
    d = x[None, :] - x[:, None]  # row i: distances from point i
    w = np.exp(-0.5 * (d / bandwidth) ** 2) * w_robust[None, :]
    s0 = w.sum(axis=1)
    s1 = (w * d).sum(axis=1)
    s2 = (w * d * d).sum(axis=1)
    t0 = (w * y[None, :]).sum(axis=1)
    t1 = (w * d * y[None, :]).sum(axis=1)
    det = s0 * s2 - s1 * s1
    # Where the window holds a single effective point the slope is undefined: fall back to
    # the weighted mean (slope 0) instead of dividing by ~0.
    ok = det > 1e-12 * np.maximum(s0 * s2, 1e-300)
    safe = np.where(ok, det, 1.0)
    values = np.where(ok, (s2 * t0 - s1 * t1) / safe, t0 / np.maximum(s0, 1e-300))
    slopes = np.where(ok, (s0 * t1 - s1 * t0) / safe, 0.0)
    return values, slopes


def smooth(log_lrs: ArrayLike, losses: ArrayLike, bandwidth: float = DEFAULT_BANDWIDTH,
           robust_iterations: int = 2) -> Smoothed:
    """Smooth ``losses`` over ``log_lrs`` (log10 of the LR) with a zero-phase local fit.

    Args:
        log_lrs: log10 of the learning rates, increasing.
        losses: finite losses, one per LR.
        bandwidth: Gaussian window sigma in decades.
        robust_iterations: bisquare re-weighting passes against outliers (0 = plain fit).

    Returns:
        Smoothed values and slopes (loss per decade) at every point.
    """
    x = np.asarray(log_lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("log_lrs and losses must be 1-d arrays of the same length")
    robust = np.ones_like(y)
    if x.size == 0:
        return Smoothed(x, y.copy(), y.copy(), robust)
    values, slopes = _local_linear(x, y, robust, bandwidth)
    for _ in range(robust_iterations):
        resid = y - values
        scale = 6.0 * float(np.median(np.abs(resid)))
        if scale <= 0:
            break
        u = np.clip(resid / scale, -1.0, 1.0)
        robust = (1.0 - u * u) ** 2
        # keep every point minimally weighted so a window is never empty
        robust = np.maximum(robust, 1e-3)
        values, slopes = _local_linear(x, y, robust, bandwidth)
    return Smoothed(x, values, slopes, robust)


def noise_scale(losses: ArrayLike, smoothed: ArrayLike) -> float:
    """Robust standard deviation of ``losses`` around ``smoothed`` (1.4826 x MAD).

    >>> noise_scale([0.0, 1.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5])
    0.7413
    """
    r = np.asarray(losses, dtype=np.float64) - np.asarray(smoothed, dtype=np.float64)
    if r.size == 0:
        return 0.0
    return round(1.4826 * float(np.median(np.abs(r - np.median(r)))), 12)
