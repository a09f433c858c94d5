"""``to_keras``: an lrkit schedule as a serialisable Keras ``LearningRateSchedule``.

The schedule is compiled to ``keras.ops`` (``lrkit.interop.lower``), so it runs inside any
backend's compiled training step, and ``get_config()`` is the lrkit spec, so
``keras.optimizers.schedules.serialize`` / ``deserialize`` and saved models round-trip it.
Keras must have a backend: set ``KERAS_BACKEND`` (``torch`` or ``jax``) before importing
it, or install tensorflow. Examples run in the tests (importing keras here would pick its
backend for the whole process).
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np

from lrkit._check import PART as check
from lrkit._deps import require
from lrkit.errors import MissingDependencyError
from lrkit.interop.lower import Ops, lower
from lrkit.schedules import Schedule, from_spec

__all__ = ["keras_ops", "keras_schedule_class", "to_keras"]


def _keras() -> ModuleType:
    try:
        return require("keras", extra="keras")
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] == "tensorflow":
            raise MissingDependencyError(
                "keras has no backend: set KERAS_BACKEND=torch (or jax) before importing "
                "keras, or run: pip install tensorflow") from None
        raise


def keras_ops(keras: ModuleType, dtype: str) -> Ops:
    """``Ops`` over ``keras.ops``, computing in ``dtype``."""
    k = keras.ops
    return Ops(
        const=lambda v: k.convert_to_tensor(np.asarray(v, dtype=np.float64), dtype=dtype),
        where=k.where, floor=k.floor, ceil=k.ceil, cos=k.cos, tanh=k.tanh, sqrt=k.sqrt,
        power=k.power, minimum=k.minimum, maximum=k.maximum,
        searchsorted=lambda a, x, side: k.searchsorted(a, x, side=side),
        take=k.take, to_float=lambda x: k.cast(x, dtype),
        to_index=lambda x: k.cast(x, "int32"), zeros_like=k.zeros_like,
    )


@functools.cache
def keras_schedule_class() -> type:
    """The ``LrkitSchedule`` class, registered with Keras as ``lrkit>LrkitSchedule``.

    Calling this once (``to_keras`` does) is what lets ``keras.saving.load_model`` or
    ``keras.optimizers.schedules.deserialize`` rebuild a saved lrkit schedule.
    """
    keras = _keras()

    @keras.saving.register_keras_serializable(package="lrkit", name="LrkitSchedule")
    class LrkitSchedule(keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[name-defined]
        """The rate of update ``step`` from an lrkit schedule, computed with ``keras.ops``."""

        def __init__(self, spec: Schedule | dict[str, Any], name: str = "LrkitSchedule",
                     ) -> None:
            super().__init__()
            self.schedule = spec if isinstance(spec, Schedule) else from_spec(spec)
            self.name = name
            self.dtype = keras.backend.floatx()
            self._rate = lower(self.schedule, keras_ops(keras, self.dtype))

        def __call__(self, step: Any) -> Any:
            return self._rate(keras.ops.cast(step, self.dtype))

        def get_config(self) -> dict[str, Any]:
            return {"spec": self.schedule.to_spec(), "name": self.name}

    return LrkitSchedule


def to_keras(schedule: Schedule) -> Any:
    """A ``keras.optimizers.schedules.LearningRateSchedule`` whose rate at step ``t`` is
    ``schedule(t)``, computed in Keras' float type.

    Pass it as an optimizer's ``learning_rate``. ``get_config()`` returns
    ``{"spec": schedule.to_spec(), "name": ...}`` and ``from_config`` rebuilds it.

    Raises:
        MissingDependencyError: keras (or a backend for it) is not installed.
        ConfigError: ``schedule`` is not a Schedule, or has a part with no array form (a
            Python callable such as Cyclic's ``scale_fn``).
    """
    if not isinstance(schedule, Schedule):
        raise check.fail("to_keras.schedule", schedule, "must be an lrkit Schedule",
                         "pass e.g. lrkit.schedules.parse('cosine(...)')")
    return keras_schedule_class()(schedule)
