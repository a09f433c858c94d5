"""Tests of lrkit.auto: the search pieces exactly, and the pipeline end to end on a tiny task."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import lrkit
from lrkit.auto import (
    Recommendation,
    Trial,
    auto,
    conservative,
    optimizer_prior,
    refine,
    search_downward,
    successive_halving,
)
from lrkit.cli.app import main
from lrkit.errors import ConfigError
from lrkit.tasks import builtin_tasks


def test_refine_finds_the_vertex_of_an_exact_parabola() -> None:
    # loss = 1 + (log2 lr - log2 0.3)^2: the vertex is 0.3, wherever the grid points lie
    lrs = [0.0625, 0.125, 0.25, 0.5, 1.0]
    losses = [1 + (math.log2(lr) - math.log2(0.3)) ** 2 for lr in lrs]
    fit = refine(lrs, losses)
    assert fit.fitted
    assert fit.lr == pytest.approx(0.3, rel=1e-9)
    assert fit.best_grid_lr == 0.25
    assert fit.expected_regret == pytest.approx(losses[2] - 1.0, rel=1e-9)


def test_refine_does_not_extrapolate_past_the_edge_or_through_divergence() -> None:
    edge = refine([0.1, 0.2, 0.4], [1.0, 2.0, 3.0])
    assert not edge.fitted and edge.lr == 0.1
    with_inf = refine([0.1, 0.2, 0.4, 0.8], [2.0, 1.0, 1.5, math.inf])
    assert with_inf.fitted and 0.1 < with_inf.lr < 0.4
    assert math.isnan(refine([0.1], [math.inf]).lr)


def test_prior_reads_the_optimizer_each_builtin_task_builds() -> None:
    tasks = builtin_tasks()
    assert optimizer_prior(tasks["digits-mlp"]()).optimizer == "adam"
    assert optimizer_prior(tasks["diabetes-mlp"]()).optimizer == "adamw"
    assert optimizer_prior(tasks["breast-cancer-logreg"]()).optimizer == "sgd"
    prior = optimizer_prior(tasks["digits-cnn"]())
    assert (prior.optimizer, prior.momentum, prior.adaptive) == ("momentum", 0.9, False)


def test_successive_halving_keeps_the_best_and_counts_its_cost() -> None:
    task = builtin_tasks()["breast-cancer-logreg"]()
    trials = successive_halving(task, [1e-4, 1e-2, 1.0, 1e3], budgets=(0.1, 0.3), keep=(2,))
    first = [t for t in trials if t.rung == 0]
    second = [t for t in trials if t.rung == 1]
    assert [t.lr for t in first] == [1e-4, 1e-2, 1.0, 1e3]
    assert len(second) == 2
    ranked = sorted(first, key=lambda t: t.loss)
    assert {t.lr for t in second} == {ranked[0].lr, ranked[1].lr}
    assert ranked[-1].lr in (1e-4, 1e3)  # both ends of a 7-decade ladder lose
    assert all(t.steps == round(0.3 * task.total_steps) for t in second)
    assert sum(t.cost_runs for t in trials) == pytest.approx(4 * 0.1 + 2 * 0.3, abs=0.02)


def test_search_downward_looks_below_the_first_rungs_winner() -> None:
    task = builtin_tasks()["breast-cancer-logreg"]()
    trials = search_downward(task, [1e-4, 1e-2, 1.0, 1e3], budgets=(0.1, 0.3), below=2)
    first = [t for t in trials if t.rung == 0]
    second = [t for t in trials if t.rung == 1]
    winner = min(first, key=lambda t: t.loss).lr
    assert [t.lr for t in second] == [winner, winner / 2, winner / 4]
    assert winner not in (1e-4, 1e3)
    assert all(t.steps == round(0.3 * task.total_steps) for t in second)
    assert sum(t.cost_runs for t in trials) == pytest.approx(4 * 0.1 + 3 * 0.3, abs=0.02)


def test_search_downward_stops_when_every_candidate_diverges() -> None:
    task = builtin_tasks()["diabetes-mlp"]()  # its MSE goes to inf at these LRs
    trials = search_downward(task, [1e4, 1e8], budgets=(0.05, 0.2))
    assert [t.rung for t in trials] == [0, 0]
    assert not any(math.isfinite(t.loss) for t in trials)


def test_conservative_takes_the_lowest_lr_among_ties() -> None:
    def trial(lr: float, loss: float) -> Trial:
        return Trial(lr=lr, rung=1, steps=10, val_losses=(), loss=loss, cost_runs=0.1)

    trials = [trial(4.0, 0.50), trial(2.0, 0.509), trial(1.0, 0.52), trial(8.0, math.inf)]
    assert conservative(trials, 0.02).lr == 2.0  # 0.509 ties with 0.50; 0.52 does not
    assert conservative(trials, 0.05).lr == 1.0
    assert conservative(trials, 0.0).lr == 4.0
    assert conservative([trial(1.0, math.nan), trial(2.0, math.inf)]) is None


def test_auto_recommends_a_working_lr_within_its_budget() -> None:
    rec = lrkit.auto("breast-cancer-logreg", budget=0.6, curvature=True)
    names = [s.name for s in rec.stages]
    assert names == ["prior", "range test", "curvature", "search", "choice"]
    assert math.isfinite(rec.lr) and rec.lr > 0
    assert rec.cost_runs == pytest.approx(sum(s.cost_runs for s in rec.stages), abs=1e-3)
    assert rec.cost_runs <= 0.6 + 0.05
    # the chosen LR trains without diverging and beats the textbook default
    from lrkit.tasks import train

    task = builtin_tasks()["breast-cancer-logreg"]()
    chosen = train(task, rec.lr, seed=5).final_val_loss
    default = train(task, optimizer_prior(task).lr, seed=5).final_val_loss
    assert np.isfinite(chosen) and chosen < default
    doc = rec.to_dict()
    assert {"lr", "schedule", "cost_runs", "stages"} <= set(doc)
    json.dumps(doc)


def test_auto_rejects_a_tiny_budget() -> None:
    with pytest.raises(ConfigError, match="budget"):
        auto("breast-cancer-logreg", budget=0.1)


def test_cli_writes_json_and_a_report(tmp_path, capsys) -> None:
    report = tmp_path / "report"
    main(["auto", "--task", "breast-cancer-logreg", "--budget", "0.4", "--no-curvature",
          "--report", str(report), "--json"])  # success returns normally
    doc = json.loads(capsys.readouterr().out)
    assert doc["lr"] > 0 and doc["report"] == str(report / "index.html")
    page = (report / "index.html").read_text()
    assert "Train with peak LR" in page
    for png in ("range_test.png", "candidates.png", "schedule.png"):
        assert (report / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bad_budget_is_one_line_and_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["auto", "--task", "breast-cancer-logreg", "--budget", "-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lrkit: error: budget = -1.0") and "\n" not in err


def test_report_folder_that_cannot_be_created_is_a_config_error(tmp_path) -> None:
    from lrkit.report.auto_report import write_report

    blocker = tmp_path / "file"
    blocker.write_text("x")
    rec = Recommendation(task="t", lr=0.1, schedule={"family": "constant", "base_lr": 0.1},
                         warmup_steps=0, cost_runs=0.0, stages=(), trials=())
    with pytest.raises(ConfigError, match="cannot create the folder"):
        write_report(rec, blocker / "report")
