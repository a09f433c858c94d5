"""from_optax against optax's schedules, evaluated in float64 (jax x64 mode): 1e-12."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import from_optax
from lrkit.interop._params import keywords
from lrkit.interop.optax_config import OPTAX_SCHEDULES

RTOL = 1e-12

WARMUP_COSINE = {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 4, "decay_steps": 20,
                 "end_value": 0.1}
CASES = [
    ("constant_schedule", {"value": 0.3}, 5),
    ("linear_schedule", {"init_value": 1.0, "end_value": 0.1, "transition_steps": 10}, 15),
    ("linear_schedule", {"init_value": 0.0, "end_value": 1.0, "transition_steps": 10,
                         "transition_begin": 5}, 20),
    ("linear_schedule", {"init_value": 1.0, "end_value": 0.1, "transition_steps": 10,
                         "transition_begin": -3}, 15),  # a negative begin means 0
    ("linear_schedule", {"init_value": 1.0, "end_value": 0.1, "transition_steps": 0}, 5),
    ("polynomial_schedule", {"init_value": 1.0, "end_value": 0.01, "power": 2.0,
                             "transition_steps": 12, "transition_begin": 3}, 20),
    # a power of 2 steps: XLA divides by multiplying with the reciprocal, and sqrt would
    # turn its 1e-16 error at the end into 1e-8
    ("polynomial_schedule", {"init_value": 1.0, "end_value": 0.0, "power": 0.5,
                             "transition_steps": 8}, 12),
    ("exponential_decay", {"init_value": 1.0, "transition_steps": 5, "decay_rate": 0.5}, 30),
    ("exponential_decay", {"init_value": 1.0, "transition_steps": 3, "decay_rate": 0.5,
                           "transition_begin": 4, "staircase": True, "end_value": 0.1}, 30),
    ("exponential_decay", {"init_value": 0.01, "transition_steps": 4, "decay_rate": 2.0,
                           "end_value": 0.1}, 30),  # growth, capped from above
    ("exponential_decay", {"init_value": 0.5, "transition_steps": 0, "decay_rate": 0.5}, 5),
    ("exponential_decay", {"init_value": 0.5, "transition_steps": 3, "decay_rate": 0.0}, 5),
    ("cosine_decay_schedule", {"init_value": 1.0, "decay_steps": 20}, 30),
    ("cosine_decay_schedule", {"init_value": 1.0, "decay_steps": 20, "alpha": 0.1,
                               "exponent": 2.0}, 30),
    ("warmup_cosine_decay_schedule", WARMUP_COSINE, 30),
    ("warmup_cosine_decay_schedule", {**WARMUP_COSINE, "warmup_steps": 0, "exponent": 3.0}, 30),
    ("warmup_exponential_decay_schedule", {"init_value": 0.0, "peak_value": 1.0,
                                           "warmup_steps": 5, "transition_steps": 3,
                                           "decay_rate": 0.7, "transition_begin": 2,
                                           "staircase": True, "end_value": 0.2}, 30),
    ("warmup_constant_schedule", {"init_value": 0.1, "peak_value": 1.0, "warmup_steps": 6}, 10),
    # optax's linear_schedule with 0 steps is init_value, so this stays at 0.1
    ("warmup_constant_schedule", {"init_value": 0.1, "peak_value": 1.0, "warmup_steps": 0}, 4),
    ("piecewise_constant_schedule", {"init_value": 1.0,
                                     "boundaries_and_scales": {3: 0.5, 7: 0.1}}, 10),
    ("piecewise_constant_schedule", {"init_value": 1.0,
                                     "boundaries_and_scales": {0: 0.5, 4: 3.0}}, 8),
    ("piecewise_constant_schedule", {"init_value": 0.2}, 3),
    ("piecewise_interpolate_schedule", {"interpolate_type": "linear", "init_value": 1.0,
                                        "boundaries_and_scales": {5: 0.5, 12: 0.1}}, 20),
    ("piecewise_interpolate_schedule", {"interpolate_type": "cosine", "init_value": 1.0,
                                        "boundaries_and_scales": {5: 2.0, 12: 0.1}}, 20),
    ("piecewise_interpolate_schedule", {"interpolate_type": "linear", "init_value": 1.0,
                                        "boundaries_and_scales": {0: 2.0, 6: 0.5}}, 10),
    ("cosine_onecycle_schedule", {"transition_steps": 10, "peak_value": 1.0}, 13),
    ("cosine_onecycle_schedule", {"transition_steps": 100, "peak_value": 0.1, "pct_start": 0.25,
                                  "div_factor": 10.0, "final_div_factor": 100.0}, 110),
    ("linear_onecycle_schedule", {"transition_steps": 100, "peak_value": 0.1}, 110),
    # int(0.85 * 3) = 2, int(0.3 * 3) = 0: keys collide differently at tiny lengths
    ("linear_onecycle_schedule", {"transition_steps": 3, "peak_value": 1.0}, 5),
    ("sgdr_schedule", {"cosine_kwargs": [WARMUP_COSINE, {**WARMUP_COSINE, "peak_value": 0.5,
                                                         "decay_steps": 30}]}, 60),
    ("join_schedules", {"schedules": [("linear_schedule", {"init_value": 0.0, "end_value": 1.0,
                                                           "transition_steps": 5}),
                                      ("cosine_decay_schedule", {"init_value": 1.0,
                                                                 "decay_steps": 10}),
                                      ("constant_schedule", {"value": 0.05})],
                        "boundaries": [5, 15]}, 25),
]


def optax_schedule(optax: Any, name: str, kwargs: dict[str, Any]) -> Any:
    if name == "join_schedules":
        subs = [optax_schedule(optax, sub, params) for sub, params in kwargs["schedules"]]
        return optax.join_schedules(subs, kwargs["boundaries"])
    return getattr(optax, name)(**kwargs)


@pytest.mark.parametrize(("name", "kwargs", "n"), CASES,
                         ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CASES)])
def test_from_optax_matches_optax(name: str, kwargs: dict[str, Any], n: int, optax: Any,
                                  x64: Any, same_rates: Any) -> None:
    schedule = optax_schedule(optax, name, kwargs)
    # vmap traces the schedule once with a scalar count (the way an optimizer calls it)
    want = np.asarray(x64.jit(x64.vmap(schedule))(x64.numpy.arange(n)))
    assert want.dtype in (np.float64, np.int64)  # a constant schedule keeps an int
    same_rates(from_optax(name, **kwargs).values(n), want, RTOL)


def test_short_names_and_cli_forms() -> None:
    full = from_optax("piecewise_constant_schedule", init_value=1.0,
                      boundaries_and_scales={3: 0.5})
    assert from_optax("piecewise_constant", init_value=1.0,
                      boundaries_and_scales=[[3, 0.5]]) == full
    assert from_optax("piecewise_constant", init_value=1.0,
                      boundaries_and_scales={"3": 0.5}) == full  # JSON keys
    sgdr = from_optax("sgdr", cosine_kwargs=[{"family": "dict", **WARMUP_COSINE}])
    assert sgdr == from_optax("warmup_cosine_decay", **WARMUP_COSINE)


def test_keywords_are_optaxs(optax: Any) -> None:
    for name, func in OPTAX_SCHEDULES.items():
        theirs = {p.name: p.default for p in inspect.signature(getattr(optax, name)).parameters
                  .values()}
        assert keywords(func) == theirs, name


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("cosine_decay", {"init_value": 1.0, "decay_steps": 0}, "decay_steps = 0"),
    ("cosine_decy", {}, "did you mean 'cosine_decay'"),
    ("warmup_cosine_decay", {**WARMUP_COSINE, "decay_steps": 4}, "must exceed warmup_steps"),
    ("piecewise_constant", {"init_value": 1.0, "boundaries_and_scales": {3: -1.0}},
     "cannot be negative"),
    ("join_schedules", {"schedules": [("constant", {"value": 1.0})], "boundaries": [3]},
     "needs one boundary fewer"),
])
def test_bad_input(name: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_optax(name, **kwargs)
    assert message in str(info.value)
