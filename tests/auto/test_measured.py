"""The regret auto states is the zoo's held-out measurement: test and the holdouts, pooled
(benchmarks/auto/study.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lrkit.auto import auto
from lrkit.auto.measured import best_measured_budget, measured_regret
from lrkit.cli.app import main

ROOT = Path(__file__).resolve().parents[2]
# the splits the study pooled, as it recorded them beside the numbers
SPLITS = json.loads((ROOT / "src" / "lrkit" / "auto" / "measured_regret.json").read_text())[
    "splits"]
RESULTS = [ROOT / "benchmarks" / "auto" / f"results_{split}.json" for split in SPLITS]


def _quantile(values: list[float], q: float) -> float:
    # the study's own interpolation (an inf at the top stays inf)
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    a, b = ordered[lo], ordered[hi]
    if not math.isfinite(a) or not math.isfinite(b):
        return b if pos - lo > 0 else a
    return a + (b - a) * (pos - lo)


def test_the_shipped_numbers_are_the_held_out_splits_exact_scores_summarised() -> None:
    docs = [json.loads(path.read_text()) for path in RESULTS]
    assert len({doc["auto_design"] for doc in docs}) == 1  # one design on every split
    rows = [r for doc in docs for r in doc["rows"]
            if r["method"] == "lrkit auto" and r.get("exact") is not None]
    m = measured_regret(1.0)
    regret = [float(r["exact"]) for r in rows]
    assert {"test", "holdout"} <= set(SPLITS)
    assert m.selections == len(rows) >= 25 + 10
    assert m.tasks == len({r["pair"] for r in rows})
    assert m.median == pytest.approx(_quantile(regret, 0.5))
    assert m.p90 == pytest.approx(_quantile(regret, 0.9))
    assert m.worst == pytest.approx(max(regret))
    octaves = [r["octaves"] for r in rows]
    assert m.median_octaves == pytest.approx(_quantile(octaves, 0.5))


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
    assert "held-out zoo task/schedule pairs" in line
    assert f"within {2 ** m.median_octaves:.1f}x" in line
    assert f"{2 ** m.p90_octaves:.1f}x in 9 of 10" in line
    assert f"median {m.median:.1%}" in line and f"90th percentile {m.p90:.1%}" in line


def test_cli_says_how_close_the_recommendation_is(capsys) -> None:
    main(["auto", "--task", "breast-cancer-logreg", "--budget", "0.4", "--no-curvature",
          "--no-report"])
    out = " ".join(capsys.readouterr().out.split())
    m = measured_regret(0.4)
    assert "how close:" in out and f"median {m.median:.1%}" in out
    # one measured budget: no hint to pay for another
    assert best_measured_budget().budget == m.budget and "for a closer LR" not in out


def test_the_top_edge_miss_rates_are_the_held_out_rows_counted() -> None:
    rows = [r for path in RESULTS for r in json.loads(path.read_text())["rows"]
            if r["method"] == "lrkit auto" and r.get("exact") is not None]
    m = measured_regret(1.0)
    top = [r["exact"] > m.miss_regret for r in rows if r["info"]["ladder_best"] == "high"]
    rest = [r["exact"] > m.miss_regret for r in rows if r["info"]["ladder_best"] != "high"]
    assert top and rest
    assert m.top_edge_miss == pytest.approx(sum(top) / len(top))
    assert m.other_miss == pytest.approx(sum(rest) / len(rest))
