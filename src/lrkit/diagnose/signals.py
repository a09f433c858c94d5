"""Small numeric tools the detectors share: smoothing, robust scale, trends.

All take and return float64 numpy arrays and ignore nothing silently: callers pass finite
values (the NaN detector deals with the rest).

>>> smooth(np.array([1., 1., 9., 1., 1.]), 3).tolist()
[1.0, 1.0, 1.0, 1.0, 1.0]
>>> round(mad(np.array([1., 2., 3., 4., 100.])), 3)
1.483
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["evidence_points", "mad", "odd_window", "rolling_mean", "smooth"]

FloatArray = NDArray[np.float64]


def odd_window(n: int, fraction: float, minimum: int = 3) -> int:
    """An odd window of about ``fraction`` of ``n`` points, at least ``minimum``, at most n.

    >>> odd_window(1000, 0.02), odd_window(10, 0.02), odd_window(2, 0.5)
    (19, 3, 1)
    """
    w = max(minimum, round(n * fraction))
    w = min(w, n)
    return w if w % 2 == 1 else max(w - 1, 1)


def smooth(y: FloatArray, window: int) -> FloatArray:
    """Centred rolling median (edges repeat the end points): robust to single spikes.

    Point ``i`` is the median of ``y[i - w//2 : i - w//2 + w]`` with the ends of ``y``
    repeated past its edges (an even window sits one point left of centre and averages
    its two middle values). A window holding a NaN gives NaN, as ``np.median`` does.

    Runs in O(n log w) time and O(n) memory through scipy's rank filter: a window of 5%
    of a million-point log would otherwise be a 373 GiB sliding-window copy.

    >>> smooth(np.array([1., 2., 30., 4., 5., 6.]), 4).tolist()
    [1.0, 1.5, 3.0, 4.5, 5.5, 5.5]
    """
    from scipy.ndimage import rank_filter

    n = len(y)
    y = np.asarray(y, dtype=np.float64)
    if window <= 1 or n < 3:
        return y.copy()
    nan = np.isnan(y)
    work = np.where(nan, 0.0, y) if nan.any() else y
    # For an even size, scipy's window covers [i - w//2, i + w//2 - 1], the same points
    # as the edge-padded sliding window this replaces.
    hi = rank_filter(work, window // 2, size=window, mode="nearest")
    if window % 2 == 1:
        out = hi
    else:
        lo = rank_filter(work, window // 2 - 1, size=window, mode="nearest")
        out = (lo + hi) / 2.0
    if nan.any():
        # A window that holds a NaN (edge repeats included) has a NaN median.
        out = np.where(_window_count(nan, window) > 0, np.nan, out)
    return out


#: Above this many multiply-adds, :func:`rolling_mean` switches from a direct convolution
#: (exact to the last bit as before) to a running sum (O(n), equal to ~1e-12 relative).
_DIRECT_WORK = 20_000_000


def rolling_mean(y: FloatArray, window: int) -> FloatArray:
    """Centred rolling mean with edge padding (keeps the length).

    Small inputs use a direct convolution; large ones (a 10% window over a million
    points would be 10^11 multiply-adds) a running sum in linear time, whose rounding
    differs from the direct sum by about 1e-12 relative.

    >>> rolling_mean(np.array([0., 3., 0., 3.]), 3).tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    n = len(y)
    if window <= 1 or n < 3:
        return y.astype(np.float64).copy()
    if n * window > _DIRECT_WORK:
        from scipy.ndimage import uniform_filter1d

        y = y.astype(np.float64)
        finite = np.isfinite(y)
        # Same window as the padded convolution: [i - w//2, i - w//2 + w - 1], ends repeated.
        out = uniform_filter1d(np.where(finite, y, 0.0), window, mode="nearest")
        if not finite.all():
            # A running sum would smear one Inf/NaN over the rest: give the windows that
            # hold one what the direct sum gives (+-Inf, or NaN for NaN or Inf - Inf).
            pos, neg = _window_count(y == np.inf, window), _window_count(y == -np.inf, window)
            nan = _window_count(np.isnan(y), window)
            out[pos > 0] = np.inf
            out[neg > 0] = -np.inf
            out[(nan > 0) | ((pos > 0) & (neg > 0))] = np.nan
        return out
    half = window // 2
    padded = np.pad(y.astype(np.float64), half, mode="edge")
    kernel = np.ones(window) / window
    return np.convolve(padded, kernel, mode="valid")[:n]


def _window_count(mask: NDArray[np.bool_], window: int) -> NDArray[np.int64]:
    """How many True values each centred, edge-padded window of ``mask`` holds (O(n))."""
    half = window // 2
    padded = np.pad(mask, (half, window - 1 - half), mode="edge").astype(np.int64)
    csum = np.concatenate(([0], np.cumsum(padded)))
    return csum[window:window + len(mask)] - csum[:len(mask)]


def mad(y: FloatArray) -> float:
    """Median absolute deviation scaled to a normal's standard deviation (x 1.4826)."""
    if len(y) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(y - np.median(y))))


def evidence_points(x: FloatArray, y: FloatArray, idx: Sequence[int] | NDArray[np.int_]
                    ) -> dict[str, list[float]]:
    """A finding's evidence: the curve at the indices ``idx`` (at most 20 of them).

    >>> evidence_points(np.array([0., 10., 20.]), np.array([3., 2., 1.]), [0, 2])
    {'steps': [0.0, 20.0], 'values': [3.0, 1.0]}
    """
    keep = list(idx)[:20]
    return {"steps": [float(x[i]) for i in keep], "values": [float(y[i]) for i in keep]}
