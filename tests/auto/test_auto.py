"""auto end to end on tiny real tasks: no refusals, the budget fit, the design, the CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

import lrkit
from lrkit.auto import DEFAULT_DESIGN, Design, Recommendation, Stage, auto, fit_to_budget
from lrkit.cli.app import main
from lrkit.errors import ConfigError
from lrkit.tasks import train

from ._helpers import regression_task


def test_the_design_round_trips_and_rejects_unknown_or_bad_knobs() -> None:
    data = DEFAULT_DESIGN.to_dict()
    assert Design.from_dict(json.loads(json.dumps(data))) == DEFAULT_DESIGN
    changed = Design.from_dict({**data, "blocks": 3, "lean": 0.5})
    assert (changed.blocks, changed.lean) == (3, 0.5) and changed != DEFAULT_DESIGN
    with pytest.raises(ConfigError, match="unknown knob"):
        Design.from_dict({"blocsk": 2})
    with pytest.raises(ConfigError, match=r"design\.blocks = 0"):
        Design(blocks=0)
    with pytest.raises(ConfigError, match=r"design\.lean = 'x'"):
        Design(lean="x")  # type: ignore[arg-type]


def test_the_budget_fit_drops_stages_and_says_so_rather_than_refusing() -> None:
    big = fit_to_budget(DEFAULT_DESIGN, 5000, 1.0)
    assert big.dropped == () and big.design.blocks == DEFAULT_DESIGN.blocks
    short = fit_to_budget(DEFAULT_DESIGN, 92, 1.0)
    assert short.rung_steps >= DEFAULT_DESIGN.min_rung_steps
    assert any("range test shortened" in line for line in short.dropped)
    assert not short.design.curvature
    tiny = fit_to_budget(DEFAULT_DESIGN, 10, 0.05)
    assert tiny.rung_steps >= 2 and tiny.design.blocks == 1 and not tiny.design.range_test
    assert any("too small for this task to search well" in line for line in tiny.dropped)


@pytest.mark.slow  # real training: the whole auto pipeline
@pytest.mark.parametrize("epochs", [1, 6])  # 16 and 96 updates a run
def test_auto_runs_at_its_defaults_on_a_very_short_task(epochs: int) -> None:
    task = dataclasses.replace(regression_task(), epochs=epochs)
    rec = auto(task)
    assert math.isfinite(rec.lr) and rec.lr > 0
    assert all(isinstance(s, Stage) for s in rec.stages)
    assert rec.cost_runs == pytest.approx(sum(s.cost_runs for s in rec.stages), abs=1e-3)
    assert rec.cost_runs <= 2.5  # the default max budget, and a range test's overshoot
    budget = rec.stage("budget")
    assert budget is not None and "dropped for the budget" in budget.summary
    assert any(n.startswith("short budget:") for n in rec.notes)
    assert not train(task, rec.lr, seed=7).diverged


@pytest.mark.slow  # real training: the whole auto pipeline
def test_the_users_regression_mlp_pick_is_not_decades_off_the_grid_best() -> None:
    # issue 13's case in miniature: SGD-momentum, cosine, MSE; the old auto picked two
    # decades below the best LR (here its range test alone suggests 1e-6: the ladder has to
    # climb four decades to find the bowl)
    task = regression_task(epochs=8)
    grid = [0.01 * 2 ** (k / 2) for k in range(0, 13)]  # 0.01 .. 0.64
    seeds = (11, 12)
    losses = [sum(train(task, lr, s).final_val_loss for s in seeds) / 2 for lr in grid]
    best = grid[min(range(len(grid)), key=lambda i: losses[i])]
    rec = auto(task)
    assert best / 10 <= rec.lr <= best * 3, (rec.lr, best)


def test_the_recommendation_keeps_the_public_fields_compare_uses() -> None:
    rec = lrkit.auto(regression_task(epochs=2), budget=0.5, curvature=False)
    assert isinstance(rec, Recommendation)
    assert rec.schedule["family"] == "cosine" and rec.schedule["peak_lr"] == rec.lr
    assert rec.measured is not None and rec.expected_regret == rec.measured.mean
    doc = rec.to_dict()
    assert {"lr", "schedule", "cost_runs", "stages", "notes", "design", "seconds"} <= set(doc)
    json.dumps(doc)
    assert Design.from_dict(doc["design"]).blocks >= 1


def test_a_bad_budget_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match="budget = -1"):
        auto(regression_task(), budget=-1)
    with pytest.raises(ConfigError, match=r"max_budget = 0\.5: must be >= budget"):
        auto(regression_task(), budget=1.0, max_budget=0.5)


@pytest.mark.slow  # real training: the whole auto pipeline
def test_cli_writes_json_and_a_report(tmp_path, capsys) -> None:
    report = tmp_path / "report"
    main(["auto", "--task", "breast-cancer-logreg", "--budget", "1", "--no-curvature",
          "--report", str(report), "--json"])  # success returns normally
    doc = json.loads(capsys.readouterr().out)
    assert doc["lr"] > 0 and doc["report"] == str(report / "index.html")
    page = (report / "index.html").read_text()
    assert "Train with peak LR" in page
    for png in ("range_test.png", "candidates.png", "schedule.png"):
        assert (report / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_prints_the_notes_and_takes_max_budget(capsys) -> None:
    main(["auto", "--task", "breast-cancer-logreg", "--budget", "0.3", "--max-budget", "0.6",
          "--no-report"])
    out = " ".join(capsys.readouterr().out.split())
    assert "recommended peak LR" in out and "how close:" in out


def test_cli_curvature_flag_switches_the_stage_on_and_off(capsys) -> None:
    # off as shipped; --curvature turns it on, --no-curvature keeps it off
    stages = {}
    for flag in ("--curvature", "--no-curvature", None):
        main(["auto", "--task", "breast-cancer-logreg", "--budget", "1", "--no-report",
              "--json", *([flag] if flag else [])])
        stages[flag] = [s["name"] for s in json.loads(capsys.readouterr().out)["stages"]]
    assert "curvature" in stages["--curvature"]
    assert "curvature" not in stages["--no-curvature"] and "curvature" not in stages[None]


def test_cli_bad_budget_is_one_line_and_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["auto", "--task", "breast-cancer-logreg", "--budget", "-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lrkit: error: --budget = -1.0") and "\n" not in err


def test_cli_design_knobs_reach_the_pipeline_and_a_typo_is_one_line(capsys) -> None:
    main(["auto", "--task", "breast-cancer-logreg", "--budget", "0.3", "--no-report",
          "--json", "--design", "confirm_edge=true", "--design", "confirm_rung=0.3"])
    design = json.loads(capsys.readouterr().out)["design"]
    assert design["confirm_edge"] is True and design["confirm_rung"] == 0.3
    for bad, says in (("confirm_edg=true", "unknown knob(s) confirm_edg"),
                      ("confirm_edge", "must be KNOB=VALUE"),
                      ("confirm_rung=2", "design.confirm_rung = 2")):
        with pytest.raises(SystemExit) as exit_info:
            main(["auto", "--task", "breast-cancer-logreg", "--design", bad])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert says in err and "\n" not in err


def test_report_folder_that_cannot_be_created_is_a_config_error(tmp_path) -> None:
    from lrkit.report.auto_report import write_report

    blocker = tmp_path / "file"
    blocker.write_text("x")
    rec = Recommendation(task="t", lr=0.1, schedule={"family": "constant", "base_lr": 0.1},
                         warmup_steps=0, cost_runs=0.0, stages=(), trials=())
    with pytest.raises(ConfigError, match="cannot create the folder"):
        write_report(rec, blocker / "report")
