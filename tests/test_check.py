"""lrkit._check: one set of value checks; INPUT names follow the surface, PART names do not."""

from __future__ import annotations

from pathlib import Path

import pytest

import lrkit
from lrkit._check import INPUT, PART
from lrkit.errors import SURFACES, ConfigError
from lrkit.rules import CalcInput
from lrkit.schedules import parse


def _error(check, *args, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        check(*args, **kwargs)
    return info.value


@pytest.mark.parametrize(("method", "args", "kwargs", "text"), [
    ("count", (2.5,), {}, "= 2.5: must be a whole number; pass an integer >= 1"),
    ("count", (True,), {"example": "256"}, "= True: must be an integer; pass e.g. 256"),
    ("count", (0,), {"minimum": 1}, "= 0: must be >= 1; pass an integer >= 1"),
    ("real", ("x",), {}, "= 'x': must be a number; pass a finite float"),
    ("real", (10 ** 400,), {}, "= '100000000000...': is too large; pass a finite float"),
    ("positive", (0,), {"example": "0.1"}, "= 0: must be positive; pass a value > 0, e.g. 0.1"),
    ("fraction", (1.0,), {"high_open": True}, "= 1.0: must lie in [0, 1); pass a fraction in "
                                              "[0, 1)"),
    ("learning_rate", (-1,), {}, "= -1: a learning rate cannot be negative; pass a value >= 0"),
])
def test_both_kinds_of_name_share_one_rule(method, args, kwargs, text) -> None:
    part = _error(getattr(PART, method), "cosine.warmup", *args, **kwargs)
    given = _error(getattr(INPUT, method), "batch_size", *args, **kwargs)
    assert str(part) == "cosine.warmup " + text
    assert str(given) == "batch_size " + text
    assert (part.parameter, part.rule, given.parameter, given.rule) == (
        "cosine.warmup", given.rule, "batch_size", part.rule)


def test_an_input_is_spelled_per_surface_and_a_part_is_not() -> None:
    given = _error(INPUT.count, "total_steps", 0)
    part = _error(PART.count, "total_steps", 0)
    assert [given.render(s).split(" = ")[0] for s in SURFACES] == [
        "total_steps", "--total-steps", "total_steps"]
    assert {part.render(s) for s in SURFACES} == {"total_steps = 0: must be >= 1; "
                                                  "pass an integer >= 1"}


def test_the_calculator_and_the_schedules_answer_the_same_rule_the_same_way() -> None:
    from_calc = _error(CalcInput, batch_size=12.5)
    from_spec = _error(parse, "cosine(peak_lr=1, total_steps=10, warmup_steps=2.5)")
    assert from_calc.rule == from_spec.rule == "must be a whole number"


def test_lookup_forgives_case_and_suggests_a_close_name() -> None:
    assert INPUT.lookup("optimizer", "Adam_W", ["sgd", "adam-w"]) == "adam-w"
    assert _error(INPUT.lookup, "optimizer", "adan", ["sgd", "adam"]).fix == "did you mean 'adam'?"


def test_there_is_one_check_module() -> None:
    src = Path(lrkit.__file__).parent
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("_check.py")) == ["_check.py"]


# Sites that wrote their own integer/float checks now use these; each names the Python
# parameter from the library and the command-line flag from the CLI (where they differ).
def _sites():
    from lrkit.curvature.batches import fixed_batches
    from lrkit.curvature.report import measure_task
    from lrkit.rangetest.runner import check_sweep_args
    from lrkit.tasks import load_task
    from lrkit.tasks.training import train
    from lrkit.tune.study import _check_args

    task = load_task("digits-mlp")
    return [
        (lambda: _check_args("tpe", "none", "epochs", 0, 3, 3), "n_trials = 0", "--trials = 0"),
        (lambda: _check_args("tpe", "none", "epochs", 5, 3, 1), "reduction_factor = 1",
         "--eta = 1"),
        (lambda: fixed_batches(list(range(10)), 4, 0), "n_batches = 0", "--batches = 0"),
        (lambda: measure_task(task, warm_steps=-1), "warm_steps = -1", "--warm-steps = -1"),
        (lambda: measure_task(task, lr_suggestion=0.0), "lr_suggestion = 0.0",
         "--lr-suggestion = 0.0"),
        (lambda: check_sweep_args(1e-7, 10, 4, "exp"), "steps = 4", "--steps = 4"),
        (lambda: measure_task(task, warm_steps=3), "warm_steps = 3: needs an LR for the warm "
         "steps; pass warm_lr (or lr_suggestion)", "--warm-steps = 3"),
        (lambda: train(task, -1.0), "lr = -1.0", "--lr = -1.0"),
        (lambda: train(task, 0.1, 0, epochs=2.0), "epochs = 2.0: must be an integer",
         "--epochs = 2.0"),
    ]


@pytest.mark.parametrize("index", range(9))
def test_a_migrated_check_names_the_parameter_per_surface(index: int) -> None:
    call, python, cli = _sites()[index]
    err = _error(call)
    assert str(err).startswith(python) and err.render("web").startswith(python)
    assert err.render("cli").startswith(cli)
    assert "; pass" in str(err)
