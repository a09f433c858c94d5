"""The horizon correction of auto's choice and the cap on its rungs' length."""

from __future__ import annotations

import itertools
import math

import pytest

from lrkit.auto import auto
from lrkit.auto.pipeline import (
    HORIZON_ALPHA,
    HORIZON_MIN_FRACTION,
    MAX_RUNG,
    _rung_budgets,
    horizon_correction,
)
from lrkit.tasks import builtin_tasks


def test_horizon_correction_is_one_for_a_whole_run_or_longer() -> None:
    assert horizon_correction(1.0) == 1.0
    assert horizon_correction(1.7) == 1.0
    assert horizon_correction(50.0) == 1.0


def test_horizon_correction_shrinks_as_the_rung_grows() -> None:
    fractions = [0.001, 0.01, 1 / 16, 0.1, 0.18, 0.25, 0.5, 0.8, 0.99, 1.0, 2.0]
    values = [horizon_correction(f) for f in fractions]
    assert all(a >= b for a, b in itertools.pairwise(values))
    # strictly inside the measured range, flat outside it (no extrapolation below 1/16)
    inside = [horizon_correction(f) for f in (1 / 16, 0.1, 0.25, 0.5, 0.99)]
    assert all(a > b for a, b in itertools.pairwise(inside))
    assert horizon_correction(0.001) == horizon_correction(HORIZON_MIN_FRACTION)


def test_horizon_correction_at_the_default_budgets_fraction() -> None:
    # at budget 1 the second rung runs 9-19% of a run: about the old constant 2
    assert horizon_correction(0.18) == pytest.approx(2.0 ** (HORIZON_ALPHA * math.log2(1 / 0.18)))
    assert 1.7 < horizon_correction(0.18) < 2.0
    assert 1.75 < horizon_correction(0.19) < horizon_correction(0.09) < 2.4
    # a quarter of a run: 2 * alpha octaves
    assert math.log2(horizon_correction(0.25)) == pytest.approx(2 * HORIZON_ALPHA)


@pytest.mark.parametrize("bad", [0.0, -0.5, math.nan, math.inf])
def test_horizon_correction_rejects_a_nonsense_fraction(bad: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        horizon_correction(bad)


def test_rung_budgets_spend_what_is_left_until_the_cap() -> None:
    b0, b1 = _rung_budgets(0.8, 6, 2)
    assert b1 == pytest.approx(4 * b0)
    assert 6 * b0 + 3 * b1 == pytest.approx(0.8)
    b0, b1 = _rung_budgets(3.8, 6, 2)  # about what budget 4 leaves: the rung at 84% of a run
    assert b1 < MAX_RUNG and 6 * b0 + 3 * b1 == pytest.approx(3.8)
    assert _rung_budgets(4.5, 6, 2) == pytest.approx((0.25, 1.0))
    assert _rung_budgets(40.0, 6, 2) == pytest.approx((0.25, 1.0))  # capped: 4.5 runs at most


def test_a_large_budget_runs_no_rung_past_one_run_and_says_what_it_spent() -> None:
    task = builtin_tasks()["breast-cancer-logreg"]()
    rec = auto(task, budget=20.0, curvature=False)
    assert max(t.steps for t in rec.trials) == task.total_steps
    assert all(t.steps <= task.total_steps for t in rec.trials)
    search = next(s for s in rec.stages if s.name == "search")
    choice = next(s for s in rec.stages if s.name == "choice")
    assert search.data["capped"] and "capped at one run" in search.summary
    assert search.data["budgets"] == pytest.approx([0.25, 1.0])
    # the full-length rung needs no horizon correction: its pick is the recommendation
    assert choice.data["rung_fraction"] == 1.0 and choice.data["horizon_correction"] == 1.0
    assert rec.lr == choice.data["best_candidate"]
    # honest cost: the range test plus 6/4 + 3 runs, far below the budget asked for
    assert rec.cost_runs == pytest.approx(sum(s.cost_runs for s in rec.stages), abs=1e-3)
    assert 4.5 <= rec.cost_runs < 5.0


def test_auto_on_a_tiny_budget_corrects_for_its_short_rung() -> None:
    rec = auto("breast-cancer-logreg", budget=0.4, curvature=False)
    assert math.isfinite(rec.lr) and rec.lr > 0
    assert rec.cost_runs <= 0.4 + 0.05
    choice = next(s for s in rec.stages if s.name == "choice")
    f = choice.data["rung_fraction"]
    assert 0 < f < 0.1
    assert choice.data["horizon_correction"] == pytest.approx(horizon_correction(f))
    assert rec.lr == pytest.approx(choice.data["best_candidate"] / horizon_correction(f))
    assert f"{choice.data['horizon_correction']:.3g}" in choice.summary
    assert f"{f:.0%} of a run" in choice.summary
