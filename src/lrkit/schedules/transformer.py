"""Schedules from the transformer and large-model literature: inverse square root, Noam,
warmup-stable-decay, and timm's tanh decay."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

from lrkit._check import PART as check
from lrkit.schedules._frozen import settle
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.ops import Array, Ops, clip, half_cosine, mix

__all__ = ["WSD", "InverseSqrt", "Noam", "Tanh"]


@register("inverse_sqrt")
@dataclasses.dataclass(frozen=True)
class InverseSqrt(Schedule):
    """f(t) = peak_lr * sqrt(timescale / (t + timescale)).

    Inverse square-root decay (Vaswani et al. 2017; fairseq ``inverse_sqrt`` with
    timescale = warmup updates; HF ``inverse_sqrt``, after big_vision). It starts at
    ``peak_lr``: put a warmup before it with ``warmup_steps`` in the spec (HF's default
    timescale is the warmup length). Spec: ``inverse_sqrt(peak_lr=0.1, timescale=4000)``.

    >>> InverseSqrt(peak_lr=1.0, timescale=4).values(13)[[0, 12]]
    array([1. , 0.5])
    """

    lr_parameter = "peak_lr"
    examples = (
        "inverse_sqrt(peak_lr=0.1, timescale=100)",
        "inverse_sqrt(peak_lr=0.1, timescale=400, warmup_steps=400)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "inverse_sqrt": "inverse_sqrt(peak_lr=0.1, timescale=10)",
    }

    peak_lr: float
    timescale: float = 10_000

    def __post_init__(self) -> None:
        settle(self, peak_lr=check.learning_rate("inverse_sqrt.peak_lr", self.peak_lr),
               timescale=check.length("inverse_sqrt.timescale", self.timescale))

    def expr(self, ops: Ops, t: Array) -> Array:
        return self.peak_lr / ops.sqrt((t + self.timescale) / self.timescale)


@register("noam")
@dataclasses.dataclass(frozen=True)
class Noam(Schedule):
    """f(t) = factor * d_model**-0.5 * min(s**-0.5, s * warmup_steps**-1.5), s = max(t, 1).

    The "Attention Is All You Need" schedule (Vaswani et al. 2017, eq. 3) as the Annotated
    Transformer runs it: linear warmup to factor / sqrt(d_model * warmup_steps), then
    inverse square root. s = max(t, 1) makes the first two updates equal. Spec:
    ``noam(d_model=512, warmup_steps=4000, factor=2)``.

    >>> round(Noam(d_model=512, warmup_steps=4000)(4000), 8)
    0.00069877
    """

    lr_parameter = None
    examples = ("noam(d_model=512, warmup_steps=4000)",)
    interop_examples: ClassVar[dict[str, str]] = {
        "noam": "noam(d_model=64, warmup_steps=20)",
    }

    d_model: int
    warmup_steps: int
    factor: float = 1.0

    def __post_init__(self) -> None:
        settle(self, d_model=check.count("noam.d_model", self.d_model),
               warmup_steps=check.count("noam.warmup_steps", self.warmup_steps),
               factor=check.learning_rate("noam.factor", self.factor))

    def expr(self, ops: Ops, t: Array) -> Array:
        s = ops.maximum(t, ops.const(1.0))
        return self.factor * self.d_model ** -0.5 * ops.minimum(
            ops.power(s, ops.const(-0.5)), s * self.warmup_steps ** -1.5)


_DECAY_SHAPES: dict[str, Callable[[Ops, Array], Array]] = {
    # each maps the decay progress p in [0, 1] to a multiplier going from 1 to 0
    "linear": lambda ops, p: 1.0 - p,
    "cosine": half_cosine,
    "1-sqrt": lambda ops, p: 1.0 - ops.sqrt(p),  # Hägele et al. 2024, arXiv 2405.18392
    # Megatron-LM's WSD "exponential"
    "exponential": lambda ops, p: 2.0 * ops.power(ops.const(0.5), p) - 1.0,
}


@register("wsd")
@dataclasses.dataclass(frozen=True)
class WSD(Schedule):
    """Warmup-stable-decay: hold ``peak_lr``, then decay to ``end_lr`` in the last ``decay_steps``.

    With S = total_steps - decay_steps and p = clip((t - S) / decay_steps, 0, 1):
    f(t) = end_lr + (peak_lr - end_lr) * h(p), with h(p) = 1 - p (``linear``),
    (1 + cos(pi p)) / 2 (``cosine``), 1 - sqrt(p) (``1-sqrt``, Hägele et al. 2024) or
    2 * 0.5**p - 1 (``exponential``, Megatron-LM). MiniCPM (Hu et al. 2024, arXiv
    2404.06395 §4.2) introduced the schedule. The warmup is a prefix: add ``warmup_steps``
    to the spec, and ``total_steps`` then counts the whole run. HF
    ``get_wsd_schedule(W, D, N, min_lr_ratio=m)`` is ``wsd(total_steps=N, decay_steps=D,
    end_lr=m * peak_lr, warmup_steps=W, warmup_init_lr=m * peak_lr)``. Spec:
    ``wsd(peak_lr=0.1, total_steps=10000, decay_steps=1000, decay_shape="1-sqrt")``.

    >>> s = WSD(peak_lr=1.0, total_steps=10, decay_steps=4, decay_shape="linear")
    >>> s.values(11)[[0, 6, 8, 10]]
    array([1. , 1. , 0.5, 0. ])
    """

    lr_parameter = "peak_lr"
    examples = (
        "wsd(peak_lr=0.1, total_steps=1000, decay_steps=200)",
        "wsd(peak_lr=0.1, total_steps=1000, decay_steps=100, end_lr=0.001, decay_shape=cosine, "
        "warmup_steps=50)",
        "wsd(peak_lr=0.1, total_steps=1000, decay_steps=100, decay_shape=linear)",
        "wsd(peak_lr=0.1, total_steps=1000, decay_steps=300, decay_shape=exponential)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "wsd": "wsd(peak_lr=0.1, total_steps=100, decay_steps=30, end_lr=0.001)",
        "wsd_exp": "wsd(peak_lr=0.1, total_steps=100, decay_steps=30, decay_shape=exponential)",
    }

    peak_lr: float
    total_steps: float
    decay_steps: float
    end_lr: float = 0.0
    decay_shape: str = "1-sqrt"

    def __post_init__(self) -> None:
        total = check.length("wsd.total_steps", self.total_steps)
        decay = check.length("wsd.decay_steps", self.decay_steps)
        if decay > total:
            raise check.fail("wsd.decay_steps", decay, f"exceeds total_steps={total}",
                             "pass decay_steps <= total_steps (about 10-20% is usual)")
        settle(self, peak_lr=check.learning_rate("wsd.peak_lr", self.peak_lr),
               total_steps=total, decay_steps=decay,
               end_lr=check.learning_rate("wsd.end_lr", self.end_lr),
               decay_shape=check.choice("wsd.decay_shape", self.decay_shape,
                                        tuple(_DECAY_SHAPES)))

    def expr(self, ops: Ops, t: Array) -> Array:
        stable = self.total_steps - self.decay_steps
        p = clip(ops, (t - stable) / self.decay_steps, 0.0, 1.0)
        return mix(self.peak_lr, self.end_lr, _DECAY_SHAPES[self.decay_shape](ops, p))


@register("tanh")
@dataclasses.dataclass(frozen=True)
class Tanh(Schedule):
    """f(t) = end_lr + (peak_lr - end_lr) * (1 - tanh(lower * (1 - r) + upper * r)) / 2, r = t / T.

    Hyperbolic-tangent decay (Hsueh et al. 2019; timm ``TanhLRScheduler``). It does not
    quite reach ``end_lr`` at r = 1 (about 0.25% of the range remains); from T on it holds
    ``end_lr``, like timm after its last cycle. Spec:
    ``tanh(peak_lr=0.1, total_steps=1000, lower=-7, upper=3)``.

    >>> Tanh(peak_lr=1.0, total_steps=4).values(5).round(4)
    array([1.    , 0.9999, 0.982 , 0.2689, 0.    ])
    """

    lr_parameter = "peak_lr"
    examples = (
        "tanh(peak_lr=0.1, total_steps=1000)",
        "tanh(peak_lr=0.1, total_steps=1000, end_lr=0.001, lower=-5, upper=5)",
    )
    interop_examples: ClassVar[dict[str, str]] = {
        "tanh": "tanh(peak_lr=0.1, total_steps=80, end_lr=0.001)",
    }

    peak_lr: float
    total_steps: float
    end_lr: float = 0.0
    lower: float = -7.0
    upper: float = 3.0

    def __post_init__(self) -> None:
        lower = check.real("tanh.lower", self.lower)
        upper = check.real("tanh.upper", self.upper)
        if upper <= lower:
            raise check.fail("tanh.upper", upper, f"must exceed lower={lower}",
                             "keep the defaults lower=-7, upper=3 unless you need otherwise")
        settle(self, peak_lr=check.learning_rate("tanh.peak_lr", self.peak_lr),
               total_steps=check.length("tanh.total_steps", self.total_steps),
               end_lr=check.learning_rate("tanh.end_lr", self.end_lr),
               lower=lower, upper=upper)

    def expr(self, ops: Ops, t: Array) -> Array:
        r = t / self.total_steps
        weight = 0.5 * (1.0 - ops.tanh(self.lower * (1.0 - r) + self.upper * r))
        inside = mix(self.peak_lr, self.end_lr, weight)
        return ops.where(t < self.total_steps, inside, ops.zeros_like(t) + self.end_lr)
