"""``from_keras``: the lrkit schedule equal to a ``keras.optimizers.schedules`` configuration.

Keras calls its schedule with the optimizer's ``iterations``, which is 0 on the first
update, so the value at ``t`` is the rate of update ``t``. Keras computes in float32; the
lrkit schedule is the same formula in float64. No keras import is needed.

The Keras rules kept here: ``PiecewiseConstantDecay`` changes value one step *after* each
boundary (``step <= b`` keeps the old value); ``CosineDecay`` and ``CosineDecayRestarts``
take a floor ``alpha`` relative to their initial (or warmup target) rate, and
``m_mul`` scales only the cosine part above it; ``PolynomialDecay`` defaults to
``end_learning_rate=1e-4`` and with ``cycle=True`` stretches its horizon rather than restarting.

>>> s = from_keras("PiecewiseConstantDecay", boundaries=[2], values=[1.0, 0.5])
>>> s.values(5).tolist()
[1.0, 1.0, 1.0, 0.5, 0.5]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from lrkit._check import PART as check
from lrkit.interop._params import bind, lookup
from lrkit.schedules import (
    Cosine,
    CosineRestarts,
    Exponential,
    InverseTime,
    Join,
    LinearWarmup,
    Piecewise,
    Polynomial,
    Schedule,
)

__all__ = ["KERAS_SCHEDULES", "from_keras"]


def _exponential_decay(*, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                       staircase: bool = False, name: str = "ExponentialDecay") -> Schedule:
    return Exponential(
        check.learning_rate("ExponentialDecay.initial_learning_rate", initial_learning_rate),
        decay_rate=check.positive("ExponentialDecay.decay_rate", decay_rate),
        decay_steps=check.length("ExponentialDecay.decay_steps", decay_steps),
        staircase=bool(staircase))


def _piecewise_constant_decay(*, boundaries: Sequence[float], values: Sequence[float],
                              name: str = "PiecewiseConstant") -> Schedule:
    where = "PiecewiseConstantDecay.boundaries"
    if isinstance(boundaries, str | bytes) or not isinstance(boundaries, Sequence):
        raise check.fail(where, boundaries, "must be a list of steps", "pass e.g. [1000, 2000]")
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise check.fail("PiecewiseConstantDecay.values", values, "must be a list of rates",
                         "pass one more value than boundaries")
    if len(values) != len(boundaries) + 1:
        raise check.fail("PiecewiseConstantDecay.values", list(values),
                         f"needs len(boundaries) + 1 = {len(boundaries) + 1} values",
                         "give one value before the first boundary and one after each")
    # Keras keeps values[k] while step <= b_k, so on integer steps the change is at
    # floor(b_k) + 1
    shifted = []
    for i, b in enumerate(boundaries):
        real = check.real(f"{where}[{i}]", b)
        if real < 0:
            raise check.fail(f"{where}[{i}]", b, "cannot be negative", "pass steps >= 0")
        shifted.append(math.floor(real) + 1)
    return Piecewise(boundaries=shifted, lrs=list(values))


def _polynomial_decay(*, initial_learning_rate: float, decay_steps: float,
                      end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                      name: str = "PolynomialDecay") -> Schedule:
    return Polynomial(
        check.learning_rate("PolynomialDecay.initial_learning_rate", initial_learning_rate),
        total_steps=check.length("PolynomialDecay.decay_steps", decay_steps),
        end_lr=check.learning_rate("PolynomialDecay.end_learning_rate", end_learning_rate),
        power=check.positive("PolynomialDecay.power", power), cycle=bool(cycle))


def _inverse_time_decay(*, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                        staircase: bool = False, name: str = "InverseTimeDecay") -> Schedule:
    return InverseTime(
        check.learning_rate("InverseTimeDecay.initial_learning_rate", initial_learning_rate),
        decay_rate=check.learning_rate("InverseTimeDecay.decay_rate", decay_rate),
        decay_steps=check.length("InverseTimeDecay.decay_steps", decay_steps),
        staircase=bool(staircase))


def _cosine_decay(*, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                  name: str = "CosineDecay", warmup_target: float | None = None,
                  warmup_steps: int = 0) -> Schedule:
    init = check.learning_rate("CosineDecay.initial_learning_rate", initial_learning_rate)
    steps = check.length("CosineDecay.decay_steps", decay_steps)
    alpha = check.non_negative("CosineDecay.alpha", alpha)
    if warmup_target is None:
        # Keras ignores warmup_steps without a warmup_target
        return Cosine(init, total_steps=steps, end_lr=alpha * init)
    target = check.learning_rate("CosineDecay.warmup_target", warmup_target)
    warm = check.count("CosineDecay.warmup_steps", warmup_steps, minimum=0)
    # the decay runs for decay_steps *after* the warmup, and its floor is alpha * target
    decay = Cosine(target, total_steps=steps, end_lr=alpha * target)
    if warm == 0:
        return decay
    return Join(pieces=[LinearWarmup(init, target, warm), decay], boundaries=[warm])


def _cosine_decay_restarts(*, initial_learning_rate: float, first_decay_steps: float,
                           t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                           name: str = "SGDRDecay") -> Schedule:
    init = check.learning_rate("CosineDecayRestarts.initial_learning_rate",
                               initial_learning_rate)
    mult = check.real("CosineDecayRestarts.t_mul", t_mul)
    if mult < 1:
        raise check.fail("CosineDecayRestarts.t_mul", t_mul, "must be >= 1 (shrinking cycles "
                         "end after finitely many steps)", "pass 1.0 or more, e.g. 2.0")
    alpha = check.non_negative("CosineDecayRestarts.alpha", alpha)
    # m_mul scales the cosine above the floor alpha * init; the floor stays put
    return CosineRestarts(init, cycle_steps=check.length("CosineDecayRestarts.first_decay_steps",
                                                         first_decay_steps),
                          cycle_mult=mult,
                          peak_decay=check.non_negative("CosineDecayRestarts.m_mul", m_mul),
                          end_lr=alpha * init)


# class name -> conversion; each takes the Keras constructor's own keywords and defaults
KERAS_SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "CosineDecay": _cosine_decay,
    "CosineDecayRestarts": _cosine_decay_restarts,
    "ExponentialDecay": _exponential_decay,
    "InverseTimeDecay": _inverse_time_decay,
    "PiecewiseConstantDecay": _piecewise_constant_decay,
    "PolynomialDecay": _polynomial_decay,
}


def from_keras(class_name: str, /, **config: Any) -> Schedule:
    """The lrkit schedule whose value at ``t`` is the rate Keras uses for update ``t``.

    Args:
        class_name: a class of ``keras.optimizers.schedules``: ExponentialDecay,
            PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay (with
            or without warmup) or CosineDecayRestarts.
        **config: the constructor's keywords, i.e. what ``get_config()`` returns (``name``
            is accepted and ignored).

    Raises:
        ConfigError: an unknown class or keyword (with the closest match), a missing
            keyword, or a value Keras refuses.

    >>> s = from_keras("CosineDecay", initial_learning_rate=0.0, decay_steps=10,
    ...                warmup_target=1.0, warmup_steps=5)
    >>> [round(float(x), 4) for x in s.values(16)[[0, 4, 5, 10, 15]]]
    [0.0, 0.8, 1.0, 0.5, 0.0]
    """
    key = lookup("keras schedule", class_name, KERAS_SCHEDULES)
    func = KERAS_SCHEDULES[key]
    return func(**bind(key, func, config))
