"""to_optax: a jnp function of the count, equal to the schedule under jax.jit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import to_optax
from lrkit.schedules import Cyclic, parse

from .samples import SAMPLES


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_to_optax_under_jit_float64(name: str, x64: Any, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    fn = x64.jit(x64.vmap(to_optax(schedule)))
    got = np.asarray(fn(x64.numpy.arange(300)))
    assert got.dtype == np.float64
    same_rates(got, schedule.values(300), 1e-12)


def test_float32_without_x64(optax: Any, same_rates: Any) -> None:
    import jax

    schedule = SAMPLES["onecycle"]
    got = np.asarray(jax.jit(jax.vmap(to_optax(schedule)))(jax.numpy.arange(100)))
    assert got.dtype == np.float32
    same_rates(got, schedule.values(100), 1e-6)


def test_in_an_optax_optimizer(optax: Any, x64: Any) -> None:
    schedule = parse("cosine(peak_lr=0.1, total_steps=20, warmup_steps=4)")
    jnp = x64.numpy
    opt = optax.sgd(to_optax(schedule))
    params = jnp.zeros(2)
    state = opt.init(params)

    @x64.jit
    def update(params: Any, state: Any) -> tuple[Any, Any]:
        updates, state = opt.update(jnp.ones(2), state, params)
        return optax.apply_updates(params, updates), state

    for _ in range(12):
        params, state = update(params, state)
    # plain SGD with gradient 1: the parameters moved by minus the rates of updates 0..11
    np.testing.assert_allclose(np.asarray(params), -schedule.values(12).sum(), rtol=1e-12)


def test_lookup_table(x64: Any, same_rates: Any) -> None:
    mine = Cyclic(0.01, 0.1, step_size_up=3, scale_fn=lambda c: 0.5 ** c)
    with pytest.raises(ConfigError, match="scale_fn"):
        to_optax(mine)
    fn = x64.jit(x64.vmap(to_optax(mine, table_steps=50)))
    got = np.asarray(fn(x64.numpy.arange(60)))
    same_rates(got[:50], mine.values(50), 1e-15)
    assert np.all(got[50:] == got[49])  # no formula: the last value is held
    cosine = SAMPLES["cosine"]
    got = np.asarray(x64.jit(x64.vmap(to_optax(cosine, table_steps=40)))(x64.numpy.arange(200)))
    same_rates(got, cosine.values(200), 1e-12)  # the formula takes over after the table
