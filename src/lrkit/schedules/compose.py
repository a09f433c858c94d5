"""Composition: join schedules in time, scale them, multiply them, put a warmup in front.

Warmups, restarts and cool-downs are compositions rather than extra parameters on every
family. In ``Join`` each piece runs on *local* time: piece k sees ``t - boundaries[k-1]``
(optax ``join_schedules``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from lrkit._check import PART as check
from lrkit.schedules._frozen import settle
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.basic import ExponentialWarmup, LinearWarmup
from lrkit.schedules.ops import Array, Ops

__all__ = ["Join", "Product", "Scaled", "join", "warmup"]


@register("join")
@dataclasses.dataclass(frozen=True)
class Join(Schedule):
    """Run ``pieces[k]`` on local time t - boundaries[k-1] for boundaries[k-1] <= t < boundaries[k].

    ``f(t) = pieces[k](t - b_{k-1})`` with ``b_{-1} = 0`` and k the number of boundaries <= t (optax
    ``join_schedules``; PyTorch ``SequentialLR`` restarts each scheduler at 0 the same way).
    A join is continuous at b_k only if ``pieces[k](0)`` equals the limit of pieces[k-1]; the
    ``warmup`` helper guarantees that for its ramp. Spec:
    ``join(pieces=[linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=100),
    cosine(peak_lr=0.1, total_steps=900)], boundaries=[100])``.

    >>> from lrkit.schedules import Constant, Cosine
    >>> s = Join([Constant(1.0), Cosine(1.0, total_steps=2)], boundaries=[2])
    >>> s.values(5)
    array([1. , 1. , 1. , 0.5, 0. ])
    """

    lr_parameter = None  # each piece fixes its own rates
    examples = (
        "join(pieces=[linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=100), "
        "cosine(peak_lr=0.1, total_steps=900)], boundaries=[100])",
        "join(pieces=[constant(base_lr=0.1), constant(base_lr=0.05), linear(init_lr=0.05, "
        "total_steps=100)], boundaries=[300, 600])",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "join": "cosine(peak_lr=0.1, total_steps=100, warmup_steps=10)",
        "join_nested": (
            "join(pieces=[constant(base_lr=0.02), join(pieces=[linear_warmup(init_lr=0.02, "
            "peak_lr=0.1, warmup_steps=10), step(base_lr=0.1, step_size=20, gamma=0.5)], "
            "boundaries=[10])], boundaries=[5])"
        ),
    }

    pieces: Sequence[Schedule]
    boundaries: Sequence[int]

    def __post_init__(self) -> None:
        pieces = tuple(self.pieces) if isinstance(self.pieces, Sequence) else ()
        if not pieces or not all(isinstance(p, Schedule) for p in pieces):
            raise check.fail("join.pieces", self.pieces, "must be a non-empty list of schedules",
                             "pass e.g. [linear_warmup(...), cosine(...)]")
        bounds = check.increasing_ints("join.boundaries", self.boundaries, minimum=1)
        if len(bounds) != len(pieces) - 1:
            raise check.fail("join.boundaries", list(bounds),
                             f"needs len(pieces) - 1 = {len(pieces) - 1} boundaries",
                             "give the step at which each piece after the first begins")
        settle(self, pieces=pieces, boundaries=bounds)

    def expr(self, ops: Ops, t: Array) -> Array:
        # every piece is evaluated at every step and the active one selected; numpy may
        # then overflow in a piece where it is not used, which is no one's concern
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = self.pieces[0].rate(ops, t)
            for start, piece in zip(self.boundaries, self.pieces[1:], strict=True):
                # local time, clamped at 0 so an inactive piece never sees a negative step
                local = ops.maximum(t - float(start), ops.const(0.0))
                out = ops.where(t >= start, piece.rate(ops, local), out)
        return out


def join(pieces: Sequence[Schedule], boundaries: Sequence[int]) -> Join:
    """Function form of ``Join`` (also the ``join`` spec family)."""
    return Join(pieces=pieces, boundaries=boundaries)


@register("scaled")
@dataclasses.dataclass(frozen=True)
class Scaled(Schedule):
    """f(t) = factor * schedule(t). ``schedule * 0.5`` builds one.

    Spec: ``scaled(schedule=cosine(peak_lr=1, total_steps=100), factor=0.1)``.

    >>> from lrkit.schedules import Constant
    >>> (Constant(0.2) * 0.5)(0)
    0.1
    """

    lr_parameter = None  # the factor scales a schedule whose own LR is fixed
    examples = ("scaled(schedule=cosine(peak_lr=1, total_steps=1000), factor=0.1)",)
    interop_examples: ClassVar[dict[str, str]] = {
        "scaled": "scaled(schedule=cosine(peak_lr=1, total_steps=50), factor=0.1)",
    }

    schedule: Schedule
    factor: float

    def __post_init__(self) -> None:
        if not isinstance(self.schedule, Schedule):
            raise check.fail("scaled.schedule", self.schedule, "must be a schedule",
                             "pass a schedule spec")
        settle(self, factor=check.non_negative("scaled.factor", self.factor))

    def expr(self, ops: Ops, t: Array) -> Array:
        return self.factor * self.schedule.rate(ops, t)


@register("product")
@dataclasses.dataclass(frozen=True)
class Product(Schedule):
    """f(t) = first(t) * second(t) (e.g. a cosine times an exponential envelope).

    PyTorch ``ChainedScheduler`` multiplies its schedulers' factors this way. Spec:
    ``product(first=cosine_restarts(peak_lr=1, cycle_steps=100),
    second=exponential(init_lr=0.1, decay_rate=0.5, decay_steps=1000))``.

    >>> from lrkit.schedules import Constant, Exponential
    >>> (Constant(2.0) * Exponential(1.0, decay_rate=0.5)).values(3)
    array([2. , 1. , 0.5])
    """

    lr_parameter = None
    examples = (
        "product(first=cosine_restarts(peak_lr=1, cycle_steps=100), "
        "second=exponential(init_lr=0.1, decay_rate=0.5, decay_steps=1000))",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "product": (
            "product(first=cosine_restarts(peak_lr=0.1, cycle_steps=20), "
            "second=exponential(init_lr=1, decay_rate=0.98))"
        ),
    }

    first: Schedule
    second: Schedule

    def __post_init__(self) -> None:
        for name in ("first", "second"):
            if not isinstance(getattr(self, name), Schedule):
                raise check.fail(f"product.{name}", getattr(self, name), "must be a schedule",
                                 "pass a schedule spec")

    def expr(self, ops: Ops, t: Array) -> Array:
        return self.first.rate(ops, t) * self.second.rate(ops, t)


def warmup(main: Schedule, warmup_steps: int, init_lr: float = 0.0,
           shape: str = "linear") -> Schedule:
    """Put a warmup from ``init_lr`` to ``main(0)`` in front of ``main`` (which then starts late).

    ``shape`` is ``"linear"`` (Goyal et al. 2017) or ``"exponential"`` (a geometric ramp;
    ``init_lr`` must then be positive). ``main`` runs on local time after the warmup.

    >>> from lrkit.schedules import Cosine
    >>> s = warmup(Cosine(1.0, total_steps=4), warmup_steps=2)
    >>> s.values(7)
    array([0.        , 0.5       , 1.        , 0.85355339, 0.5       , 0.14644661,
           0.        ])
    """
    steps = check.count("warmup.warmup_steps", warmup_steps, minimum=0)
    check.choice("warmup.warmup_shape", shape, ("linear", "exponential"))
    if steps == 0:
        return main
    peak = float(main(0))
    ramp: Schedule = (LinearWarmup(init_lr, peak, steps) if shape == "linear"
                      else ExponentialWarmup(init_lr, peak, steps))
    return Join(pieces=(ramp, main), boundaries=(steps,))
