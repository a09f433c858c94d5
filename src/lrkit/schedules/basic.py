"""Constant, step, piecewise, exponential, inverse-time and polynomial families, and warmups.

Every formula uses ``t``, the 0-based index of the update the learning rate is used by.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from lrkit._check import PART as check
from lrkit.schedules._frozen import settle
from lrkit.schedules.base import Schedule, register, register_factory
from lrkit.schedules.ops import Array, Ops, clip, mix

__all__ = [
    "Constant",
    "Exponential",
    "ExponentialWarmup",
    "Interpolate",
    "InverseTime",
    "LinearWarmup",
    "MultiStep",
    "Piecewise",
    "Polynomial",
    "Step",
    "linear",
    "piecewise_factors",
]


@register("constant")
@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    """f(t) = base_lr for every t.

    PyTorch ``ConstantLR(factor=1)`` / a plain float LR, optax ``constant_schedule``,
    HF ``constant``. Spec: ``constant(base_lr=0.1)``.

    >>> Constant(0.1)(5)
    0.1
    """

    lr_parameter = "base_lr"
    examples = ("constant(base_lr=0.1)",)
    interop_examples: ClassVar[dict[str, str]] = {
        "constant": "constant(base_lr=0.05)",
    }

    base_lr: float

    def __post_init__(self) -> None:
        settle(self, base_lr=check.learning_rate("constant.base_lr", self.base_lr))

    def expr(self, ops: Ops, t: Array) -> Array:
        return ops.zeros_like(t) + self.base_lr


@register("step")
@dataclasses.dataclass(frozen=True)
class Step(Schedule):
    """f(t) = base_lr * gamma ** floor(t / step_size)  (PyTorch ``StepLR``, timm ``step``).

    Spec: ``step(base_lr=0.1, step_size=30, gamma=0.1)``.

    >>> Step(1.0, step_size=2, gamma=0.5).values(5)
    array([1.  , 1.  , 0.5 , 0.5 , 0.25])
    """

    lr_parameter = "base_lr"
    examples = (
        "step(base_lr=0.1, step_size=30, gamma=0.1)",
        "step(base_lr=1, step_size=2.5, gamma=0.5)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "step": "step(base_lr=0.1, step_size=7, gamma=0.5)",
    }

    base_lr: float
    step_size: float
    gamma: float = 0.1

    def __post_init__(self) -> None:
        settle(self, base_lr=check.learning_rate("step.base_lr", self.base_lr),
               step_size=check.length("step.step_size", self.step_size),
               gamma=check.non_negative("step.gamma", self.gamma))

    def expr(self, ops: Ops, t: Array) -> Array:
        return self.base_lr * ops.power(ops.const(self.gamma), ops.floor(t / self.step_size))


@register("multistep")
@dataclasses.dataclass(frozen=True)
class MultiStep(Schedule):
    """f(t) = base_lr * gamma ** #{m in milestones : m <= t}  (PyTorch ``MultiStepLR``).

    The change takes effect *at* the milestone; a repeated milestone counts twice, as in
    PyTorch. For absolute values or per-boundary factors use ``Piecewise``.
    Spec: ``multistep(base_lr=0.1, milestones=[30, 60], gamma=0.1)``.

    >>> MultiStep(1.0, milestones=[2, 4], gamma=0.5).values(5)
    array([1.  , 1.  , 0.5 , 0.5 , 0.25])
    """

    lr_parameter = "base_lr"
    examples = ("multistep(base_lr=0.1, milestones=[30, 60, 60, 90], gamma=0.1)",)
    interop_examples: ClassVar[dict[str, str]] = {
        "multistep": "multistep(base_lr=0.1, milestones=[10, 10, 40], gamma=0.3)",
    }

    base_lr: float
    milestones: Sequence[int]
    gamma: float = 0.1

    def __post_init__(self) -> None:
        settle(self, base_lr=check.learning_rate("multistep.base_lr", self.base_lr),
               milestones=check.increasing_ints("multistep.milestones", self.milestones,
                                                strict=False),
               gamma=check.non_negative("multistep.gamma", self.gamma))

    def expr(self, ops: Ops, t: Array) -> Array:
        if not self.milestones:
            return ops.zeros_like(t) + self.base_lr
        passed = ops.to_float(ops.searchsorted(ops.const(self.milestones), t, "right"))
        return self.base_lr * ops.power(ops.const(self.gamma), passed)


@register("piecewise")
@dataclasses.dataclass(frozen=True)
class Piecewise(Schedule):
    """Piecewise constant with absolute rates: ``lrs[k]`` for boundaries[k-1] <= t < boundaries[k].

    ``len(lrs) == len(boundaries) + 1``; the change takes effect *at* each boundary
    (PyTorch and optax; Keras' ``PiecewiseConstantDecay`` changes one step later, which
    ``lrkit.interop.from_keras`` accounts for). ``Piecewise.from_factors`` builds it from
    multiplicative factors, as optax's ``piecewise_constant_schedule`` takes them; its spec
    form is ``piecewise_factors(init_lr=0.1, boundaries=[30, 60], factors=[0.1, 0.5])``.
    Spec: ``piecewise(boundaries=[30, 60], lrs=[0.1, 0.01, 0.005])``.

    >>> Piecewise(boundaries=[2, 4], lrs=[1.0, 0.5, 0.1]).values(5)
    array([1. , 1. , 0.5, 0.5, 0.1])
    """

    lr_parameter = None
    examples = ("piecewise(boundaries=[100, 200], lrs=[0.1, 0.01, 0.001])",)
    interop_examples: ClassVar[dict[str, str]] = {
        "piecewise": "piecewise(boundaries=[0, 15, 50], lrs=[0.2, 0.1, 0.05, 0.01])",
    }

    boundaries: Sequence[int]
    lrs: Sequence[float]

    def __post_init__(self) -> None:
        bounds = check.increasing_ints("piecewise.boundaries", self.boundaries)
        vals = tuple(check.learning_rate(f"piecewise.lrs[{i}]", v)
                     for i, v in enumerate(_as_list("piecewise.lrs", self.lrs)))
        if len(vals) != len(bounds) + 1:
            raise check.fail("piecewise.lrs", list(vals),
                             f"needs len(boundaries) + 1 = {len(bounds) + 1} values",
                             "give one value before the first boundary and one after each")
        settle(self, boundaries=bounds, lrs=vals)

    @classmethod
    def from_factors(cls, init_lr: float, boundaries: Sequence[int],
                     factors: Sequence[float]) -> Piecewise:
        """Multiply the rate by ``factors[k]`` at ``boundaries[k]`` (cumulatively).

        >>> Piecewise.from_factors(1.0, [2, 4], [0.5, 0.5]).lrs
        (1.0, 0.5, 0.25)
        """
        lr = check.learning_rate("piecewise.init_lr", init_lr)
        lrs = [lr]
        for i, f in enumerate(_as_list("piecewise.factors", factors)):
            lrs.append(lrs[-1] * check.non_negative(f"piecewise.factors[{i}]", f))
        return cls(boundaries=boundaries, lrs=lrs)

    def expr(self, ops: Ops, t: Array) -> Array:
        if not self.boundaries:
            return ops.zeros_like(t) + self.lrs[0]
        k = ops.searchsorted(ops.const(self.boundaries), t, "right")
        return ops.take(ops.const(self.lrs), k)


@register("interpolate")
@dataclasses.dataclass(frozen=True)
class Interpolate(Schedule):
    """Interpolate between knots ``(steps[k], lrs[k])``; hold the end values outside.

    ``kind="linear"``: straight lines; ``kind="cosine"``: half-cosine easing
    v_k + (v_{k+1} - v_k) * (1 - cos(pi * p)) / 2 with p the fraction of the segment
    (optax ``piecewise_interpolate_schedule``, ``cosine_onecycle_schedule``).
    Spec: ``interpolate(steps=[0, 100, 1000], lrs=[0, 0.1, 0.001], kind=cosine)``.

    >>> Interpolate(steps=[0, 10], lrs=[0.0, 1.0]).values(11)[[0, 5, 10]]
    array([0. , 0.5, 1. ])
    """

    lr_parameter = None
    examples = (
        "interpolate(steps=[0, 100, 1000], lrs=[0, 0.1, 0.001])",
        "interpolate(steps=[10, 10, 50], lrs=[0.5, 0.1, 0.2], kind=cosine)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "interpolate": "interpolate(steps=[0, 20, 20, 60], lrs=[0, 0.1, 0.05, 0.001], kind=cosine)",
        "interpolate_linear": "interpolate(steps=[5, 30, 90], lrs=[0.01, 0.1, 0])",
    }

    steps: Sequence[int]
    lrs: Sequence[float]
    kind: str = "linear"

    def __post_init__(self) -> None:
        steps = check.increasing_ints("interpolate.steps", self.steps, strict=False)
        vals = tuple(check.learning_rate(f"interpolate.lrs[{i}]", v)
                     for i, v in enumerate(_as_list("interpolate.lrs", self.lrs)))
        if len(vals) != len(steps) or not steps:
            raise check.fail("interpolate.lrs", list(vals),
                             f"needs one value per step ({len(steps)} steps, at least 1)",
                             "pass steps and lrs of the same length")
        settle(self, steps=steps, lrs=vals,
               kind=check.choice("interpolate.kind", self.kind, ("linear", "cosine")))

    def expr(self, ops: Ops, t: Array) -> Array:
        n = len(self.steps)
        xs, ys = ops.const(self.steps), ops.const(self.lrs)
        k = clip(ops, ops.to_float(ops.searchsorted(xs, t, "right")) - 1.0, 0.0, n - 1.0)
        k1 = ops.minimum(k + 1.0, ops.const(n - 1.0))
        ki, k1i = ops.to_index(k), ops.to_index(k1)
        x0, x1 = ops.take(xs, ki), ops.take(xs, k1i)
        y0, y1 = ops.take(ys, ki), ops.take(ys, k1i)
        width = x1 - x0
        positive = width > 0
        p = ops.where(positive, (t - x0) / ops.where(positive, width, ops.const(1.0)),
                      ops.zeros_like(t))
        p = clip(ops, p, 0.0, 1.0)
        if self.kind == "cosine":
            p = 0.5 * (1.0 - ops.cos(np.pi * p))
        return y0 + (y1 - y0) * p


@register("exponential")
@dataclasses.dataclass(frozen=True)
class Exponential(Schedule):
    """f(t) = init_lr * decay_rate ** (d / decay_steps), with d = max(t - transition_begin, 0).

    With ``staircase`` the exponent is floored (a step decay). With ``end_lr`` the value is
    clipped there (from below when decaying, from above when growing). Keras
    ``ExponentialDecay`` and optax ``exponential_decay``; PyTorch ``ExponentialLR`` is
    ``decay_steps=1``. A growing exponential (decay_rate > 1) without ``end_lr`` grows
    without bound (it overflows to inf after enough steps).
    Spec: ``exponential(init_lr=0.1, decay_rate=0.5, decay_steps=1000, staircase=true)``.

    >>> Exponential(1.0, decay_rate=0.5, decay_steps=2).values(5)
    array([1.        , 0.70710678, 0.5       , 0.35355339, 0.25      ])
    """

    lr_parameter = "init_lr"
    examples = (
        "exponential(init_lr=0.1, decay_rate=0.5, decay_steps=1000)",
        "exponential(init_lr=0.1, decay_rate=0.9, decay_steps=7, staircase=true, "
        "transition_begin=50, end_lr=0.01)",
        "exponential(init_lr=0.001, decay_rate=1.5, decay_steps=10, end_lr=0.1)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "exponential": (
            "exponential(init_lr=0.1, decay_rate=0.5, decay_steps=9, staircase=true, "
            "transition_begin=6, end_lr=0.01)"
        ),
        "exponential_growth": (
            "exponential(init_lr=0.001, decay_rate=1.1, decay_steps=2, end_lr=0.02)"
        ),
    }

    init_lr: float
    decay_rate: float
    decay_steps: float = 1
    staircase: bool = False
    transition_begin: int = 0
    end_lr: float | None = None

    def __post_init__(self) -> None:
        settle(self, init_lr=check.learning_rate("exponential.init_lr", self.init_lr),
               decay_rate=check.positive("exponential.decay_rate", self.decay_rate),
               decay_steps=check.length("exponential.decay_steps", self.decay_steps),
               staircase=check.flag("exponential.staircase", self.staircase),
               transition_begin=check.count("exponential.transition_begin",
                                            self.transition_begin, minimum=0),
               end_lr=None if self.end_lr is None
               else check.learning_rate("exponential.end_lr", self.end_lr))

    def expr(self, ops: Ops, t: Array) -> Array:
        p = ops.maximum(t - self.transition_begin, ops.const(0.0)) / self.decay_steps
        if self.staircase:
            p = ops.floor(p)
        if self.end_lr is None:
            return self.init_lr * ops.power(ops.const(self.decay_rate), p)
        with np.errstate(over="ignore"):  # a growing power may pass inf before its ceiling
            out = self.init_lr * ops.power(ops.const(self.decay_rate), p)
        bound = ops.maximum if self.decay_rate < 1 else ops.minimum
        return bound(out, ops.const(self.end_lr))


@register("inverse_time")
@dataclasses.dataclass(frozen=True)
class InverseTime(Schedule):
    """f(t) = init_lr / (1 + decay_rate * t / decay_steps); floored t/decay_steps if ``staircase``.

    Keras ``InverseTimeDecay`` (the 1/t annealing of Robbins & Monro 1951 / Bottou 2012).
    Spec: ``inverse_time(init_lr=0.1, decay_rate=0.5, decay_steps=100)``.

    >>> InverseTime(1.0, decay_rate=1.0, decay_steps=1).values(3)
    array([1.        , 0.5       , 0.33333333])
    """

    lr_parameter = "init_lr"
    examples = (
        "inverse_time(init_lr=0.1, decay_rate=0.5, decay_steps=100)",
        "inverse_time(init_lr=0.1, decay_rate=2, decay_steps=3, staircase=true)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "inverse_time": "inverse_time(init_lr=0.1, decay_rate=0.5, decay_steps=10)",
    }

    init_lr: float
    decay_rate: float
    decay_steps: float = 1
    staircase: bool = False

    def __post_init__(self) -> None:
        settle(self, init_lr=check.learning_rate("inverse_time.init_lr", self.init_lr),
               decay_rate=check.learning_rate("inverse_time.decay_rate", self.decay_rate),
               decay_steps=check.length("inverse_time.decay_steps", self.decay_steps),
               staircase=check.flag("inverse_time.staircase", self.staircase))

    def expr(self, ops: Ops, t: Array) -> Array:
        p = t / self.decay_steps
        if self.staircase:
            p = ops.floor(p)
        return self.init_lr / (1.0 + self.decay_rate * p)


@register("polynomial")
@dataclasses.dataclass(frozen=True)
class Polynomial(Schedule):
    """f(t) = (init_lr - end_lr) * (1 - min(t, T) / T) ** power + end_lr, T = total_steps.

    With ``cycle`` (Keras ``PolynomialDecay``) the horizon stretches instead of holding:
    T' = T * ceil(t / T) (T' = T at t = 0), and f = (init - end) * (1 - t / T') ** power + end.
    ``power=1`` is linear decay (PyTorch ``PolynomialLR`` ends at 0, optax
    ``polynomial_schedule``/``linear_schedule``, HF ``linear``/``polynomial``).
    Spec: ``polynomial(init_lr=0.1, total_steps=1000, end_lr=1e-4, power=2)``.

    >>> Polynomial(1.0, total_steps=4).values(6)
    array([1.  , 0.75, 0.5 , 0.25, 0.  , 0.  ])
    """

    lr_parameter = "init_lr"
    examples = (
        "polynomial(init_lr=0.1, total_steps=1000, end_lr=0.001, power=2)",
        "polynomial(init_lr=0.1, total_steps=300, power=0.5, cycle=true)",
        "linear(init_lr=0.1, end_lr=0.01, total_steps=500)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "polynomial": "polynomial(init_lr=0.1, total_steps=30, end_lr=0.001, power=2, cycle=true)",
    }

    init_lr: float
    total_steps: float
    end_lr: float = 0.0
    power: float = 1.0
    cycle: bool = False

    def __post_init__(self) -> None:
        settle(self, init_lr=check.learning_rate("polynomial.init_lr", self.init_lr),
               total_steps=check.length("polynomial.total_steps", self.total_steps),
               end_lr=check.learning_rate("polynomial.end_lr", self.end_lr),
               power=check.positive("polynomial.power", self.power),
               cycle=check.flag("polynomial.cycle", self.cycle))

    def expr(self, ops: Ops, t: Array) -> Array:
        total = float(self.total_steps)
        if self.cycle:
            horizon = total * ops.maximum(ops.ceil(t / total), ops.const(1.0))
            frac = t / horizon
        else:
            frac = ops.minimum(t, ops.const(total)) / total
        return mix(self.init_lr, self.end_lr, ops.power(1.0 - frac, ops.const(self.power)))


def linear(init_lr: float, end_lr: float = 0.0, *, total_steps: float) -> Polynomial:
    """Linear interpolation from ``init_lr`` to ``end_lr`` over ``total_steps``, then hold.

    f(t) = init_lr + (end_lr - init_lr) * min(t, T) / T. The spec family ``linear`` builds
    this (a ``Polynomial`` of power 1, which is what its spec then saves): optax
    ``linear_schedule``, HF ``linear`` after its warmup, PyTorch ``LinearLR`` (as factors).
    Spec: ``linear(init_lr=0.1, end_lr=0, total_steps=1000)``.

    >>> linear(1.0, 0.0, total_steps=4)(2)
    0.5
    """
    return Polynomial(init_lr=init_lr, total_steps=total_steps, end_lr=end_lr, power=1.0)


register_factory("linear", linear, lr_parameter="init_lr")


def piecewise_factors(init_lr: float, boundaries: Sequence[int],
                      factors: Sequence[float]) -> Piecewise:
    """Piecewise constant from cumulative factors: init_lr * prod(factors[k] for b_k <= t).

    The spec family ``piecewise_factors`` (optax ``piecewise_constant_schedule``); it builds
    a ``Piecewise`` with absolute rates, which is what its spec then saves.

    >>> piecewise_factors(1.0, [2, 4], [0.5, 0.1]).values(5).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.05]
    """
    bounds = check.increasing_ints("piecewise_factors.boundaries", boundaries)
    facs = [check.non_negative(f"piecewise_factors.factors[{i}]", f)
            for i, f in enumerate(_as_list("piecewise_factors.factors", factors))]
    if len(facs) != len(bounds):
        raise check.fail("piecewise_factors.factors", facs,
                         f"needs one factor per boundary ({len(bounds)})",
                         "give the multiplier applied at each boundary")
    return Piecewise.from_factors(init_lr, bounds, facs)


register_factory("piecewise_factors", piecewise_factors)


@register("linear_warmup")
@dataclasses.dataclass(frozen=True)
class LinearWarmup(Schedule):
    """f(t) = init_lr + (peak_lr - init_lr) * min(t, W) / W, W = warmup_steps; then peak_lr.

    The warmup prefix of Goyal et al. 2017, HF, optax, Keras and timm. A zero-length
    warmup is the constant ``peak_lr``. Join it before a decay with ``lrkit.schedules.warmup``
    or the ``warmup_steps`` key of any spec. Spec:
    ``linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=500)``.

    >>> LinearWarmup(0.0, 1.0, warmup_steps=4).values(6)
    array([0.  , 0.25, 0.5 , 0.75, 1.  , 1.  ])
    """

    lr_parameter = "peak_lr"
    examples = ("linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=500)",)
    interop_examples: ClassVar[dict[str, str]] = {
        "linear_warmup": "linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=25)",
    }

    init_lr: float
    peak_lr: float
    warmup_steps: float

    def __post_init__(self) -> None:
        steps = check.real("linear_warmup.warmup_steps", self.warmup_steps)
        if steps < 0:
            raise check.fail("linear_warmup.warmup_steps", self.warmup_steps,
                             "cannot be negative", "pass 0 or more warmup updates")
        settle(self, init_lr=check.learning_rate("linear_warmup.init_lr", self.init_lr),
               peak_lr=check.learning_rate("linear_warmup.peak_lr", self.peak_lr),
               warmup_steps=int(steps) if steps.is_integer() else steps)

    def expr(self, ops: Ops, t: Array) -> Array:
        peak = ops.zeros_like(t) + self.peak_lr
        if self.warmup_steps == 0:
            return peak
        frac = ops.minimum(t, ops.const(float(self.warmup_steps))) / self.warmup_steps
        # exactly peak_lr from W on (init + (peak - init) * 1 can miss it by an ulp)
        return ops.where(frac >= 1.0, peak, self.init_lr + (self.peak_lr - self.init_lr) * frac)


@register("exponential_warmup")
@dataclasses.dataclass(frozen=True)
class ExponentialWarmup(Schedule):
    """f(t) = init_lr * (peak_lr / init_lr) ** (min(t, W) / W); then peak_lr.

    A geometric ramp (equal ratio per step): the shape of an LR range test sweep (Smith
    2017; fastai ``lr_find``, torch-lr-finder ``ExponentialLR``) and an exponential warmup
    prefix. ``init_lr`` must be positive. Spec:
    ``exponential_warmup(init_lr=1e-6, peak_lr=0.1, warmup_steps=500)``.

    >>> ExponentialWarmup(0.01, 1.0, warmup_steps=2).values(4)
    array([0.01, 0.1 , 1.  , 1.  ])
    """

    lr_parameter = "peak_lr"
    examples = ("exponential_warmup(init_lr=1e-6, peak_lr=1, warmup_steps=100)",)
    interop_examples: ClassVar[dict[str, str]] = {
        "exponential_warmup": "exponential_warmup(init_lr=0.0001, peak_lr=0.1, warmup_steps=40)",
    }

    init_lr: float
    peak_lr: float
    warmup_steps: float

    def __post_init__(self) -> None:
        settle(self, init_lr=check.positive("exponential_warmup.init_lr", self.init_lr),
               peak_lr=check.positive("exponential_warmup.peak_lr", self.peak_lr),
               warmup_steps=check.length("exponential_warmup.warmup_steps", self.warmup_steps))

    def expr(self, ops: Ops, t: Array) -> Array:
        frac = ops.minimum(t, ops.const(float(self.warmup_steps))) / self.warmup_steps
        ramp = self.init_lr * ops.power(ops.const(self.peak_lr / self.init_lr), frac)
        return ops.where(frac >= 1.0, ops.zeros_like(t) + self.peak_lr, ramp)


def _as_list(where: str, values: object) -> list[object]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise check.fail(where, values, "must be a list", "pass e.g. [0.1, 0.01]")
    return list(values)
