"""The regret auto states is the benchmark's measurement, looked up by budget."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from lrkit.auto import auto
from lrkit.auto.measured import best_measured_budget, measured_regret
from lrkit.cli.app import main

ROWS = (Path(__file__).resolve().parents[2] / "benchmarks" / "auto" / "archive" / "v1"
        / "calibrate.json")


def test_the_lookup_takes_the_largest_measured_budget_not_above_the_one_given() -> None:
    budgets = sorted({row["budget"] for row in json.loads(ROWS.read_text())})
    for low, high in itertools.pairwise(budgets):
        assert measured_regret(low).budget == low
        assert measured_regret((low + high) / 2).budget == low
    assert measured_regret(budgets[-1] * 10).budget == budgets[-1]
    # below every measurement: the smallest budget measured, the nearest there is
    assert measured_regret(budgets[0] / 2).budget == budgets[0]


def test_the_shipped_numbers_are_the_benchmarks_rows_summarised() -> None:
    rows = json.loads(ROWS.read_text())
    for budget in sorted({row["budget"] for row in rows}):
        mine = [row for row in rows if row["budget"] == budget and not row["refused"]]
        regret = np.array([row["regret"] for row in mine])
        octaves = np.abs([row["octaves"] for row in mine])
        m = measured_regret(budget)
        assert m.selections == len(mine) >= 100
        assert m.tasks == len({(row["task"], row["shape"]) for row in mine}) >= 10
        assert m.mean == pytest.approx(regret.mean())
        assert m.median == pytest.approx(np.median(regret))
        assert m.p90 == pytest.approx(np.percentile(regret, 90))
        assert m.worst == pytest.approx(regret.max())
        assert m.median_octaves == pytest.approx(np.median(octaves))
        assert m.p90_octaves == pytest.approx(np.percentile(octaves, 90))


def test_auto_reports_the_measurement_for_its_budget() -> None:
    rec = auto("breast-cancer-logreg", budget=0.4, curvature=False)
    assert rec.measured == measured_regret(0.4)
    assert rec.expected_regret == rec.measured.mean
    doc = rec.to_dict()
    assert doc["expected_regret"] == rec.measured.mean
    assert doc["measured_regret"]["budget"] == rec.measured.budget
    json.dumps(doc)


def test_the_summary_line_turns_octaves_into_factors() -> None:
    m = measured_regret(1.0)
    line = m.summary()
    assert f"within {2 ** m.median_octaves:.1f}x" in line
    assert f"{2 ** m.p90_octaves:.1f}x in 9 of 10" in line
    assert f"median {m.median:.1%}" in line and f"90th percentile {m.p90:.1%}" in line


def test_cli_says_how_close_the_recommendation_is(capsys) -> None:
    main(["auto", "--task", "breast-cancer-logreg", "--budget", "0.4", "--no-curvature",
          "--no-report"])
    out = " ".join(capsys.readouterr().out.split())
    m = measured_regret(0.4)
    assert "how close:" in out and f"median {m.median:.1%}" in out
    # a cheaper budget than the best measured one is told what paying more buys
    best = best_measured_budget()
    assert best.budget > m.budget and f"--budget {best.budget:g} measured" in out


def test_the_budget_hint_is_not_given_at_the_best_budget(capsys) -> None:
    best = best_measured_budget()
    assert all(best.p90 <= measured_regret(b).p90 for b in (0.5, 1.0, 2.0, 4.0, 8.0))
    main(["auto", "--task", "breast-cancer-logreg", "--budget", f"{best.budget:g}",
          "--no-curvature", "--no-report"])
    out = " ".join(capsys.readouterr().out.split())
    assert "how close:" in out and "for a closer LR" not in out
