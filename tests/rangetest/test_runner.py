"""The framework-free sweep loop: stops, auto-extension, skipped updates, probe."""

from __future__ import annotations

import math

import pytest

from lrkit.errors import ConfigError
from lrkit.rangetest import sweep
from lrkit.rangetest.runner import lr_at


def bowl(lr: float) -> float:
    """Loss falls until 1e-2, then climbs steeply (a range-test shape)."""
    x = math.log10(lr)
    return 1.0 - math.tanh(2 * (x + 4)) + math.exp(4 * (x + 2))


def test_exponential_schedule_and_divergence_stop():
    rec = sweep(bowl, start_lr=1e-7, end_lr=10.0, steps=100)
    assert rec.stop_reason == "diverged"
    assert rec.lrs[0] == 1e-7 and rec.lrs[1] == pytest.approx(1e-7 * 1e8 ** (1 / 99))
    assert 1e-2 < rec.lrs[-1] < 1.0 and rec.updates == len(rec.losses)


def test_stops_at_once_on_nan_and_inf():
    calls = []

    def step(lr: float) -> float:
        calls.append(lr)
        return math.nan if len(calls) == 7 else 1.0

    rec = sweep(step, steps=50)
    assert rec.stop_reason == "nonfinite" and len(calls) == 7 and math.isnan(rec.losses[-1])
    rec = sweep(lambda lr: math.inf if lr > 1e-3 else 1.0, steps=50)
    assert rec.stop_reason == "nonfinite" and rec.losses[-1] == math.inf


@pytest.mark.parametrize("scale,offset", [(1.0, 0.0), (1e3, 0.0), (1.0, -50.0), (0.2, -3.0)])
def test_divergence_is_relative_to_the_loss_range(scale, offset):
    reference = sweep(bowl, steps=100)
    rec = sweep(lambda lr: scale * bowl(lr) + offset, steps=100)
    assert len(rec.lrs) == len(reference.lrs)  # same stop point, whatever the scale/sign


def test_negative_losses_do_not_stop_early():
    # the usual "L > 4 * min(L)" test fires at once when losses are negative
    rec = sweep(lambda lr: bowl(lr) - 10.0, steps=100)
    naive_stop = next(i for i, v in enumerate(rec.losses) if v > 4 * min(rec.losses[: i + 1]))
    assert naive_stop == 0 and len(rec.lrs) == len(sweep(bowl, steps=100).lrs) > 60


def test_auto_extends_until_divergence():
    def late(lr: float) -> float:
        return 1.0 - math.tanh(math.log10(lr) + 3) + math.exp(4 * (math.log10(lr) - 1.5))

    rec = sweep(late, start_lr=1e-5, end_lr=1.0, steps=50, extend=1000.0)
    assert rec.extended and rec.lrs[-1] > 1.0 and rec.stop_reason == "diverged"
    assert rec.lrs[60] == pytest.approx(lr_at(60, 1e-5, 1.0, 50, "exp"))
    never = sweep(lambda lr: 1.0 - math.tanh(math.log10(lr) + 3), start_lr=1e-5, end_lr=1.0,
                  steps=50, extend=100.0)
    ratio = never.lrs[1] / never.lrs[0]
    assert never.stop_reason == "completed" and 100.0 / ratio < never.lrs[-1] <= 100.0
    off = sweep(lambda lr: 1.0, start_lr=1e-5, end_lr=1.0, steps=50, extend=1.0)
    assert len(off.lrs) == 50 and not off.extended


def test_skipped_updates_do_not_advance_the_lr():
    calls: list[float] = []

    def step(lr: float) -> float | None:
        calls.append(lr)
        return None if len(calls) % 3 == 0 else 1.0

    rec = sweep(step, start_lr=1e-4, end_lr=1e-2, steps=20, extend=1.0)
    assert rec.updates == 20 and rec.skipped == len(calls) - 20
    assert rec.lrs == tuple(lr_at(i, 1e-4, 1e-2, 20, "exp") for i in range(20))
    assert calls[2] == calls[3]  # the skipped update is retried at the same LR
    stuck = sweep(lambda lr: None, steps=20, max_skipped=5)
    assert stuck.stop_reason == "skipped" and stuck.updates == 0 and stuck.skipped == 5


def test_linear_mode_and_probe():
    probes = []
    rec = sweep(lambda lr: 1.0, start_lr=0.1, end_lr=1.0, steps=10, mode="linear",
                extend=1.0, probe=lambda: probes.append(1) or 0.5, probe_every=3)
    assert rec.lrs[1] - rec.lrs[0] == pytest.approx(0.1) and rec.lrs[-1] == pytest.approx(1.0)
    assert len(probes) == 3 and rec.val_losses == (0.5, 0.5, 0.5)
    assert rec.val_lrs == (rec.lrs[2], rec.lrs[5], rec.lrs[8])


@pytest.mark.parametrize("kwargs,match", [
    ({"start_lr": 0.0}, "start_lr"), ({"start_lr": 1.0, "end_lr": 0.5}, "end_lr"),
    ({"steps": 2}, "steps"), ({"mode": "log"}, "mode"), ({"extend": 0.5}, "extend"),
    ({"diverge": 0.0}, "diverge")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        sweep(lambda lr: 1.0, **kwargs)
