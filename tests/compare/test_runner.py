"""One unit: a schedule row reproduces ``lrkit.tasks.train``; adaptive rows own their LR."""

from __future__ import annotations

import dataclasses
import math

import pytest

from lrkit.compare import entries
from lrkit.compare.runner import run_unit
from lrkit.tasks import load_task, train


@pytest.fixture(scope="module")
def logreg():
    return dataclasses.replace(load_task("breast-cancer-logreg"), epochs=2)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_a_schedule_row_equals_train_exactly(logreg, schedule: str) -> None:
    task = dataclasses.replace(logreg, schedule=schedule)
    row = entries([schedule], [])[0]
    rec = run_unit(task, row, 0.05, seed=3)
    ref = train(task, 0.05, seed=3)
    assert rec["final_val_loss"] == ref.final_val_loss
    assert rec["val_losses"] == ref.val_losses and rec["steps"] == ref.steps
    assert rec["curve"]["lr"] == pytest.approx(
        task.lr_schedule(0.05).values(ref.steps).tolist())
    assert rec["metric_name"] == "accuracy" and 0.5 < rec["metric"] <= 1.0


def test_the_hypergradient_row_adapts_its_own_lr(logreg) -> None:
    row = entries([], ["adam-hd"])[0]
    rec = run_unit(logreg, row, row.optimizer.default_lr, seed=0)
    lrs = rec["curve"]["lr"]
    assert lrs[0] != lrs[-1]  # train() would have reset it every update
    assert math.isfinite(rec["final_val_loss"])


def test_prodigy_reports_its_step_size_and_schedule_free_validates_in_eval_mode(logreg) -> None:
    pytest.importorskip("prodigyopt")
    pytest.importorskip("schedulefree")
    prodigy, sf = entries([], ["prodigy", "schedule-free"])
    rec = run_unit(logreg, prodigy, 1.0, seed=0)
    assert rec["curve"]["lr"][0] < rec["curve"]["lr"][-1]  # d grows from d0 = 1e-6
    rec_sf = run_unit(logreg, sf, 0.01, seed=0)
    assert math.isfinite(rec_sf["final_val_loss"])


def test_a_diverged_run_is_infinite_and_stops(logreg) -> None:
    task = load_task("diabetes-mlp")
    rec = run_unit(dataclasses.replace(task, epochs=2), entries(["constant"], [])[0], 1e4, 0)
    assert rec["diverged"] and rec["final_val_loss"] == math.inf and rec["metric"] is None
