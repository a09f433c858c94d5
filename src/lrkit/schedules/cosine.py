"""Cosine annealing and cosine with warm restarts (SGDR)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from lrkit._check import PART as check
from lrkit.schedules._frozen import settle
from lrkit.schedules.base import FloatArray, Schedule, register
from lrkit.schedules.ops import Array, Ops, half_cosine, mix

__all__ = ["RESTART_HORIZON", "Cosine", "CosineRestarts"]

# outside numpy, CosineRestarts reads its cycle starts from a table that lists every start
# up to this step (far beyond any real run)
RESTART_HORIZON = 2**40


@register("cosine")
@dataclasses.dataclass(frozen=True)
class Cosine(Schedule):
    """Cosine annealing from ``peak_lr`` to the floor ``end_lr`` over ``total_steps`` = T.

    f(t) = end_lr + (peak_lr - end_lr) * ((1 + cos(pi * t / T)) / 2) ** exponent.

    Loshchilov & Hutter 2017 (SGDR, without restarts). ``end_lr`` is an absolute floor.
    After T, ``after_end="hold"`` keeps ``end_lr`` (optax, Keras, timm) while
    ``"periodic"`` lets the cosine rise again with period 2T (PyTorch
    ``CosineAnnealingLR``, HF ``cosine``). ``exponent`` is optax's
    ``cosine_decay_schedule`` exponent. optax and Keras give the floor relative to the peak
    (``alpha``): end_lr = alpha * peak_lr. Spec:
    ``cosine(peak_lr=0.1, total_steps=1000, end_lr=1e-4)`` (add ``warmup_steps=100`` for
    a linear warmup; ``total_steps`` then counts it too).

    >>> Cosine(peak_lr=1.0, total_steps=4).values(6)
    array([1.        , 0.85355339, 0.5       , 0.14644661, 0.        , 0.        ])
    >>> Cosine(peak_lr=1.0, total_steps=4, after_end="periodic")(6)
    0.5
    """

    lr_parameter = "peak_lr"
    examples = (
        "cosine(peak_lr=0.1, total_steps=1000)",
        "cosine(peak_lr=0.1, total_steps=1000, end_lr=0.001, exponent=2, after_end=periodic)",
        "cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "cosine": "cosine(peak_lr=0.1, total_steps=45, end_lr=0.005, after_end=periodic)",
        "cosine_hold": "cosine(peak_lr=0.1, total_steps=45, exponent=2)",
    }

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

    def expr(self, ops: Ops, t: Array) -> Array:
        total = float(self.total_steps)
        p = (ops.minimum(t, ops.const(total)) if self.after_end == "hold" else t) / total
        shape = half_cosine(ops, p)
        if self.exponent != 1:
            shape = ops.power(shape, ops.const(self.exponent))
        return mix(self.peak_lr, self.end_lr, shape)


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
    PyTorch ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`` is ``cycle_steps=T_0,
    cycle_mult=T_mult, end_lr=eta_min``; Keras ``CosineDecayRestarts`` (whose float32
    logarithm also misplaces some restarts, e.g. t_mul=1.5 at step 5 of first_decay_steps=2)
    is ``end_lr = alpha * peak_lr, peak_decay=m_mul``. Spec:
    ``cosine_restarts(peak_lr=0.1, cycle_steps=100, cycle_mult=2, peak_decay=0.8)``.

    >>> s = CosineRestarts(peak_lr=1.0, cycle_steps=2, cycle_mult=2)
    >>> s.values(8)
    array([1.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 1.        , 0.96193977])
    """

    lr_parameter = "peak_lr"
    examples = (
        "cosine_restarts(peak_lr=0.1, cycle_steps=100)",
        "cosine_restarts(peak_lr=0.1, cycle_steps=10, cycle_mult=3, peak_decay=0.7, end_lr=0.001)",
        "cosine_restarts(peak_lr=0.1, cycle_steps=7, cycle_mult=1.5)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "cosine_restarts": (
            "cosine_restarts(peak_lr=0.1, cycle_steps=3, cycle_mult=2, peak_decay=0.7, "
            "end_lr=0.001)"
        ),
        "cosine_restarts_equal": "cosine_restarts(peak_lr=0.1, cycle_steps=6.5)",
    }

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

        An integer multiplier sums the lengths as Python numbers (exact integers when
        ``cycle_steps`` is one too); a fractional one uses the closed form
        S_i = T_0 (m**i - 1) / (m - 1), the same float expression ``__call__`` uses.

        >>> CosineRestarts(1.0, cycle_steps=1, cycle_mult=3).cycle_starts(130)
        [0, 1, 4, 13, 40, 121]
        >>> CosineRestarts(1.0, cycle_steps=2, cycle_mult=1.5).cycle_starts(10)
        [0, 2.0, 5.0, 9.5]
        """
        if self.cycle_mult == 1 or isinstance(self.cycle_mult, int):
            starts: list[float] = [0]
            length: float = self.cycle_steps
            while starts[-1] + length <= until:
                starts.append(starts[-1] + length)
                length = length * self.cycle_mult
            return starts
        count = int(self._cycle(np.asarray([float(until)]))[0])
        later = self._start(np.arange(1, count + 1, dtype=np.float64))
        return [0, *later.tolist()]

    def _start(self, i: FloatArray) -> FloatArray:
        """S_i for a fractional multiplier m: T_0 (m**i - 1) / (m - 1)."""
        m = float(self.cycle_mult)
        return np.asarray(self.cycle_steps * (m**i - 1.0) / (m - 1.0), dtype=np.float64)

    def _cycle(self, t: FloatArray) -> FloatArray:
        """The cycle index for a fractional multiplier, in O(1) per step.

        A loop over the cycles would take ~t / T_0 iterations for m close to 1; the
        logarithm gives the index at once, and the float rounding that misplaces restarts
        in PyTorch and Keras is corrected by testing t against S_i and S_{i+1} themselves.
        """
        m = float(self.cycle_mult)
        with np.errstate(over="ignore"):
            i = np.floor(np.log1p(t * (m - 1.0) / self.cycle_steps) / np.log(m))
            i = np.where(self._start(i) > t, i - 1.0, i)
            return np.where(self._start(i + 1.0) <= t, i + 1.0, i)

    def expr(self, ops: Ops, t: Array) -> Array:
        if self.cycle_mult == 1:
            i = ops.floor(t / self.cycle_steps)
            start = i * self.cycle_steps
            span = ops.zeros_like(t) + float(self.cycle_steps)
        elif ops.eager and not isinstance(self.cycle_mult, int):
            # numpy: the O(1) closed form; it finds the same index as the table below
            i = self._cycle(t)
            start = self._start(i)
            span = self.cycle_steps * ops.power(ops.const(float(self.cycle_mult)), i)
        else:
            # exact cycle starts (integer sums) in a table: no logarithm, no misplaced restart
            until = float(RESTART_HORIZON)
            if ops.eager and t.size:
                until = max(until, float(t.max()))
            table = ops.const(self.cycle_starts(until))
            index = ops.searchsorted(table, t, "right") - 1
            i = ops.to_float(index)
            start = ops.take(table, index)
            span = self.cycle_steps * ops.power(ops.const(float(self.cycle_mult)), i)
        decay = ops.power(ops.const(self.peak_decay), i)
        return mix(self.peak_lr, self.end_lr, decay * half_cosine(ops, (t - start) / span))
