"""auto never runs first rungs shorter than MIN_RUNG_STEPS: it refuses, or the curvature yields."""

from __future__ import annotations

import dataclasses
import math

import pytest

from lrkit.auto import auto, pipeline
from lrkit.auto.pipeline import MIN_RUNG_STEPS, minimum_budget
from lrkit.cli.app import main
from lrkit.errors import ConfigError
from lrkit.tasks import builtin_tasks


def _warmup_cosine_task():
    task = builtin_tasks()["breast-cancer-logreg"]()
    return dataclasses.replace(task, schedule="cosine(warmup_steps=0.05)")


def test_the_minimum_is_the_range_test_plus_a_search_of_three_update_first_rungs() -> None:
    task = builtin_tasks()["breast-cancer-logreg"]()
    # 40-update sweep, then 6 LRs x 3 updates and 3 LRs x 12 updates, of 260 updates a run
    assert minimum_budget(task) == pytest.approx((40 + 6 * 3 + 3 * 12) / 260)
    assert MIN_RUNG_STEPS == 3


def test_a_budget_below_the_minimum_is_refused_before_anything_trains(monkeypatch) -> None:
    def no_training(*args, **kwargs):
        raise AssertionError("auto trained before refusing the budget")

    monkeypatch.setattr(pipeline, "_range_test", no_training)
    task = _warmup_cosine_task()
    with pytest.raises(ConfigError) as err:
        auto(task, budget=0.31)
    message = str(err.value)
    assert message.startswith("budget = 0.31: too small for task 'breast-cancer-logreg'")
    least = math.ceil(minimum_budget(task) * 100) / 100
    assert message.endswith(f"pass a budget of at least {least:g}") and "\n" not in message


def test_the_least_budget_it_names_is_accepted_and_keeps_the_rungs_whole() -> None:
    task = _warmup_cosine_task()
    least = math.ceil(minimum_budget(task) * 100) / 100
    rec = auto(task, budget=least, curvature=False)
    assert min(t.steps for t in rec.trials) >= MIN_RUNG_STEPS
    assert rec.cost_runs <= least + 0.05


def test_the_curvature_yields_when_it_would_starve_the_search() -> None:
    task = builtin_tasks()["breast-cancer-logreg"]()
    # 0.45 runs: the range test (0.15) and 12 HVPs (0.19) would leave 0.10 < 0.21
    rec = auto(task, budget=0.45)
    curvature = next(s for s in rec.stages if s.name == "curvature")
    assert curvature.summary.startswith("skipped: its HVPs") and curvature.cost_runs == 0
    assert min(t.steps for t in rec.trials if t.rung == 0) >= MIN_RUNG_STEPS
    # with room for both, it runs as before
    rec = auto(task, budget=1.0)
    curvature = next(s for s in rec.stages if s.name == "curvature")
    assert curvature.cost_runs > 0 and "sharpness" in curvature.summary


def test_cli_names_the_budget_not_the_schedule_when_the_budget_is_too_small(
        tmp_path, capsys) -> None:
    # before the floor, a warmup task at a tiny budget died on its compressed schedule:
    # "cosine.warmup_steps = 1: must be less than total_steps=1"
    factory = tmp_path / "mytask.py"
    factory.write_text(
        "import dataclasses\nfrom lrkit.tasks import builtin_tasks\n\n\n"
        "def make_task():\n"
        "    task = builtin_tasks()['breast-cancer-logreg']()\n"
        "    return dataclasses.replace(task, schedule='cosine(warmup_steps=0.05)')\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["auto", "--task", f"{factory}:make_task", "--budget", "0.3", "--no-report"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lrkit: error: budget = 0.3: too small") and "\n" not in err
    assert "warmup_steps" not in err
