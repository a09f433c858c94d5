"""Cosine annealing and cosine with warm restarts (SGDR)."""

from __future__ import annotations

import dataclasses

import numpy as np

from lrkit.schedules import _check as check
from lrkit.schedules._frozen import settle
from lrkit.schedules.base import FloatArray, Schedule, register

__all__ = ["Cosine", "CosineRestarts"]


def _half_cosine(p: FloatArray) -> FloatArray:
    """(1 + cos(pi * p)) / 2: 1 at p = 0, 0 at p = 1."""
    return 0.5 * (1.0 + np.cos(np.pi * p))


@register("cosine")
@dataclasses.dataclass(frozen=True)
class Cosine(Schedule):
    """Cosine annealing from ``peak_lr`` to the floor ``end_lr`` over ``total_steps`` = T.

    f(t) = end_lr + (peak_lr - end_lr) * ((1 + cos(pi * t / T)) / 2) ** exponent.

    Loshchilov & Hutter 2017 (SGDR, without restarts). ``end_lr`` is an absolute floor.
    After T, ``after_end="hold"`` keeps ``end_lr`` (optax, Keras, timm) while
    ``"periodic"`` lets the cosine rise again with period 2T (PyTorch
    ``CosineAnnealingLR``, HF ``cosine``). ``exponent`` is optax's.

    >>> Cosine(peak_lr=1.0, total_steps=4).values(6)
    array([1.        , 0.85355339, 0.5       , 0.14644661, 0.        , 0.        ])
    >>> Cosine(peak_lr=1.0, total_steps=4, after_end="periodic")(6)
    0.5
    """

    peak_lr: float
    total_steps: float
    end_lr: float = 0.0
    exponent: float = 1.0
    after_end: str = "hold"

    def __post_init__(self) -> None:
        settle(self, peak_lr=check.learning_rate("cosine.peak_lr", self.peak_lr),
               total_steps=check.length("cosine.total_steps", self.total_steps),
               end_lr=check.learning_rate("cosine.end_lr", self.end_lr),
               exponent=check.positive("cosine.exponent", self.exponent),
               after_end=check.choice("cosine.after_end", self.after_end, ("hold", "periodic")))

    def _lr(self, t: FloatArray) -> FloatArray:
        T = float(self.total_steps)
        p = (np.minimum(t, T) if self.after_end == "hold" else t) / T
        return self.end_lr + (self.peak_lr - self.end_lr) * _half_cosine(p) ** self.exponent


@register("cosine_restarts")
@dataclasses.dataclass(frozen=True)
class CosineRestarts(Schedule):
    """Cosine with warm restarts (SGDR, Loshchilov & Hutter 2017).

    Cycle i lasts T_i = cycle_steps * cycle_mult**i and starts at S_i = sum_{j<i} T_j;
    within it f(t) = end_lr + (peak_lr - end_lr) * peak_decay**i * h((t - S_i) / T_i), where
    h(p) = (1 + cos(pi * p)) / 2.
    The cycle index comes from the cumulative cycle starts (exact integers when the lengths
    are integers), not from a floating-point logarithm, which misplaces restart steps at
    cycle_mult=3 in PyTorch ``CosineAnnealingWarmRestarts.step(epoch)`` and timm.
    ``peak_decay`` scales the height above the floor (Keras ``m_mul``); the floor is fixed.

    >>> s = CosineRestarts(peak_lr=1.0, cycle_steps=2, cycle_mult=2)
    >>> s.values(8)
    array([1.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 1.        , 0.96193977])
    """

    peak_lr: float
    cycle_steps: float
    cycle_mult: float = 1.0
    peak_decay: float = 1.0
    end_lr: float = 0.0

    def __post_init__(self) -> None:
        mult = check.real("cosine_restarts.cycle_mult", self.cycle_mult)
        if mult < 1:
            raise check.fail("cosine_restarts.cycle_mult", self.cycle_mult,
                             "must be >= 1 (cycles cannot shrink)",
                             "pass 1 for equal cycles or e.g. 2")
        settle(self, peak_lr=check.learning_rate("cosine_restarts.peak_lr", self.peak_lr),
               cycle_steps=check.length("cosine_restarts.cycle_steps", self.cycle_steps),
               cycle_mult=int(mult) if mult.is_integer() else mult,
               peak_decay=check.learning_rate("cosine_restarts.peak_decay", self.peak_decay),
               end_lr=check.learning_rate("cosine_restarts.end_lr", self.end_lr))

    def cycle_starts(self, until: float) -> list[float]:
        """Start steps S_0 = 0 < S_1 < ... of every cycle that begins at or before ``until``.

        Integer lengths and multipliers are summed as Python ints, so the starts are exact.

        >>> CosineRestarts(1.0, cycle_steps=1, cycle_mult=3).cycle_starts(130)
        [0, 1, 4, 13, 40, 121]
        """
        starts: list[float] = [0]
        length: float = self.cycle_steps
        while True:
            nxt = starts[-1] + length
            if nxt > until:
                return starts
            starts.append(nxt)
            length = length * self.cycle_mult

    def _lr(self, t: FloatArray) -> FloatArray:
        if t.size == 0:
            return t.copy()
        if self.cycle_mult == 1:
            i = np.floor(t / self.cycle_steps)
            start, span = i * self.cycle_steps, np.full_like(t, float(self.cycle_steps))
        else:
            starts = self.cycle_starts(float(t.max()))
            i = np.searchsorted(np.asarray(starts, dtype=np.float64), t, side="right") - 1.0
            start = np.asarray(starts, dtype=np.float64)[i.astype(np.int64)]
            span = np.asarray(self.cycle_steps * float(self.cycle_mult) ** i, dtype=np.float64)
        height = (self.peak_lr - self.end_lr) * self.peak_decay ** i
        return self.end_lr + height * _half_cosine((t - start) / span)
