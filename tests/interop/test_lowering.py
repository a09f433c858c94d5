"""The array form (lrkit.interop.lower) is each family's numpy formula, operation for operation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop.lower import NUMPY, lower, lowerable
from lrkit.schedules import Cyclic, Schedule, families

from .samples import SAMPLES


def test_every_registered_family_has_an_array_form_and_a_sample() -> None:
    assert set(families().values()) <= set(lowerable())
    assert {s.family for s in SAMPLES.values()} == set(families())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_lowered_numpy_equals_the_schedule(name: str, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    t = np.arange(400, dtype=np.float64)
    # the same operations, so equal to rounding (bit for bit unless a family's arithmetic
    # is reordered)
    same_rates(lower(schedule, NUMPY)(t), schedule(t), 1e-14)


def test_python_callables_and_unknown_classes_are_refused() -> None:
    with pytest.raises(ConfigError, match="scale_fn"):
        lower(Cyclic(0.0, 1.0, step_size_up=2, scale_fn=lambda x: x), NUMPY)

    class Mine(Schedule):
        def _lr(self, t: np.ndarray) -> np.ndarray:
            return t

    with pytest.raises(ConfigError, match="Mine: has no array form"):
        lower(Mine(), NUMPY)
