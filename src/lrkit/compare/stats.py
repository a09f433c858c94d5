"""Is a row worse than the best one by more than the seed noise? Paired tests over seeds.

Every row trains on the same seeds (same initialisation and batch order for a given seed),
so the comparison is paired: the differences ``d_s = L_row(s) - L_best(s)``. Two tests,
both two-sided, both stated with their p-value:

- the paired t-test (``scipy.stats.ttest_rel``): uses the size of the differences;
- the sign test (``scipy.stats.binomtest`` on how many seeds the row lost): assumes
  nothing about their distribution, but with n seeds its smallest p-value is
  ``2 / 2**n`` (0.25 with 3 seeds, 0.0625 with 5): it cannot reject anything with fewer
  than 6 seeds, and the verdict says so.

A diverged run (loss ``inf``) counts as a loss in the sign test and makes the t-test
undefined; a row that diverged on a seed the best row trained on is *worse* whatever the
p-values (a run that blows up is not seed noise), and a row with a diverged seed is
ranked by its mean (``inf``) below every row that trained.

>>> p = paired([0.50, 0.52, 0.51], [0.40, 0.41, 0.42])
>>> p.wins, p.losses, round(p.mean_diff, 3), p.t_p < 0.01, round(p.sign_p, 2)
(0, 3, 0.1, True, 0.25)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["ALPHA", "Paired", "paired", "spread"]

ALPHA = 0.05


@dataclasses.dataclass(frozen=True)
class Paired:
    """A row against the best row, over the seeds both trained.

    Attributes:
        n: paired seeds.
        mean_diff: mean of ``L_row - L_best`` (``inf`` if the row diverged on a seed).
        wins, losses: seeds where the row was better / worse than the best row.
        t_p: the paired t-test's two-sided p-value (NaN when undefined: fewer than 2
            seeds, a diverged run, or identical runs).
        sign_p: the sign test's two-sided p-value (ties dropped).
        worse: True when the row diverged on a seed the best row trained on, or the
            t-test (if it is undefined, the sign test) rejects "no difference" at ``ALPHA``.
    """

    n: int
    mean_diff: float
    wins: int
    losses: int
    t_p: float
    sign_p: float
    worse: bool

    def verdict(self) -> str:
        """One phrase: ``best``-free wording of the outcome with its p-values."""
        if self.n == 0:
            return "no paired seeds"
        ps = (f"paired t p={self.t_p:.3g}" if math.isfinite(self.t_p) else "paired t n/a") + \
            f", sign p={self.sign_p:.2g}"
        word = "worse" if self.worse else "within seed noise"
        return f"{word} ({ps}, {self.losses}/{self.n} seeds worse)"


def paired(row: Sequence[float], best: Sequence[float], alpha: float = ALPHA) -> Paired:
    """Compare ``row``'s per-seed losses with ``best``'s (same seeds, same order)."""
    from scipy import stats

    a = np.asarray(row, dtype=float)
    b = np.asarray(best, dtype=float)
    n = int(min(len(a), len(b)))
    a, b = a[:n], b[:n]
    if n == 0:
        return Paired(0, math.nan, 0, 0, math.nan, math.nan, False)
    finite = bool(np.all(np.isfinite(a)) and np.all(np.isfinite(b)))
    with np.errstate(invalid="ignore"):
        diff = a - b
    wins = int(np.sum(diff < 0))
    losses = int(np.sum(diff > 0))
    if not np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
        losses = int(np.sum(~np.isfinite(a) | (diff > 0)))
    mean_diff = float(np.mean(diff)) if finite else math.inf
    t_p = math.nan
    if finite and n >= 2 and float(np.std(diff)) > 0:
        t_p = float(stats.ttest_rel(a, b).pvalue)
    decided = wins + losses
    sign_p = float(stats.binomtest(losses, decided, 0.5).pvalue) if decided else 1.0
    row_blew_up = bool(np.any(~np.isfinite(a) & np.isfinite(b)))
    worse = row_blew_up or ((t_p < alpha and mean_diff > 0) if math.isfinite(t_p) else (
        sign_p < alpha and losses > wins))
    return Paired(n, mean_diff, wins, losses, t_p, sign_p, bool(worse))


def spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value; ``inf`` mean if any diverged).

    >>> spread([1.0, 2.0, 3.0])
    (2.0, 1.0)
    """
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan
    if not np.all(np.isfinite(x)):
        return math.inf, math.nan
    return float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0
