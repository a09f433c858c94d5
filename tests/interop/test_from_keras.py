"""from_keras against keras.optimizers.schedules (torch backend, float32: 1e-6)."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import from_keras
from lrkit.interop._params import keywords
from lrkit.interop.keras_config import KERAS_SCHEDULES

RTOL = 1e-6
# keras' torch backend converts tensors with np.array(x), which numpy 2 flags
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}, 60),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5,
                          "staircase": True}, 60),
    ("ExponentialDecay", {"initial_learning_rate": 0.01, "decay_steps": 20, "decay_rate": 1.5}, 60),
    # Keras changes the value one step *after* each boundary
    ("PiecewiseConstantDecay", {"boundaries": [3, 7], "values": [1.0, 0.5, 0.1]}, 12),
    ("PiecewiseConstantDecay", {"boundaries": [0, 5], "values": [0.3, 0.2, 0.1]}, 8),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 20}, 30),  # end 1e-4
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 20,
                         "end_learning_rate": 0.01, "power": 2.0}, 30),
    ("PolynomialDecay", {"initial_learning_rate": 1.0, "decay_steps": 4, "end_learning_rate": 0.0,
                         "cycle": True}, 40),  # stretches: 1, .75, .5, .25, 0, .375, ...
    ("PolynomialDecay", {"initial_learning_rate": 1.0, "decay_steps": 6,
                         "end_learning_rate": 0.1, "power": 0.5, "cycle": True}, 40),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5}, 40),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5,
                          "staircase": True}, 40),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 30}, 40),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "alpha": 0.1}, 40),
    # the floor is alpha * warmup_target and the decay lasts decay_steps after the warmup
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 20, "alpha": 0.1,
                     "warmup_target": 0.1, "warmup_steps": 5}, 35),
    ("CosineDecay", {"initial_learning_rate": 0.2, "decay_steps": 20,
                     "warmup_target": 0.05, "warmup_steps": 4}, 30),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 10,
                     "warmup_steps": 5}, 20),  # no warmup_target: warmup_steps is ignored
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5}, 160),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 7,
                             "t_mul": 1.0}, 60),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 2, "t_mul": 3.0,
                             "m_mul": 0.5, "alpha": 0.1}, 250),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4,
                             "t_mul": 1.5, "m_mul": 0.8, "alpha": 0.05}, 9),
]


def keras_rates(keras: Any, name: str, config: dict[str, Any], n: int) -> np.ndarray:
    """schedule(step) for integer steps 0..n-1, as the optimizer's int64 iterations."""
    schedule = getattr(keras.optimizers.schedules, name)(**config)
    step = keras.ops.convert_to_tensor(np.arange(n), dtype="int64")
    if name != "PiecewiseConstantDecay" and (name != "CosineDecay"
                                              or config.get("warmup_target") is None):
        return np.asarray(keras.ops.convert_to_numpy(schedule(step)), dtype=np.float64)
    # these two only take a scalar step (an in-place sum; an ops.cond)
    return np.asarray([float(keras.ops.convert_to_numpy(schedule(step[i]))) for i in range(n)])


@pytest.mark.parametrize(("name", "config", "n"), CASES,
                         ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CASES)])
def test_from_keras_matches_keras(name: str, config: dict[str, Any], n: int, keras: Any,
                                  same_rates: Any) -> None:
    want = keras_rates(keras, name, config, n)
    same_rates(from_keras(name, **config).values(n), want, RTOL)


def keras_restart_misplaced(keras: Any, steps: Any, first: float, t_mul: float) -> np.ndarray:
    """Where Keras' float32 logarithm puts step ``t`` in an earlier cycle than the exact sum.

    Keras computes the cycle index as floor(log(1 - t/first * (1 - t_mul)) / log(t_mul)) in
    float32. Whether that lands just below an exact integer depends on the backend's log
    kernel (it differs between CPUs), so the tests ask the backend itself.
    """
    ops = keras.ops
    t = np.asarray(steps, dtype=np.float32)
    arg = ops.convert_to_tensor(1.0 - t / np.float32(first) * (1.0 - np.float32(t_mul)),
                                dtype="float32")
    index = ops.floor(ops.log(arg) / ops.log(ops.convert_to_tensor(t_mul, dtype="float32")))
    return np.asarray(ops.convert_to_numpy(index), dtype=np.float64)


def test_restart_index_is_exact_where_keras_float32_log_misses(keras: Any) -> None:
    """Documented difference: Keras takes the restart index from a float32 logarithm, which
    can put an exact restart (t = 10 for first_decay_steps=4, t_mul=1.5, on some CPUs) at the
    end of the previous cycle. lrkit sums the cycle lengths exactly; everywhere else they
    agree, and they differ exactly where the backend's own float32 log falls short."""
    config = {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 1.5,
              "m_mul": 0.8, "alpha": 0.05}
    n = 400
    want = keras_rates(keras, "CosineDecayRestarts", config, n)
    ours = from_keras("CosineDecayRestarts", **config)
    got = ours.values(n)
    off = np.nonzero(~np.isclose(got, want, rtol=RTOL, atol=RTOL * 0.1))[0]
    starts = sorted(ours.cycle_starts(n))
    keras_index = keras_restart_misplaced(keras, starts, 4, 1.5)
    misplaced = [t for cycle, t in enumerate(starts) if keras_index[cycle] < cycle]
    assert off.tolist() == misplaced  # only, and exactly, where Keras' log falls short
    np.testing.assert_allclose(want[off], 0.05 * 0.1, rtol=RTOL)  # Keras: the floor
    assert np.all(got[off] > 0.05 * 0.1)  # lrkit: the new cycle's peak
    assert got[10] == pytest.approx(0.1 * (0.05 + 0.95 * 0.8 ** 2))  # exact restart at 10


def test_piecewise_boundary_is_one_step_later_than_torch_and_optax() -> None:
    from lrkit.interop import from_optax, from_torch

    keras = from_keras("PiecewiseConstantDecay", boundaries=[3, 6], values=[1.0, 0.5, 0.25])
    torch = from_torch("MultiStepLR", 1.0, milestones=[3, 6], gamma=0.5)
    optax = from_optax("piecewise_constant", init_value=1.0,
                       boundaries_and_scales={3: 0.5, 6: 0.5})
    assert keras.values(8).tolist() == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert torch.values(8).tolist() == optax.values(8).tolist() == [1, 1, 1, .5, .5, .5, .25, .25]


def test_name_is_accepted_and_keywords_are_keras(keras: Any) -> None:
    for name, func in KERAS_SCHEDULES.items():
        cls = getattr(keras.optimizers.schedules, name)
        theirs = {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
                  if p.name != "self"}
        assert keywords(func) == theirs, name
    s = from_keras("ExponentialDecay", initial_learning_rate=1.0, decay_steps=1, decay_rate=0.5,
                   name="mine")
    assert s(2) == 0.25


@pytest.mark.parametrize(("name", "config", "message"), [
    ("CosineDecays", {}, "did you mean 'CosineDecay'"),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_step": 5}, "did you mean 'decay_steps'"),
    ("CosineDecay", {"initial_learning_rate": 0.1}, "CosineDecay.decay_steps: missing"),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 0}, "decay_steps = 0"),
    ("PiecewiseConstantDecay", {"boundaries": [3], "values": [1.0]}, "needs len(boundaries) + 1"),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 0.5},
     "t_mul = 0.5"),
])
def test_bad_input(name: str, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        from_keras(name, **config)
    assert message in str(info.value)
