"""``find`` on tasks, and the RangeTestResult: flags, confidence, JSON round trip, plot."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from lrkit.errors import ConfigError, DataError
from lrkit.rangetest import RangeTestResult, find, peak_lr_for
from lrkit.rangetest.result import (
    FLAG_BOUNDARY,
    FLAG_FLAT,
    FLAG_NEVER_DIVERGED,
    FLAG_NOISY,
    FLAG_TOO_FEW,
)
from lrkit.tasks import builtin_tasks


def shape(n=80, noise=0.02, seed=0, start=-6.0, end=0.0, blowup=True):
    lrs = np.logspace(start, end, n)
    x = np.log10(lrs)
    y = 1.0 - np.tanh(1.5 * (x + 3)) + (np.exp(3.0 * (x + 1)) if blowup else 0.0)
    return lrs, y + noise * np.random.default_rng(seed).standard_normal(n)


def test_find_on_a_task():
    task = builtin_tasks()["breast-cancer-logreg"]()
    state = torch.get_rng_state()
    res = find(task, start_lr=1e-4, end_lr=10.0, steps=30, repeats=2)
    assert torch.equal(torch.get_rng_state(), state)
    assert len(res.curves) == 2 and len(res.repeat_suggestions) == 2
    assert res.curves[0] != res.curves[1]  # different batch orders
    assert res.suggestion == pytest.approx(
        10 ** np.median(np.log10(res.repeat_suggestions)))
    assert res.spread_decades == pytest.approx(
        abs(math.log10(res.repeat_suggestions[0] / res.repeat_suggestions[1])), abs=1e-6)
    assert res.cost_runs == pytest.approx(res.micro_batches / task.total_steps, rel=1e-4)
    assert res.range[0] < res.suggestion < res.range[1]
    assert res.peak_lr == res.suggestion  # constant schedule
    again = find(task, start_lr=1e-4, end_lr=10.0, steps=30, repeats=2)
    assert again.curves == res.curves  # deterministic


def test_find_maps_to_the_task_schedule_peak():
    task = dataclasses.replace(builtin_tasks()["breast-cancer-logreg"](), schedule="cosine")
    res = find(task, start_lr=1e-3, end_lr=10.0, steps=20)
    assert res.peak_lr == pytest.approx(2 * res.suggestion, rel=0.02)  # cosine mean = 1/2
    assert res.schedule["family"] == "cosine" and res.schedule["peak_lr"] == res.peak_lr
    assert res.schedule["total_steps"] == task.total_steps


def test_find_validation_probe_and_cost():
    task = builtin_tasks()["breast-cancer-logreg"]()
    res = find(task, start_lr=1e-3, end_lr=10.0, steps=20, val_every=5, val_batches=2)
    assert len(res.val_losses) == len(res.lrs) // 5
    expected = (res.micro_batches + len(res.val_losses) * 2 / 3) / task.total_steps
    assert res.cost_runs == pytest.approx(expected, rel=1e-4)


def test_find_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="repeats"):
        find("breast-cancer-logreg", repeats=0)
    with pytest.raises(ConfigError, match="end_lr"):
        find("breast-cancer-logreg", start_lr=1.0, end_lr=0.1)
    with pytest.raises(ConfigError, match="not a built-in task"):
        find("nope")


def test_schedule_map_is_mean_preserving():
    assert peak_lr_for("constant", 0.01, 100) == 0.01
    assert peak_lr_for("cosine", 0.01, 1000) == pytest.approx(0.02, rel=1e-3)
    onecycle = peak_lr_for("onecycle", 0.01, 1000)
    from lrkit.tasks import fill_schedule

    assert fill_schedule("onecycle", onecycle, 1000).values(1000).mean() == pytest.approx(0.01)


def test_flags():
    lrs, y = shape(end=-2.0, blowup=False)  # never rose again
    res = RangeTestResult.from_curves([(lrs, y)], stop_reasons=["completed"])
    assert FLAG_NEVER_DIVERGED in res.flags and FLAG_BOUNDARY in res.flags
    flat_lrs = np.logspace(-6, 0, 80)
    flat = 1.0 + 0.02 * np.random.default_rng(1).standard_normal(80)
    flat[-5:] += np.array([0.5, 1, 2, 4, 8])
    res = RangeTestResult.from_curves([(flat_lrs, flat)], stop_reasons=["diverged"])
    assert FLAG_FLAT in res.flags
    noisy = RangeTestResult.from_curves([shape(noise=1.5, seed=3)], stop_reasons=["diverged"])
    assert FLAG_NOISY in noisy.flags
    clean = RangeTestResult.from_curves([shape()], stop_reasons=["diverged"])
    assert clean.flags == () and clean.confidence > noisy.confidence
    few = RangeTestResult.from_curves([([1e-3, 1e-2], [1.0, 0.5])], stop_reasons=["diverged"])
    assert FLAG_TOO_FEW in few.flags and math.isnan(few.suggestion) and few.confidence == 0


def test_result_is_frozen_and_round_trips(tmp_path):
    res = RangeTestResult.from_curves([shape(seed=1), shape(seed=2)],
                                      stop_reasons=["diverged", "diverged"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.suggestion = 1.0  # type: ignore[misc]
    path = res.save(tmp_path / "rt.json")
    doc = json.loads(path.read_text())
    for key in ("suggested_lr", "range", "lrs", "losses", "flags", "confidence"):
        assert key in doc
    assert RangeTestResult.load(path) == res
    with pytest.raises(DataError, match="no such file"):
        RangeTestResult.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(DataError, match="format"):
        RangeTestResult.load(tmp_path / "bad.json")
    for text in ('{"format": "lrkit-rangetest/1"}', '{"format": "lrkit-rangetest/1", "lrs": 3}'):
        (tmp_path / "bad.json").write_text(text)
        with pytest.raises(DataError, match="malformed"):
            RangeTestResult.load(tmp_path / "bad.json")


def test_non_finite_losses_serialise_as_null(tmp_path):
    lrs, y = shape()
    y = y.copy()
    y[-1] = np.nan
    res = RangeTestResult.from_curves([(lrs, y)], stop_reasons=["nonfinite"])
    doc = json.loads(res.save(tmp_path / "nan.json").read_text())
    assert doc["losses"][-1] is None
    assert math.isnan(RangeTestResult.load(tmp_path / "nan.json").losses[-1])


def test_plot_writes_a_png(tmp_path):
    res = RangeTestResult.from_curves([shape()], stop_reasons=["diverged"])
    out = res.plot(tmp_path / "rt.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError, match="unsupported file type"):
        res.plot(tmp_path / "rt.txt")


def test_a_noisy_fresh_curve_is_not_called_pretrained():
    # a fresh model on small noisy batches: loss ~1 jumping by 20%, a shallow descent,
    # then divergence; the flat fixture above (2% noise) stays "flat"
    from lrkit.rangetest.result import FLAG_NOISE_FLAT, LOW_CONFIDENCE

    lrs = np.logspace(-6, 0, 80)
    rng = np.random.default_rng(0)
    y = 1.0 - 0.2 * (lrs > 1e-3) + 0.2 * rng.standard_normal(80)
    y[-5:] += np.array([1, 2, 4, 8, 16])
    res = RangeTestResult.from_curves([(lrs, y)], stop_reasons=["diverged"])
    assert FLAG_NOISE_FLAT in res.flags and FLAG_FLAT not in res.flags
    assert res.confidence < LOW_CONFIDENCE
    note = res.low_confidence_note()
    assert note.startswith("low confidence") and FLAG_NOISE_FLAT in note
    assert "--repeats" in note and "--steps" in note and "batch size" in note
    assert res.summary().splitlines()[0] == note
    clean = RangeTestResult.from_curves([shape()], stop_reasons=["diverged"])
    assert clean.low_confidence_note() == ""
