"""to_keras: a serialisable LearningRateSchedule (keras.ops, float32) equal to the schedule."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import to_keras
from lrkit.schedules import Cyclic, parse

from .samples import SAMPLES

RTOL = 1e-6
# keras' torch backend converts tensors with np.array(x), which numpy 2 flags
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _rates(keras: Any, schedule: Any, n: int) -> np.ndarray:
    steps = keras.ops.convert_to_tensor(np.arange(n), dtype="int64")
    return np.asarray(keras.ops.convert_to_numpy(schedule(steps)), dtype=np.float64)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_to_keras_reproduces_the_schedule(name: str, keras: Any, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    same_rates(_rates(keras, to_keras(schedule), 300), schedule.values(300), RTOL)


def test_scalar_step_and_config_round_trip(keras: Any) -> None:
    schedule = parse("cosine_restarts(peak_lr=0.1, cycle_steps=3, cycle_mult=3)")
    ks = to_keras(schedule)
    assert ks.get_config() == {"spec": schedule.to_spec(), "name": "LrkitSchedule"}
    again = type(ks).from_config(ks.get_config())
    assert again.schedule == schedule
    # through Keras' own (de)serialisation, as a saved model stores it
    blob = keras.optimizers.schedules.serialize(ks)
    assert blob["registered_name"] == "lrkit>LrkitSchedule"
    back = keras.optimizers.schedules.deserialize(blob)
    assert back.schedule == schedule
    step = keras.ops.convert_to_tensor(39, dtype="int64")  # a restart: 0, 3, 12, 39
    assert float(keras.ops.convert_to_numpy(back(step))) == pytest.approx(0.1, rel=RTOL)


def test_runs_in_a_real_keras_optimizer(keras: Any) -> None:
    schedule = parse("cosine(peak_lr=0.1, total_steps=20, warmup_steps=4)")
    opt = keras.optimizers.SGD(learning_rate=to_keras(schedule))
    var = keras.Variable(np.zeros(2, dtype="float32"))
    grad = keras.ops.ones((2,))
    seen = []
    for _ in range(12):
        seen.append(float(keras.ops.convert_to_numpy(opt.learning_rate)))
        opt.apply_gradients([(grad, var)])
    np.testing.assert_allclose(seen, schedule.values(12), rtol=RTOL, atol=1e-9)
    # plain SGD: the variable moved by minus the sum of the rates used
    np.testing.assert_allclose(keras.ops.convert_to_numpy(var), -np.sum(schedule.values(12)),
                               rtol=1e-5)


def test_refuses_a_python_callable(keras: Any) -> None:
    with pytest.raises(ConfigError, match="scale_fn"):
        to_keras(Cyclic(0.0, 1.0, step_size_up=2, scale_fn=lambda x: x))
