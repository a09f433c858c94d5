"""from_hf against transformers.get_scheduler, stepped on a real optimizer (float64, 1e-12)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import from_hf, from_library
from lrkit.schedules import ReduceOnPlateau

RTOL = 1e-12

CASES = [
    # (name, lr, warmup, total, scheduler_specific_kwargs, updates)
    ("constant", 0.1, None, None, {}, 5),
    ("constant_with_warmup", 0.1, 5, None, {}, 12),
    ("constant_with_warmup", 0.1, 0, None, {}, 3),
    ("linear", 0.1, 10, 50, {}, 60),
    ("linear", 0.1, 0, 20, {}, 25),
    ("linear", 0.1, 8, 8, {}, 12),  # no decay left: 0 after the warmup
    ("cosine", 0.1, 10, 50, {}, 140),  # past the end it rises again
    ("cosine", 0.1, 0, 30, {"num_cycles": 1.5}, 70),
    ("cosine", 0.1, 4, 4, {}, 10),  # max(1, N - W) = 1
    ("cosine_with_restarts", 0.1, 5, 45, {}, 60),
    ("cosine_with_restarts", 0.1, 5, 35, {"num_cycles": 3}, 50),
    ("cosine_with_restarts", 0.1, 0, 29, {"num_cycles": 4}, 40),  # 29 / 4: fractional cycles
    ("polynomial", 0.1, 10, 50, {}, 60),  # lr_end = 1e-7 after the end
    ("polynomial", 0.1, 5, 25, {"lr_end": 0.01, "power": 2.0}, 40),
    ("polynomial", 0.1, 10, 6, {"lr_end": 0.001}, 15),
    ("inverse_sqrt", 0.1, 10, None, {}, 80),
    ("inverse_sqrt", 0.1, 10, None, {"timescale": 4}, 40),
    ("inverse_sqrt", 0.1, 0, None, {}, 20),  # timescale 10,000
    ("cosine_with_min_lr", 0.1, 5, 40, {"min_lr": 0.01}, 100),
    ("cosine_with_min_lr", 0.1, 0, 40, {"min_lr_rate": 0.2, "num_cycles": 1.0}, 60),
    ("cosine_warmup_with_min_lr", 0.1, 5, 40, {"min_lr_rate": 0.1}, 90),  # floor at N - 1
    ("cosine_warmup_with_min_lr", 0.1, 6, 40, {"min_lr": 0.005, "warmup_lr_rate": 0.2}, 50),
    ("cosine_warmup_with_min_lr", 0.1, 1, 20, {"min_lr_rate": 0.0}, 30),
    ("warmup_stable_decay", 0.1, 5, 40, {"num_decay_steps": 10}, 50),
    ("warmup_stable_decay", 0.1, 5, 40, {"num_decay_steps": 10, "warmup_type": "cosine",
                                         "decay_type": "linear", "min_lr_ratio": 0.1}, 50),
    ("warmup_stable_decay", 0.1, 6, 40, {"num_decay_steps": 12, "warmup_type": "1-sqrt",
                                         "decay_type": "1-sqrt", "min_lr_ratio": 0.05}, 50),
    ("warmup_stable_decay", 0.1, 4, None, {"num_decay_steps": 9, "num_stable_steps": 7,
                                           "num_cycles": 1.0, "min_lr_ratio": 0.2}, 30),
    ("warmup_stable_decay", 0.1, 0, 20, {"num_decay_steps": 0}, 25),
]


@pytest.mark.parametrize(("name", "lr", "warmup", "total", "kwargs", "n"), CASES,
                         ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CASES)])
def test_from_hf_matches_get_scheduler(name: str, lr: float, warmup: int | None,
                                       total: int | None, kwargs: dict[str, Any], n: int,
                                       transformers: Any, torch_rates: Any,
                                       same_rates: Any) -> None:
    want = torch_rates(lambda opt: transformers.get_scheduler(
        name, opt, num_warmup_steps=warmup, num_training_steps=total,
        scheduler_specific_kwargs=kwargs), n, lr=lr)
    same_rates(from_hf(name, lr, warmup, total, **kwargs).values(n), want, RTOL)


def test_cosine_past_the_end_rises_but_restarts_snap_to_zero() -> None:
    cosine = from_hf("cosine", 1.0, 2, 6).values(9)
    restarts = from_hf("cosine_with_restarts", 1.0, 2, 6).values(9)
    assert cosine[6] == pytest.approx(0.0, abs=1e-15)
    assert cosine[7] == pytest.approx(0.1464466, rel=1e-6)
    assert restarts[6:].tolist() == [0.0, 0.0, 0.0]


def test_every_get_scheduler_name_is_covered(transformers: Any) -> None:
    names = {t.value for t in transformers.SchedulerType}
    covered = {c[0] for c in CASES} | {"reduce_lr_on_plateau"}
    assert names - covered == {"greedy"}  # GreedyLR also raises the rate: not a schedule


def test_reduce_lr_on_plateau_is_the_torch_state_machine() -> None:
    plateau = from_hf("reduce_lr_on_plateau", 0.1, factor=0.5, patience=1)
    assert isinstance(plateau, ReduceOnPlateau)
    assert plateau.simulate([1.0, 1.0, 1.0, 1.0]).tolist() == [0.1, 0.1, 0.1, 0.05]
    with pytest.raises(ConfigError, match="follows a validation metric"):
        from_library("hf", "reduce_lr_on_plateau", {"lr": 0.1})


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("cosine", 0.1, 5), {}, "num_training_steps: missing"),
    (("linear", 0.1), {}, "num_warmup_steps: missing"),
    (("cosin", 0.1, 5, 10), {}, "did you mean 'cosine'"),
    (("cosine", 0.1, 5, 10), {"num_cycle": 1}, "did you mean 'num_cycles'"),
    (("polynomial", 0.1, 5, 10), {"lr_end": 0.2}, "must be below lr=0.1"),
    (("cosine_with_min_lr", 0.1, 5, 10), {}, "min_lr_rate: missing"),
    (("cosine_with_min_lr", 0.1, 5, 10), {"min_lr": 0.01, "min_lr_rate": 0.1}, "only one"),
    (("cosine_warmup_with_min_lr", 0.1, 0, 10), {"min_lr_rate": 0.1}, "one step into"),
    (("warmup_stable_decay", 0.1, 5, 10), {"num_decay_steps": 8}, "is below num_warmup_steps"),
])
def test_bad_input(args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_hf(*args, **kwargs)
    assert message in str(info.value)


def test_floor_reads_the_optimizer_default_lr() -> None:
    """min_lr is divided by optimizer.defaults["lr"]: the floor is absolute for the group
    whose lr is the default, a ratio for the others (to_torch keeps that ratio)."""
    s = from_hf("cosine_with_min_lr", 0.2, 0, 10, min_lr=0.02)
    assert np.isclose(s(10), 0.02)
