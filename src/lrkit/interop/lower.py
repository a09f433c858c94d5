"""Run an lrkit schedule as array code for another array library (jax, keras.ops).

``lower(schedule, ops)`` returns a function of a float step array built only from the
elementwise operations of ``ops`` (``where``, ``floor``, ``cos``, ``searchsorted`` on constant
tables, ...), with no Python branching on the step, so jax can ``jit`` it and Keras can run
it on any backend. There is no second copy of any formula here: it is each family's own
``expr``, the expression numpy evaluates (``lrkit.schedules.ops``); the restart index of
``CosineRestarts`` is looked up in a table of exact cycle starts, never taken from a
logarithm.

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

from lrkit.schedules import Schedule, families
from lrkit.schedules.base import has_array_form
from lrkit.schedules.cosine import RESTART_HORIZON
from lrkit.schedules.ops import NUMPY, Ops

__all__ = ["NUMPY", "RESTART_HORIZON", "Ops", "lower", "lowerable"]

Lowered = Callable[[Any], Any]

# numpy bound as a tracing library sees it: a trial run with it fails where a part of the
# schedule has no array form (a subclass of your own, a Python scale_fn)
_TRACED_NUMPY = dataclasses.replace(NUMPY, eager=False)


def lowerable() -> Sequence[type[Schedule]]:
    """The registered schedule classes ``lower`` can run (those with an ``expr``)."""
    return tuple(cls for cls in families().values() if has_array_form(cls))


def lower(schedule: Schedule, ops: Ops) -> Lowered:
    """A function of a float step array computing ``schedule`` with ``ops`` only.

    Raises:
        ConfigError: a schedule class with no array form (a user subclass) or a Cyclic with
            a Python ``scale_fn``.
    """
    schedule.expr(_TRACED_NUMPY, np.zeros(1))  # fail now, naming the part, not at trace time
    traced = dataclasses.replace(ops, eager=False)
    return lambda t: schedule.expr(traced, t)
