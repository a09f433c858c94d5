"""Re-implementations of other finders' suggestion rules, for comparison only.

These follow the published pseudo-code of fastai's ``valley``/``slide``/``steep``/
``minimum`` and torch-lr-finder's steepest-gradient rule (see the reference note
``range-test-anchors.md``), including their pre-processing: a causal EMA of the loss and
index-based trimming. They are written from that description, not copied, and are labelled
as re-implementations wherever lrkit reports them. They are *not* lrkit's rules: they
depend on the number of sweep steps and on the loss scale, which is what lrkit's own
rules avoid.

>>> import numpy as np
>>> lrs = np.logspace(-5, 0, 50); losses = (np.log10(lrs) + 2.5) ** 2
>>> round(float(np.log10(fastai_minimum(lrs, losses))), 2)
-3.55
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ema",
    "fastai_minimum",
    "fastai_preprocess",
    "fastai_slide",
    "fastai_steep",
    "fastai_valley",
    "torch_lr_finder_preprocess",
    "torch_lr_finder_steepest",
]

FloatArray = NDArray[np.float64]


def ema(losses: ArrayLike, beta: float, *, debias: bool) -> FloatArray:
    """Causal exponential moving average ``s = beta * s + (1 - beta) * loss``.

    ``debias=True`` is fastai's Recorder (starts at 0, divided by ``1 - beta**n``);
    ``debias=False`` is torch-lr-finder (starts at the first loss).

    >>> ema([1.0, 1.0, 1.0], 0.9, debias=True).round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    y = np.asarray(losses, dtype=np.float64)
    out = np.empty_like(y)
    s = 0.0 if debias else (float(y[0]) if y.size else 0.0)
    for i, v in enumerate(y):
        s = beta * s + (1.0 - beta) * v if (debias or i > 0) else v
        out[i] = s / (1.0 - beta ** (i + 1)) if debias else s
    return out


def fastai_preprocess(lrs: ArrayLike, losses: ArrayLike,
                      num_it: int | None = None) -> tuple[FloatArray, FloatArray]:
    """fastai ``lr_find``'s view: EMA 0.98 (debiased), drop the first ``num_it // 10`` and
    the last 5 points, truncate at the first NaN."""
    lr = np.asarray(lrs, dtype=np.float64)
    y = ema(losses, 0.98, debias=True)
    n_it = len(y) if num_it is None else num_it
    lr, y = lr[n_it // 10:-5], y[n_it // 10:-5]
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        lr, y = lr[: bad[0]], y[: bad[0]]
    return lr, y


def fastai_valley(lrs: ArrayLike, losses: ArrayLike) -> float:
    """fastai ``valley``: the longest decreasing run of losses; a point ~1/2 along it.

    ``lds[i]`` is the length of the longest strictly decreasing (not necessarily
    contiguous) subsequence ending at ``i``; the valley spans ``end - lds[end] .. end``
    for the first ``end`` maximising it, and the rule returns the LR at
    ``start + int(s) + int(s / 2)`` with ``s = (end - start) / 3``.
    """
    lr = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    n = len(y)
    if n == 0:
        return float("nan")
    lds = np.ones(n, dtype=np.int64)
    for i in range(1, n):
        smaller = y[:i] > y[i]
        if smaller.any():
            lds[i] = max(1, int(lds[:i][smaller].max()) + 1)
    end = int(np.argmax(lds))
    start = end - int(lds[end])
    s = (end - start) / 3
    return float(lr[start + int(s) + int(s / 2)])


def fastai_slide(lrs: ArrayLike, losses: ArrayLike, lr_diff: int = 15, thresh: float = 0.005,
                 adjust_value: float = 1.0) -> float:
    """fastai ``slide``: walk left from the end while the per-index loss gradient differs
    by more than ``thresh`` across ``lr_diff`` points."""
    lr = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    n = len(y)
    if n < 2:
        return float("nan")
    grad = np.gradient(y)
    right = -1
    left = right - lr_diff
    if -left > n:
        return float(lr[0] * adjust_value)
    out = lr[left]
    while left >= -n and abs(grad[right] - grad[left]) > thresh:
        out = lr[left]
        right -= 1
        left -= 1
    return float(out * adjust_value)


def fastai_steep(lrs: ArrayLike, losses: ArrayLike) -> float:
    """fastai ``steep``: the most negative d loss / d ln(lr) between neighbours."""
    lr = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    if len(y) < 2:
        return float("nan")
    g = np.diff(y) / np.diff(np.log(lr))
    return float(lr[int(np.argmin(g))])


def fastai_minimum(lrs: ArrayLike, losses: ArrayLike) -> float:
    """fastai ``minimum``: the LR of the lowest loss, divided by 10."""
    lr = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    if len(y) == 0:
        return float("nan")
    return float(lr[int(np.argmin(y))] / 10)


def torch_lr_finder_preprocess(lrs: ArrayLike, losses: ArrayLike, smooth_f: float = 0.05,
                               skip_start: int = 10, skip_end: int = 5
                               ) -> tuple[FloatArray, FloatArray]:
    """torch-lr-finder's view: EMA with ``smooth_f`` seeded by the first loss, trimmed."""
    lr = np.asarray(lrs, dtype=np.float64)
    y = ema(losses, 1.0 - smooth_f, debias=False)
    end = len(y) - skip_end if skip_end > 0 else len(y)
    return lr[skip_start:end], y[skip_start:end]


def torch_lr_finder_steepest(lrs: ArrayLike, losses: ArrayLike) -> float:
    """torch-lr-finder ``plot(suggest_lr=True)``: argmin of ``np.gradient`` (per index)."""
    lr = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    if len(y) < 2:
        return float("nan")
    return float(lr[int(np.argmin(np.gradient(y)))])
