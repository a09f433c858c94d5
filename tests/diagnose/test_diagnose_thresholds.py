"""The detectors' thresholds objects and named predicates (readable, sweepable rules)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lrkit.diagnose import Curve
from lrkit.diagnose.detectors import instability, progress
from lrkit.diagnose.detectors.instability import (
    EXPLOSION,
    OSCILLATION,
    SPIKES,
    Explosion,
    detect_explosion,
    detect_oscillation,
    detect_spikes,
)
from lrkit.diagnose.detectors.progress import FLAT, TOO_LOW, detect_flat, detect_too_low
from lrkit.diagnose.run_curves import RunCurves

RNG = np.random.default_rng(3)


def _rc(y: np.ndarray | list[float], val: list[float] | None = None) -> RunCurves:
    y = np.asarray(y, dtype=np.float64)
    curves = [Curve.of("loss", y, steps=np.arange(len(y)))]
    if val is not None:
        curves.append(Curve.of("val_loss", val, steps=np.linspace(0, len(y) - 1, len(val))))
    return RunCurves.build(curves)


def test_defaults_keep_the_first_versions_numbers() -> None:
    assert instability.EXPLOSION_RISE == EXPLOSION.rise == 0.5
    assert instability.STUCK_GAIN == EXPLOSION.stuck_gain == 0.2
    assert instability.BLOWUP_RATIO == EXPLOSION.blowup_ratio == 10.0
    assert progress.LATE_SHARE == TOO_LOW.late_share == 0.3
    assert progress.FLAT_CHANGE == FLAT.change == 0.05
    with pytest.raises(dataclasses.FrozenInstanceError):
        EXPLOSION.rise = 0.1  # type: ignore[misc]


def test_recovered_blowup_is_a_predicate_and_its_ratio_sweeps() -> None:
    y = np.r_[[2.3] * 3, [60.0] * 3, 0.5 + 0.01 * RNG.standard_normal(200)]
    m = Explosion.measure(_rc(y))
    assert m is not None
    assert not m.blown(EXPLOSION) and m.recovered(EXPLOSION)
    assert 10.0 < m.jump / m.scale < 30.0  # a 5-update running mean of the blow-up
    # Above the jump the run showed, the rule no longer fires, and neither does the detector.
    higher = dataclasses.replace(EXPLOSION, blowup_ratio=30.0)
    assert not m.recovered(higher)
    assert detect_explosion(_rc(y)) is not None
    assert detect_explosion(_rc(y), higher) is None


def test_blown_stuck_and_ended_worse() -> None:
    stuck = np.r_[[2.3] * 3, [40.0] * 5, 2.25 + 0.01 * RNG.standard_normal(100)]
    m = Explosion.measure(_rc(stuck))
    assert m is not None and m.stuck(EXPLOSION) and m.blown(EXPLOSION)
    worse = np.r_[np.linspace(2.3, 2.0, 50), np.linspace(2.0, 3.5, 50)]
    m2 = Explosion.measure(_rc(worse))
    assert m2 is not None and m2.ended_worse(EXPLOSION) and not m2.blown(EXPLOSION)
    assert not m2.ended_worse(dataclasses.replace(EXPLOSION, worse=1.0))


def test_rose_back_after_real_progress() -> None:
    y = np.r_[np.linspace(2.3, 0.5, 100), np.linspace(0.5, 1.8, 100)]
    y = y + 0.005 * RNG.standard_normal(len(y))
    m = Explosion.measure(_rc(y))
    assert m is not None and m.rose_back(EXPLOSION)
    assert not m.rose_back(dataclasses.replace(EXPLOSION, rise=0.9))
    f = detect_explosion(_rc(y))
    assert f is not None and f.lr_direction == "lower"


def test_too_low_late_share_threshold_sweeps() -> None:
    # A straight decline: half of the drop in the second half of the run.
    y = np.linspace(2.3, 2.0, 400) + 0.002 * RNG.standard_normal(400)
    assert detect_too_low(_rc(y)) is not None
    assert detect_too_low(_rc(y), dataclasses.replace(TOO_LOW, late_share=0.7)) is None
    f = detect_too_low(_rc(y), dataclasses.replace(TOO_LOW, strong_share=0.99))
    assert f is not None and "3x" in f.action


def test_flat_change_threshold_sweeps() -> None:
    y = np.linspace(2.3, 2.2, 300) + 0.001 * RNG.standard_normal(300)
    assert detect_flat(_rc(y)) is not None  # 4% < 5%
    assert detect_flat(_rc(y), dataclasses.replace(FLAT, change=0.02)) is None
    f = detect_flat(_rc(y), dataclasses.replace(FLAT, raise_by=3.0))
    assert f is not None and "3x" in f.action


def test_spike_and_oscillation_thresholds_sweep() -> None:
    y = 1.0 + 2.0 * np.exp(-np.arange(400) / 40.0) + 0.01 * RNG.standard_normal(400)
    for at in (150, 250, 330):
        y[at:at + 6] += 1.5
    assert detect_spikes(_rc(y)) is not None
    assert detect_spikes(_rc(y), dataclasses.replace(SPIKES, height=5.0)) is None
    t = np.arange(400)
    osc = 1.0 + 2.0 * np.exp(-t / 30.0) + 0.8 * np.sin(t / 15.0) * (t > 100)
    assert detect_oscillation(_rc(osc)) is not None
    assert detect_oscillation(_rc(osc), dataclasses.replace(OSCILLATION, swing=5.0)) is None
