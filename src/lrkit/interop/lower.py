"""Rewrite an lrkit schedule as array code for another array library (jax, keras.ops).

``lower(schedule, ops)`` returns a function of a float step array built only from the
elementwise operations of ``ops`` (``where``, ``floor``, ``cos``, ``searchsorted`` on constant
tables, ...), with no Python branching on the step, so jax can ``jit`` it and Keras can run
it on any backend. Each family's expression is the one its ``_lr`` evaluates in numpy,
operation for operation; the restart index of ``CosineRestarts`` is looked up in a table
of exact cycle starts, never taken from a logarithm.

>>> import numpy as np
>>> from lrkit.schedules import parse
>>> s = parse("cosine(peak_lr=1.0, total_steps=10, warmup_steps=2)")
>>> f = lower(s, NUMPY)
>>> bool(np.allclose(f(np.arange(12.0)), s.values(12), rtol=1e-15, atol=0))
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules import (
    WSD,
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    ExponentialWarmup,
    Interpolate,
    InverseSqrt,
    InverseTime,
    Join,
    LinearWarmup,
    MultiStep,
    Noam,
    OneCycle,
    Piecewise,
    Polynomial,
    Product,
    Scaled,
    Schedule,
    Step,
    Tanh,
)

__all__ = ["NUMPY", "RESTART_HORIZON", "Ops", "lower", "lowerable"]

Array = Any
Lowered = Callable[[Array], Array]

# CosineRestarts tables list every cycle start up to this step (far beyond any real run)
RESTART_HORIZON = 2**40


@dataclasses.dataclass(frozen=True)
class Ops:
    """The array operations a lowered schedule uses, bound to one library.

    ``const(values)`` makes a constant array in the working float dtype;
    ``searchsorted(table, x, side)`` and ``take(table, i)`` read constant tables;
    ``to_float`` / ``to_index`` convert between integer and float arrays; the rest are
    elementwise and broadcast.
    """

    const: Callable[[Any], Array]
    where: Callable[[Array, Array, Array], Array]
    floor: Callable[[Array], Array]
    ceil: Callable[[Array], Array]
    cos: Callable[[Array], Array]
    tanh: Callable[[Array], Array]
    sqrt: Callable[[Array], Array]
    power: Callable[[Array, Array], Array]
    minimum: Callable[[Array, Array], Array]
    maximum: Callable[[Array, Array], Array]
    searchsorted: Callable[[Array, Array, str], Array]
    take: Callable[[Array, Array], Array]
    to_float: Callable[[Array], Array]
    to_index: Callable[[Array], Array]
    zeros_like: Callable[[Array], Array]


NUMPY = Ops(
    const=lambda v: np.asarray(v, dtype=np.float64),
    where=np.where, floor=np.floor, ceil=np.ceil, cos=np.cos, tanh=np.tanh, sqrt=np.sqrt,
    power=np.power, minimum=np.minimum, maximum=np.maximum,
    searchsorted=lambda a, x, side: np.searchsorted(a, x, side=side),  # type: ignore[call-overload]
    take=lambda a, i: np.take(a, i),
    to_float=lambda x: np.asarray(x, dtype=np.float64),
    to_index=lambda x: np.asarray(x).astype(np.int64),
    zeros_like=np.zeros_like,
)


def _clip(ops: Ops, x: Array, lo: float, hi: float) -> Array:
    return ops.minimum(ops.maximum(x, ops.const(lo)), ops.const(hi))


def _mix(high: float, low: float, weight: Array) -> Array:
    """high * w + low * (1 - w), as ``lrkit.schedules._math.mix`` computes it."""
    return high * weight + low * (1.0 - weight)


def _half_cosine(ops: Ops, p: Array) -> Array:
    return 0.5 * (1.0 + ops.cos(np.pi * p))


def _constant(s: Constant, ops: Ops, t: Array) -> Array:
    return ops.zeros_like(t) + s.base_lr


def _step(s: Step, ops: Ops, t: Array) -> Array:
    return s.base_lr * ops.power(ops.const(s.gamma), ops.floor(t / s.step_size))


def _multistep(s: MultiStep, ops: Ops, t: Array) -> Array:
    if not s.milestones:
        return ops.zeros_like(t) + s.base_lr
    passed = ops.to_float(ops.searchsorted(ops.const(s.milestones), t, "right"))
    return s.base_lr * ops.power(ops.const(s.gamma), passed)


def _piecewise(s: Piecewise, ops: Ops, t: Array) -> Array:
    if not s.boundaries:
        return ops.zeros_like(t) + s.lrs[0]
    return ops.take(ops.const(s.lrs), ops.searchsorted(ops.const(s.boundaries), t, "right"))


def _interpolate(s: Interpolate, ops: Ops, t: Array) -> Array:
    n = len(s.steps)
    xs, ys = ops.const(s.steps), ops.const(s.lrs)
    k = ops.to_float(ops.searchsorted(xs, t, "right")) - 1.0
    k = _clip(ops, k, 0.0, n - 1.0)
    k1 = ops.minimum(k + 1.0, ops.const(n - 1.0))
    ki, k1i = ops.to_index(k), ops.to_index(k1)
    x0, x1 = ops.take(xs, ki), ops.take(xs, k1i)
    y0, y1 = ops.take(ys, ki), ops.take(ys, k1i)
    width = x1 - x0
    positive = width > 0
    p = ops.where(positive, (t - x0) / ops.where(positive, width, ops.const(1.0)),
                  ops.zeros_like(t))
    p = _clip(ops, p, 0.0, 1.0)
    if s.kind == "cosine":
        p = 0.5 * (1.0 - ops.cos(np.pi * p))
    return y0 + (y1 - y0) * p


def _exponential(s: Exponential, ops: Ops, t: Array) -> Array:
    p = ops.maximum(t - s.transition_begin, ops.const(0.0)) / s.decay_steps
    if s.staircase:
        p = ops.floor(p)
    out = s.init_lr * ops.power(ops.const(s.decay_rate), p)
    if s.end_lr is not None:
        clip = ops.maximum if s.decay_rate < 1 else ops.minimum
        out = clip(out, ops.const(s.end_lr))
    return out


def _inverse_time(s: InverseTime, ops: Ops, t: Array) -> Array:
    p = t / s.decay_steps
    if s.staircase:
        p = ops.floor(p)
    return s.init_lr / (1.0 + s.decay_rate * p)


def _polynomial(s: Polynomial, ops: Ops, t: Array) -> Array:
    total = float(s.total_steps)
    if s.cycle:
        horizon = total * ops.maximum(ops.ceil(t / total), ops.const(1.0))
        frac = t / horizon
    else:
        frac = ops.minimum(t, ops.const(total)) / total
    return _mix(s.init_lr, s.end_lr, ops.power(1.0 - frac, ops.const(s.power)))


def _linear_warmup(s: LinearWarmup, ops: Ops, t: Array) -> Array:
    if s.warmup_steps == 0:
        return ops.zeros_like(t) + s.peak_lr
    frac = ops.minimum(t, ops.const(float(s.warmup_steps))) / s.warmup_steps
    return s.init_lr + (s.peak_lr - s.init_lr) * frac


def _exponential_warmup(s: ExponentialWarmup, ops: Ops, t: Array) -> Array:
    frac = ops.minimum(t, ops.const(float(s.warmup_steps))) / s.warmup_steps
    return s.init_lr * ops.power(ops.const(s.peak_lr / s.init_lr), frac)


def _join(s: Join, ops: Ops, t: Array) -> Array:
    out = _lower(s.pieces[0], ops)(t)
    for start, piece in zip(s.boundaries, s.pieces[1:], strict=True):
        # local time, clamped at 0 so an inactive piece never sees a negative step
        local = ops.maximum(t - float(start), ops.const(0.0))
        out = ops.where(t >= start, _lower(piece, ops)(local), out)
    return out


def _scaled(s: Scaled, ops: Ops, t: Array) -> Array:
    return s.factor * _lower(s.schedule, ops)(t)


def _product(s: Product, ops: Ops, t: Array) -> Array:
    return _lower(s.first, ops)(t) * _lower(s.second, ops)(t)


def _cosine(s: Cosine, ops: Ops, t: Array) -> Array:
    total = float(s.total_steps)
    p = (ops.minimum(t, ops.const(total)) if s.after_end == "hold" else t) / total
    shape = _half_cosine(ops, p)
    if s.exponent != 1:
        shape = ops.power(shape, ops.const(s.exponent))
    return _mix(s.peak_lr, s.end_lr, shape)


def _cosine_restarts(s: CosineRestarts, ops: Ops, t: Array) -> Array:
    if s.cycle_mult == 1:
        i = ops.floor(t / s.cycle_steps)
        start = i * s.cycle_steps
        span = ops.zeros_like(t) + float(s.cycle_steps)
    else:
        # exact cycle starts (integer sums) in a table: no logarithm, no misplaced restart
        starts = s.cycle_starts(float(RESTART_HORIZON))
        table = ops.const(starts)
        index = ops.searchsorted(table, t, "right") - 1
        i = ops.to_float(index)
        start = ops.take(table, index)
        span = s.cycle_steps * ops.power(ops.const(float(s.cycle_mult)), i)
    decay = ops.power(ops.const(s.peak_decay), i)
    return _mix(s.peak_lr, s.end_lr, decay * _half_cosine(ops, (t - start) / span))


def _cyclic(s: Cyclic, ops: Ops, t: Array) -> Array:
    if s.scale_fn is not None:
        raise ConfigError("cyclic.scale_fn: a Python callable cannot be compiled to array "
                          "code; use mode=triangular2 or exp_range, or a lookup table "
                          "(to_optax(schedule, table_steps=N))")
    up = float(s.step_size_up)
    down = up if s.step_size_down is None else float(s.step_size_down)
    total = up + down
    ratio = up / total
    cycle = ops.floor(1.0 + t / total)
    x = 1.0 + t / total - cycle
    shape = ops.where(x <= ratio, x / ratio, (x - 1.0) / (ratio - 1.0))
    arg = cycle if s.scale_mode == "cycle" else t
    if s.mode == "triangular":
        g = ops.zeros_like(t) + 1.0
    elif s.mode == "triangular2":
        g = ops.power(ops.const(0.5), arg - 1.0)
    else:
        g = ops.power(ops.const(s.gamma), arg)
    return s.base_lr + (s.max_lr - s.base_lr) * shape * g


def _onecycle(s: OneCycle, ops: Ops, t: Array) -> Array:
    phases = s.phases()
    t = ops.minimum(t, ops.const(s.total_steps - 1.0))
    out = None
    begin = 0.0
    for k, (end, a, b) in enumerate(phases):
        p = (t - begin) / (end - begin)
        if s.anneal == "cos":
            value = b + (a - b) / 2.0 * (ops.cos(np.pi * p) + 1.0)
        else:
            value = (b - a) * p + a
        # phase k owns (e_{k-1}, e_k]; a later phase overrides the steps past e_k
        out = value if k == 0 else ops.where(t > begin, value, out)
        begin = end
    return out


def _inverse_sqrt(s: InverseSqrt, ops: Ops, t: Array) -> Array:
    return s.peak_lr / ops.sqrt((t + s.timescale) / s.timescale)


def _noam(s: Noam, ops: Ops, t: Array) -> Array:
    step = ops.maximum(t, ops.const(1.0))
    return s.factor * s.d_model ** -0.5 * ops.minimum(
        ops.power(step, ops.const(-0.5)), step * s.warmup_steps ** -1.5)


def _wsd(s: WSD, ops: Ops, t: Array) -> Array:
    stable = s.total_steps - s.decay_steps
    p = _clip(ops, (t - stable) / s.decay_steps, 0.0, 1.0)
    if s.decay_shape == "linear":
        shape = 1.0 - p
    elif s.decay_shape == "cosine":
        shape = _half_cosine(ops, p)
    elif s.decay_shape == "1-sqrt":
        shape = 1.0 - ops.sqrt(p)
    else:  # "exponential" (Megatron-LM)
        shape = 2.0 * ops.power(ops.const(0.5), p) - 1.0
    return _mix(s.peak_lr, s.end_lr, shape)


def _tanh(s: Tanh, ops: Ops, t: Array) -> Array:
    r = t / s.total_steps
    weight = 0.5 * (1.0 - ops.tanh(s.lower * (1.0 - r) + s.upper * r))
    inside = _mix(s.peak_lr, s.end_lr, weight)
    return ops.where(t < s.total_steps, inside, ops.zeros_like(t) + s.end_lr)


_LOWERINGS: dict[type[Schedule], Callable[[Any, Ops, Array], Array]] = {
    WSD: _wsd,
    Constant: _constant,
    Cosine: _cosine,
    CosineRestarts: _cosine_restarts,
    Cyclic: _cyclic,
    Exponential: _exponential,
    ExponentialWarmup: _exponential_warmup,
    Interpolate: _interpolate,
    InverseSqrt: _inverse_sqrt,
    InverseTime: _inverse_time,
    Join: _join,
    LinearWarmup: _linear_warmup,
    MultiStep: _multistep,
    Noam: _noam,
    OneCycle: _onecycle,
    Piecewise: _piecewise,
    Polynomial: _polynomial,
    Product: _product,
    Scaled: _scaled,
    Step: _step,
    Tanh: _tanh,
}


def lowerable() -> Sequence[type[Schedule]]:
    """The schedule classes ``lower`` knows."""
    return tuple(_LOWERINGS)


def _lower(schedule: Schedule, ops: Ops) -> Lowered:
    rule = _LOWERINGS.get(type(schedule))
    if rule is None:
        raise ConfigError(f"schedule = {type(schedule).__name__}: has no array form for "
                          "jax/keras; build it from lrkit's families, or use a lookup table "
                          "(to_optax(schedule, table_steps=N))")
    if isinstance(schedule, Cyclic) and schedule.scale_fn is not None:
        rule(schedule, ops, None)  # raises the scale_fn message now, not at trace time
    return lambda t: rule(schedule, ops, t)


def lower(schedule: Schedule, ops: Ops) -> Lowered:
    """A function of a float step array computing ``schedule`` with ``ops`` only.

    Raises:
        ConfigError: a schedule class with no array form (a user subclass) or a Cyclic with
            a Python ``scale_fn``.
    """
    _check_tree(schedule)
    return _lower(schedule, ops)


def _check_tree(schedule: Schedule) -> None:
    """Fail early, naming the part that cannot be lowered."""
    _lower(schedule, NUMPY)
    for child in _children(schedule):
        _check_tree(child)


def _children(schedule: Schedule) -> list[Schedule]:
    if isinstance(schedule, Join):
        return list(schedule.pieces)
    if isinstance(schedule, Scaled):
        return [schedule.schedule]
    if isinstance(schedule, Product):
        return [schedule.first, schedule.second]
    return []
