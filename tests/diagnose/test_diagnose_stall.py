"""No "raise the LR" on a loss that stalled (issue 16, round 5): a run that dropped fast and
then stopped falling is as often an LR too high sitting on its noise floor as a small one,
so the curve gives no evidence for a raise; a loss still crawling down keeps it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.diagnose import Curve, diagnose_curves
from lrkit.diagnose import verdict as verdict_mod
from lrkit.diagnose.detectors.instability import step_noise
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.verdict import (
    CLASSES,
    FEATURES,
    TreeVerdictModel,
    half_fall,
    judge,
    stalled,
)

T = np.arange(400.0)


def _stall(seed: int) -> np.ndarray:
    """A fast drop (time constant 10 of 400 updates) onto a noisy floor."""
    noise = np.random.default_rng(seed).standard_normal(len(T))
    return 0.8 + 1.5 * np.exp(-T / 10) + 0.05 * noise


def _crawl(seed: int) -> np.ndarray:
    """A slow, log-linear descent still going at the end, in the same noise."""
    noise = np.random.default_rng(seed).standard_normal(len(T))
    return 2.3 - 0.25 * np.log1p(T) + 0.05 * noise


def _rc(y: np.ndarray) -> RunCurves:
    return RunCurves.build([Curve.of("loss", y, steps=T)])


def _too_low_model(stall_se: float, stall_half_at: float) -> TreeVerdictModel:
    """A model with no trees that says too_low (0.6) on every curve."""
    base = tuple(math.log(v) for v in (0.1, 0.6, 0.3))
    return TreeVerdictModel(CLASSES, tuple(FEATURES), base, (),
                            meta={"veto": 0.3, "stall_se": stall_se,
                                  "stall_half_at": stall_half_at})


@pytest.mark.parametrize("seed", range(5))
def test_half_fall_tells_a_crawl_from_a_stall(seed: int) -> None:
    crawl, stall = _crawl(seed), _stall(seed)
    # the crawl falls 0.25 ln 2 = 0.17 from half-way to the end, against a standard
    # error of 0.05 sqrt(2 / 20) = 0.016: ten errors; the stall falls nothing
    assert half_fall(crawl, step_noise(crawl), 2.3) > math.log10(1 + 5)
    assert abs(half_fall(stall, step_noise(stall), 2.3)) < math.log10(1 + 1.5)


def test_half_fall_is_scale_free_and_abstains_on_tiny_logs() -> None:
    y = _crawl(0)
    assert half_fall(y, step_noise(y), 2.3) == pytest.approx(
        half_fall(1e3 * y, step_noise(1e3 * y), 2.3e3))
    assert half_fall(np.array([2.0, 1.0, 0.5]), 0.0, 2.0) == 4.0  # too short: "falling"


def test_stalled_needs_an_early_half_and_no_late_fall() -> None:
    assert stalled({"half_at": 0.1, "half_fall": 0.0}, 1.0, 0.3) == {
        "half_at": 0.1, "half_fall_se": 0.0}
    assert stalled({"half_at": 0.5, "half_fall": 0.0}, 1.0, 0.3) is None  # late drop
    assert stalled({"half_at": 0.1, "half_fall": math.log10(3)}, 1.0, 0.3) is None  # 2 se
    assert stalled({"half_at": 0.1, "half_fall": -1.0}, 1.0, 0.3) is not None  # rose
    assert stalled({"half_at": 0.1, "half_fall": 0.0}, 0.0, 0.0) is None  # off


def test_judge_withholds_the_raise_on_a_stalled_loss_only() -> None:
    on, off = _too_low_model(1.0, 0.3), _too_low_model(0.0, 0.0)
    v = judge(_rc(_stall(1)), model=on, rule="ok")
    assert v.label == "ok" and v.stall is not None
    assert v.stall["half_at"] < 0.3 and v.stall["half_fall_se"] < 1.0
    assert v.to_dict()["stall"] == v.stall
    assert judge(_rc(_stall(1)), model=off, rule="ok").label == "too_low"
    crawl = judge(_rc(_crawl(1)), model=on, rule="ok")
    assert crawl.label == "too_low" and crawl.stall is None


def test_a_validation_loss_still_falling_keeps_the_raise() -> None:
    # the training loss stalled in its batch noise, the validation loss still falls
    # steadily (20 points, 0.79 -> 0.70): the run is slow, and the raise stands
    vx = np.arange(19.0, 400.0, 20.0)
    vy = 0.64 + 0.15 * np.exp(-np.arange(len(vx)) / 25.0)
    rc = RunCurves.build([Curve.of("loss", _stall(3), steps=T),
                          Curve.of("val_loss", vy, steps=vx)])
    v = judge(rc, model=_too_low_model(1.0, 0.3), rule="ok")
    assert v.label == "too_low" and v.stall is None
    assert v.features["half_fall"] > math.log10(1 + 5)


def test_the_diagnosis_says_why_no_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdict_mod, "_MODEL", _too_low_model(1.0, 0.3))
    d = diagnose_curves([Curve.of("loss", _stall(2), steps=T)])
    assert d.verdict == "ok" and d.suggested_lr is None
    assert not any(f.lr_direction == "raise" for f in d.findings)
    found = [f for f in d.findings if f.kind == "loss_stalled"]
    assert len(found) == 1 and found[0].severity == "info"
    ev = found[0].evidence
    assert {"steps", "values", "half_at", "half_fall_se", "probabilities"} <= set(ev)
    assert "stalled" in found[0].title and "0.3x and 3x" in found[0].action


@pytest.mark.parametrize("seed", range(3))
def test_the_shipped_verdict_never_raises_on_a_stall(seed: int) -> None:
    d = diagnose_curves([Curve.of("loss", _stall(seed), steps=T)])
    assert d.verdict != "too_low"
    assert not any(f.lr_direction == "raise" for f in d.findings)
