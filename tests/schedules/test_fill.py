"""Filling a schedule shape with a learning rate (lrkit.schedules.fill)."""

from __future__ import annotations

import pytest

from lrkit.errors import ConfigError
from lrkit.schedules import families, fill_schedule, lr_parameters, parse, parse_spec

from ._examples import EXAMPLES


def _task(schedule: str):
    from lrkit.tasks import Task

    return Task("toy", model=object, optimizer=lambda p, lr: None, loss_fn=lambda o, t: 0,
                train_data=list(range(110)), val_data=list(range(10)), batch_size=1,
                epochs=1, schedule=schedule)


def test_a_task_with_a_linear_decay_and_warmup_is_accepted():
    # `linear(...)` parses as a schedule and the calculator recommends "decay linear": a
    # Task with that shape used to be refused with "no single LR parameter"
    task = _task("linear(warmup_steps=10)")
    rates = task.lr_schedule(0.1).values(111)
    assert rates[0] == 0.0 and rates[10] == pytest.approx(0.1)
    assert rates[60] == pytest.approx(0.05) and rates[110] == pytest.approx(0.0)
    assert fill_schedule("linear(end_lr=0.01)", 0.2, 100)(100) == pytest.approx(0.01)


def test_every_height_names_a_parameter_of_its_family_or_alias():
    from lrkit.schedules.base import parameter_names

    for name, param in lr_parameters().items():
        assert param in parameter_names(name)[0], name


@pytest.mark.parametrize("family", sorted(set(lr_parameters()) & set(EXAMPLES)))
def test_the_chosen_lr_lands_in_the_familys_own_height(family):
    shape = parse_spec(EXAMPLES[family][0])
    param = lr_parameters()[family]
    shape.pop(param)
    shape.pop("total_steps", None)
    spec = fill_schedule(shape, 0.25, 1000).to_spec()
    assert spec[param] == 0.25
    assert spec.get("total_steps", 1000) == 1000


def test_a_family_without_a_single_height_is_refused_by_name():
    fixed = sorted(set(families()) - set(lr_parameters()))
    assert "noam" in fixed and "piecewise" in fixed
    with pytest.raises(ConfigError, match=r"family = 'noam': has no single LR parameter"):
        fill_schedule("noam(d_model=512, warmup_steps=10)", 0.1, 10)


def test_tasks_re_exports_the_same_function():
    from lrkit.tasks import LR_PARAMETER
    from lrkit.tasks import fill_schedule as from_tasks

    assert from_tasks is fill_schedule
    assert {k: v for k, v in lr_parameters().items() if k in families()} == LR_PARAMETER
    assert parse("linear(init_lr=1, total_steps=4)")(2) == 0.5
