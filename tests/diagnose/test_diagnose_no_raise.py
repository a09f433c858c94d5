"""No "raise the LR" on a run that lost ground (issue 16, round 6).

An LR too low makes slow progress, but progress. A loss that ended above where it started,
beyond its batch noise, or that became NaN/Inf, is never told to raise, whatever the
model makes of the curve's shape; a slow run still falling keeps its raise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.diagnose import Curve, diagnose_curves
from lrkit.diagnose import verdict as verdict_mod
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.verdict import (
    CLASSES,
    FEATURES,
    WORSE_SE,
    TreeVerdictModel,
    ended_above,
    judge,
    no_raise,
)

T = np.arange(400.0)


def _noise(seed: int, sd: float = 0.05) -> np.ndarray:
    return sd * np.random.default_rng(seed).standard_normal(len(T))


def _lost_ground(seed: int) -> np.ndarray:
    """A fast drop, then a slow climb that ends 9% above the start (2.3 -> 2.5): under
    the explosion rule's 10%, so only the no-raise guard speaks of the end level."""
    return 0.9 + 1.4 * np.exp(-T / 15) + 1.6 * T / T[-1] + _noise(seed, 0.02)


def _drift_up(seed: int) -> np.ndarray:
    """No drop at all, a slow climb of 5%: no rule fires on it."""
    return 2.3 + 0.115 * T / T[-1] + _noise(seed, 0.02)


def _crawl(seed: int) -> np.ndarray:
    """A slow, steady descent still going at the end: an LR too low."""
    return 2.3 - 0.0015 * T + _noise(seed, 0.02)


def _rc(y: np.ndarray) -> RunCurves:
    return RunCurves.build([Curve.of("loss", y, steps=T),
                            Curve.of("lr", np.full(len(T), 1e-3), steps=T)])


def _too_low_model(**meta: object) -> TreeVerdictModel:
    """A model with no trees that says too_low (0.6) of every curve."""
    base = tuple(math.log(v) for v in (0.1, 0.6, 0.3))
    return TreeVerdictModel(CLASSES, tuple(FEATURES), base, (), meta={"veto": 0.3} | meta)


@pytest.mark.parametrize("seed", range(5))
def test_ended_above_reads_the_levels_through_the_noise(seed: int) -> None:
    for y in (_lost_ground(seed), _drift_up(seed)):
        worse = ended_above(y)
        assert worse["rise_se"] > 3 and worse["end_level"] > worse["start_level"]
    assert ended_above(_crawl(seed))["rise_se"] < -10
    # A flat run (an LR far too low) sits within its noise: its end is no evidence.
    flat = 2.3 + _noise(seed)
    assert abs(ended_above(flat)["rise_se"]) < WORSE_SE


def test_ended_above_is_scale_free() -> None:
    y = _lost_ground(0)
    assert ended_above(1e3 * y)["rise_se"] == pytest.approx(ended_above(y)["rise_se"])


def test_one_high_last_batch_is_not_a_run_that_lost_ground() -> None:
    # 17 single-batch losses logged every 10 updates, noise 0.3 on a level near 0.6; the
    # last point reads 2.2x the first points' median, but the levels sit within one
    # standard error of each other (digits-mlp at 10x, dev): no evidence either way.
    y = np.array([0.806, 0.371, 0.244, 0.562, 1.843, 0.781, 0.585, 0.479, 0.116, 0.148,
                  0.263, 0.955, 0.845, 1.515, 0.556, 0.346, 0.824])
    got = ended_above(y)
    assert got["end_level"] / got["start_level"] > 2.0
    assert 0 < got["rise_se"] < WORSE_SE


def test_no_raise_is_logic_on_two_features() -> None:
    feats = dict.fromkeys(FEATURES, 0.0)
    assert no_raise(feats) is None
    assert no_raise(feats | {"end_above": math.log10(1 + 2.5)}) == "ended_above_start"
    assert no_raise(feats | {"end_above": math.log10(1 + 1.5)}) is None
    assert no_raise(feats | {"nonfinite": 1.0}) == "nonfinite"


def test_judge_withholds_the_raise_with_the_levels_as_evidence() -> None:
    v = judge(_rc(_lost_ground(1)), model=_too_low_model(), rule="ok")
    assert v.label == "ok" and v.withheld is not None
    assert v.withheld["why"] == "ended_above_start"
    assert v.withheld["end_level"] > v.withheld["start_level"]
    assert v.withheld["rise_se"] > WORSE_SE
    assert v.to_dict()["withheld"] == v.withheld
    high = judge(_rc(_lost_ground(1)), model=_too_low_model(no_raise_when_worse="too_high"),
                 rule="ok")
    assert high.label == "too_high" and high.withheld is not None


def test_judge_keeps_the_raise_of_a_slow_run() -> None:
    v = judge(_rc(_crawl(1)), model=_too_low_model(), rule="ok")
    assert v.label == "too_low" and v.withheld is None


def test_a_run_with_a_nan_is_never_told_to_raise() -> None:
    y = _crawl(2)
    y[300] = np.nan
    v = judge(_rc(y), model=_too_low_model(), rule="ok")
    assert v.label != "too_low" and v.withheld is not None
    assert v.withheld["why"] == "nonfinite"


def test_the_diagnosis_says_why_no_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdict_mod, "_MODEL", _too_low_model())
    d = diagnose_curves([Curve.of("loss", _lost_ground(2), steps=T)])
    assert d.verdict == "ok" and d.suggested_lr is None
    assert not any(f.lr_direction == "raise" for f in d.findings)
    found = [f for f in d.findings if f.kind == "raise_withheld"]
    assert len(found) == 1 and found[0].severity == "info"
    ev = found[0].evidence
    assert {"steps", "values", "start_level", "end_level", "rise_se"} <= set(ev)
    assert "above where it started" in found[0].title
    assert d.summary.startswith("no LR change advised")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", [_lost_ground, _drift_up])
def test_the_shipped_verdict_never_raises_on_a_run_that_lost_ground(shape, seed: int) -> None:
    d = diagnose_curves([Curve.of("loss", shape(seed), steps=T),
                         Curve.of("lr", np.full(len(T), 1e-3), steps=T)])
    assert d.verdict != "too_low"
    assert not any(f.lr_direction == "raise" for f in d.findings)


@pytest.mark.parametrize("seed", range(3))
def test_the_shipped_verdict_still_raises_on_a_slow_run(seed: int) -> None:
    d = diagnose_curves([Curve.of("loss", _crawl(seed), steps=T),
                         Curve.of("lr", np.full(len(T), 1e-3), steps=T)])
    assert d.verdict == "too_low"
    raise_ = [f for f in d.findings if f.lr_direction == "raise"]
    assert raise_ and raise_[0].suggested_lr is not None and raise_[0].suggested_lr > 1e-3
    assert not any(f.kind == "raise_withheld" for f in d.findings)
