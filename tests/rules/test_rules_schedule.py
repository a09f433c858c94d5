"""The schedule part of a Recommendation: shapes, downsampling, convergence definition, and
agreement with PyTorch's own schedulers for the same recipe."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.rules import DECAYS, CalcInput, calculate
from lrkit.rules.schedule import build, downsample, evaluate, settled_step
from lrkit.schedules import from_spec


@pytest.mark.parametrize("decay", sorted(DECAYS))
def test_every_decay_starts_at_peak_after_warmup_and_matches_its_spec(decay):
    rec = calculate(CalcInput(optimizer="adamw", schedule=decay, total_steps=1000,
                              warmup=100, end_lr_ratio=0.1 if decay != "constant" else None))
    lr = dict(zip(rec.schedule_steps, rec.schedule_lrs, strict=True))
    assert lr[0] == 0.0 and lr[100] == pytest.approx(rec.initial_lr)
    assert max(rec.schedule_lrs) == pytest.approx(rec.initial_lr)
    assert rec.schedule_steps[-1] == 1000 and rec.final_lr == rec.schedule_lrs[-1]
    # the spec in the JSON rebuilds the same schedule
    rebuilt = from_spec(rec.schedule_spec)
    np.testing.assert_allclose(rebuilt(np.asarray(rec.schedule_steps, dtype=float)),
                               rec.schedule_lrs, rtol=1e-12, atol=0)
    if decay in ("cosine", "linear", "wsd", "exponential", "step", "multistep"):
        assert rec.final_lr == pytest.approx(0.1 * rec.initial_lr, rel=1e-9)


def test_long_run_is_downsampled_but_keeps_key_steps():
    rec = calculate(CalcInput(optimizer="adamw", schedule="step", total_steps=3_000_001,
                              warmup=777, max_points=500))
    steps = rec.schedule_steps
    assert len(steps) <= 500
    assert steps[0] == 0 and steps[-1] == 3_000_001 and 777 in steps
    drop = round(3_000_001 / 3)
    assert drop in steps and drop - 1 in steps   # both sides of the first jump
    assert list(steps) == sorted(set(steps))


def test_downsample_is_identity_when_short():
    s, lr = np.arange(10), np.linspace(1, 0, 10)
    out_s, out_lr = downsample(s, lr, (0, 9), 100)
    assert out_s is s and out_lr is lr


def test_settled_step_matches_brute_force_definition():
    rng = np.random.default_rng(0)
    for _ in range(20):
        lrs = np.sort(rng.random(50))[::-1].copy()
        steps = np.arange(50)
        got = settled_step(steps, lrs)
        final, spread = lrs[-1], lrs.max() - lrs[-1]
        expect = next(s for s in range(50)
                      if all(abs(lrs[t] - final) <= 0.1 * spread for t in range(s, 50)))
        assert got == expect


def test_cosine_convergence_epoch_is_where_cosine_reaches_ten_percent():
    rec = calculate(CalcInput(optimizer="momentum", schedule="cosine", epochs=100,
                              steps_per_epoch=100, warmup="none", end_lr_ratio=0.0))
    # (1 + cos(pi p)) / 2 = 0.1  ->  p = acos(-0.8) / pi
    p = math.acos(-0.8) / math.pi
    assert rec.estimated_convergence_epoch == pytest.approx(100 * p, abs=0.01)
    assert rec.convergence["method"] == "lr-settled"


def test_constant_schedule_has_no_lr_based_estimate():
    rec = calculate(CalcInput(optimizer="adam", schedule="constant", total_steps=500))
    assert rec.estimated_convergence_epoch is None
    assert "constant" in rec.convergence["detail"]


def test_epochs_without_steps_per_epoch_report_no_run_length_not_a_constant_schedule():
    rec = calculate(CalcInput(optimizer="adam", epochs=10))
    assert rec.total_steps is None and rec.schedule_steps == ()
    assert rec.convergence["detail"] == "no run length"


def test_auto_warmup_is_capped_at_a_quarter_of_the_run():
    rec = calculate(CalcInput(optimizer="adam", total_steps=1000))  # 2000 would be too long
    assert rec.warmup_steps == 250
    assert any("capped" in w for w in rec.warnings)


def test_explicit_warmup_forms():
    base = {"optimizer": "sgd", "epochs": 10, "steps_per_epoch": 50}
    assert calculate(CalcInput(**base, warmup="2ep")).warmup_steps == 100
    assert calculate(CalcInput(**base, warmup="10%")).warmup_steps == 50
    assert calculate(CalcInput(**base, warmup=7)).warmup_steps == 7
    assert calculate(CalcInput(**base, warmup="none")).warmup_steps == 0


def test_build_and_evaluate_small():
    built = build("multistep", peak=1.0, end=0.1, warmup_steps=0, total_steps=10)
    _, lrs = evaluate(built.schedule, 10, built.key_steps)
    assert lrs.tolist() == pytest.approx([1.0] * 8 + [math.sqrt(0.1), 0.1, 0.1])


def _torch_lrs(optimizer, scheduler, n):
    out = []
    for _ in range(n):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def test_goyal_recipe_matches_torch_schedulers():
    """Warmup from eta to k*eta over 5 epochs, then /10 at epochs 30, 60, 80 (torch)."""
    torch = pytest.importorskip("torch")
    spe, epochs = 10, 90
    rec = calculate(CalcInput(optimizer="momentum", base_lr=0.1, base_batch_size=256,
                              batch_size=8192, steps_per_epoch=spe, epochs=epochs,
                              schedule="step"))
    w = rec.warmup_steps
    assert w == 50
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=rec.initial_lr, momentum=0.9)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1 / 3.2, end_factor=1.0,
                                             total_iters=w)
    steps = torch.optim.lr_scheduler.MultiStepLR(
        opt, milestones=[30 * spe - w, 60 * spe - w, 80 * spe - w], gamma=0.1)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, steps], milestones=[w])
    expected = _torch_lrs(opt, sched, rec.total_steps)
    np.testing.assert_allclose(rec.schedule_lrs[:-1], expected, rtol=1e-9)


def test_cosine_recipe_matches_torch_cosine_annealing():
    torch = pytest.importorskip("torch")
    rec = calculate(CalcInput(optimizer="adamw", epochs=20, steps_per_epoch=25,
                              schedule="cosine", warmup=40, end_lr_ratio=0.05))
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=rec.initial_lr)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-12, end_factor=1.0,
                                             total_iters=40)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=rec.total_steps - 40,
                                                     eta_min=0.05 * rec.initial_lr)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[40])
    expected = _torch_lrs(opt, sched, rec.total_steps)
    np.testing.assert_allclose(rec.schedule_lrs[1:-1], expected[1:], rtol=1e-9)
