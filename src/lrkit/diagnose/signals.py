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
    """Centred rolling median (edges use the points available): robust to single spikes."""
    n = len(y)
    if window <= 1 or n < 3:
        return y.astype(np.float64).copy()
    half = window // 2
    padded = np.pad(y.astype(np.float64), half, mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, window)
    return np.median(view, axis=1)[:n]


def rolling_mean(y: FloatArray, window: int) -> FloatArray:
    """Centred rolling mean with edge padding (keeps the length)."""
    if window <= 1 or len(y) < 3:
        return y.astype(np.float64).copy()
    half = window // 2
    padded = np.pad(y.astype(np.float64), half, mode="edge")
    kernel = np.ones(window) / window
    return np.convolve(padded, kernel, mode="valid")[:len(y)]


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
