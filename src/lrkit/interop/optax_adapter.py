"""``to_optax``: an lrkit schedule as a jit-compatible optax schedule (a jnp function of
the step count).

Two forms, both exact at integer counts up to float rounding:

* the default compiles the schedule's own formula to ``jax.numpy`` (``lrkit.interop.lower``):
  no horizon, a handful of elementwise operations per call;
* ``table_steps=N`` also stores ``schedule.values(N)`` (float64, then the working dtype)
  and looks counts below N up in it: the exact float64 values rounded once, and the only
  form for a schedule with a Python callable inside; beyond N it falls back to the
  formula, or holds the last value when there is none.

jax computes in float32 unless ``jax.config.update("jax_enable_x64", True)``.

>>> import jax
>>> from lrkit.schedules import parse
>>> f = jax.jit(to_optax(parse("cosine(peak_lr=1.0, total_steps=10)")))
>>> round(float(f(5)), 6)
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from lrkit._check import PART as check
from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.interop.lower import Ops, lower
from lrkit.schedules import Schedule

__all__ = ["jax_ops", "to_optax"]


def jax_ops(jnp: ModuleType, dtype: Any) -> Ops:
    """``Ops`` over ``jax.numpy``, computing in ``dtype``."""
    return Ops(
        const=lambda v: jnp.asarray(np.asarray(v, dtype=np.float64).astype(dtype)),
        where=jnp.where, floor=jnp.floor, ceil=jnp.ceil, cos=jnp.cos, tanh=jnp.tanh,
        sqrt=jnp.sqrt, power=jnp.power, minimum=jnp.minimum, maximum=jnp.maximum,
        searchsorted=lambda a, x, side: jnp.searchsorted(a, x, side=side),
        take=lambda a, i: jnp.take(a, i), to_float=lambda x: jnp.asarray(x, dtype=dtype),
        to_index=lambda x: jnp.asarray(x, dtype=jnp.int32), zeros_like=jnp.zeros_like,
    )


def to_optax(schedule: Schedule, *, table_steps: int | None = None,
             ) -> Callable[[Any], Any]:
    """An optax schedule (``count -> learning rate``) equal to ``schedule``.

    Pass it to any optax optimizer, e.g. ``optax.adamw(to_optax(s))``; it works under
    ``jax.jit``, ``vmap`` and ``grad``.

    Args:
        schedule: the lrkit schedule.
        table_steps: also keep a table of the first ``table_steps`` values (see above).

    Raises:
        MissingDependencyError: jax is not installed.
        ConfigError: ``schedule`` is not a Schedule; or it has no array form and no
            ``table_steps`` was given.
    """
    if not isinstance(schedule, Schedule):
        raise check.fail("to_optax.schedule", schedule, "must be an lrkit Schedule",
                         "pass e.g. lrkit.schedules.parse('cosine(...)')")
    jax = require("jax", extra="optax")
    jnp = require("jax.numpy", extra="optax")
    table = None
    if table_steps is not None:
        n = check.count("to_optax.table_steps", table_steps)
        table = schedule.values(n)
    try:
        lower(schedule, jax_ops(jnp, np.float64))  # fails now, not at trace time
        lowerable = True
    except ConfigError:
        if table is None:
            raise
        lowerable = False
    compiled: dict[Any, Callable[[Any], Any]] = {}

    def rate(count: Any) -> Any:
        # the working dtype is read per trace: float64 only when jax_enable_x64 is on
        dtype = jax.dtypes.canonicalize_dtype(np.float64)
        if lowerable and dtype not in compiled:
            compiled[dtype] = lower(schedule, jax_ops(jnp, dtype))
        t = jnp.asarray(count).astype(dtype)
        if table is None:
            return compiled[dtype](t)
        values = jnp.asarray(table.astype(dtype))
        index = jnp.clip(jnp.asarray(count), 0, len(table) - 1).astype(jnp.int32)
        beyond = compiled[dtype](t) if lowerable else values[-1]
        return jnp.where(t < len(table), values[index], beyond)

    return rate
