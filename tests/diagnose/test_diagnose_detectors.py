"""Detectors: contract over the registry, constructed curves, and real training runs.

The constructed curves have a known answer by construction (a NaN at step 50, an LR that
restarts at step 500, ...). The real runs train lrkit's built-in logistic regression at
three LRs around its oracle and must get the matching verdict.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.diagnose import DETECTORS, Curve, Finding, diagnose, diagnose_curves
from lrkit.diagnose.detectors.instability import start_level
from lrkit.diagnose.detectors.progress import (
    LATE_SHARE,
    TREND_SIGMAS,
    VAL_LATE_SIGMAS,
    fitted_late_share,
    late_share,
    val_late_share,
)
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.verdict import load_model

RNG = np.random.default_rng(0)
N = 600
STEPS = np.arange(float(N))


def noisy(y: np.ndarray, sd: float, seed: int = 0) -> np.ndarray:
    return y + np.random.default_rng(seed).normal(0.0, sd, len(y))


def curves(loss: np.ndarray, lr: float | np.ndarray = 0.1, *, val=None,
           steps_per_epoch: float | None = None, **loss_meta) -> list[Curve]:
    steps = np.arange(float(len(loss)))
    lrs = np.full(len(loss), lr) if np.isscalar(lr) else np.asarray(lr, dtype=float)
    epochs = (steps + 1) / steps_per_epoch if steps_per_epoch else None
    out = [Curve.of("train/loss", loss, steps=steps, epochs=epochs, meta=loss_meta),
           Curve.of("lr", lrs, steps=steps, epochs=epochs)]
    if val is not None:
        vx, vy = val
        out.append(Curve.of("val/loss", vy, steps=vx))
    return out


def kinds(d) -> list[str]:
    return [f.kind for f in d.findings]


def healthy_loss(seed: int = 0) -> np.ndarray:
    return noisy(0.3 + 2.0 * np.exp(-STEPS / 80.0), 0.03, seed)


# ------------------------------------------------------------------ contract
DEGENERATE = {
    "one point": [Curve.of("loss", [1.0], steps=[0])],
    "two points": [Curve.of("loss", [1.0, 0.5], steps=[0, 1])],
    "constant": [Curve.of("loss", np.ones(50), steps=np.arange(50))],
    "all nan": [Curve.of("loss", np.full(20, np.nan), steps=np.arange(20))],
    "negative": [Curve.of("loss", -np.linspace(1, 5, 80), steps=np.arange(80))],
    "huge": [Curve.of("loss", np.geomspace(1, 1e300, 60), steps=np.arange(60))],
    "epochs only": [Curve.of("loss", [3.0, 2.0, 1.5, 1.4, 1.39], epochs=[1, 2, 3, 4, 5]),
                    Curve.of("val_loss", [3.1, 2.2, 1.8, 1.9, 2.5], epochs=[1, 2, 3, 4, 5])],
    "zero lr": curves(healthy_loss(), 0.0),
    "repeated steps": [Curve.of("loss", [2, 1, 1, 0.5], steps=[0, 0, 1, 1])],
}


@pytest.mark.parametrize("name", sorted(DETECTORS))
@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_every_detector_survives_degenerate_input(name, case):
    rc = RunCurves.build(DEGENERATE[case])
    # as diagnose_curves runs them: overflowing log values are evidence, not errors
    with np.errstate(all="ignore"):
        got = DETECTORS[name](rc)
    assert got is None or (isinstance(got, Finding) and got.kind == name)


@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_diagnosis_of_degenerate_input_is_serialisable(case):
    import json

    d = diagnose_curves(DEGENERATE[case])
    json.dumps(d.to_dict())  # plain data: no numpy scalar or array left in it
    assert d.verdict in ("too_high", "too_low", "ok", "not_enough_data")


# ------------------------------------------------------------------ LR too high
def test_nan_loss_names_step_and_cuts_the_lr_in_force_tenfold():
    loss = 2.0 * np.exp(-STEPS[:200] / 50.0) + 0.1
    loss[150:] = np.nan
    lr = np.where(STEPS[:200] < 100, 0.2, 0.5)  # the LR was raised at step 100
    d = diagnose_curves(curves(loss, lr))
    f = d.findings[0]
    assert (f.kind, f.severity, f.step) == ("nan_loss", "critical", 150.0)
    assert f.suggested_lr == pytest.approx(0.05)
    assert f.evidence["lr_at_failure"] == 0.5
    assert d.verdict == "too_high" and "too high" in d.summary


def test_explosion_after_progress_is_found_with_its_onset():
    loss = 0.5 + 2.0 * np.exp(-STEPS / 40.0)
    loss[300:] = loss[300] * np.exp((STEPS[300:] - 300) / 60.0)  # grows ~150x by the end
    d = diagnose_curves(curves(noisy(loss, 0.01), 0.3))
    f = next(f for f in d.findings if f.kind == "explosion")
    assert 250 <= f.step <= 320
    assert f.suggested_lr is not None and f.suggested_lr < 0.3
    assert d.verdict == "too_high"


@pytest.mark.parametrize("settles_at,verdict", [(2.2, "too_high"), (1.2, "ok")])
def test_early_blow_up_then_stuck_near_the_start_is_too_high(settles_at, verdict):
    # dead units: one huge update, then the loss hovers 12% below where it started;
    # a run that recovers and learns (50% below its start) is not stuck
    loss = np.full(250, settles_at)
    loss[:6] = [2.5, 30.0, 6.6, 4.8, 2.4, 2.8]
    d = diagnose_curves(curves(noisy(loss, 0.03), 1.0))
    assert d.verdict == verdict, [(f.kind, f.title) for f in d.findings]


@pytest.mark.parametrize("blow_up,verdict", [(60.0, "too_high"), (1.5, "ok")])
def test_early_blow_up_that_recovers_is_too_high_only_when_huge(blow_up, verdict):
    # AdamW at 10x its LR on a regression: the first updates throw the loss to ~100x the
    # untrained level, then it comes back down and trains; a jump of the size healthy runs
    # show in their first updates (<= 1.7x on the corpus) is not a verdict
    loss = healthy_loss(seed=4)
    start = loss[0]
    loss[2:10] += blow_up * start * np.hanning(8)
    d = diagnose_curves(curves(loss, 0.3))
    assert d.verdict == verdict, [(f.kind, f.title) for f in d.findings]
    if verdict == "too_high":
        f = next(f for f in d.findings if f.kind == "explosion")
        assert "before it recovered" in f.title and f.severity == "warning"
        assert f.suggested_lr == pytest.approx(0.09) and 2 <= f.step <= 9
        assert "warmup" in f.action


def test_one_low_first_batch_is_not_progress_the_run_lost():
    # a noisy regression at an LR 1000x too small: its first batch happened to score 0.56
    # against a level of ~1.0, so the smoothed best sits at step 0; the loss did not "rise
    # from its best", it never got there
    n = 400
    loss = noisy(1.0 - 0.12 * np.arange(n) / n, 0.28, seed=15)
    loss[0] = 0.45
    d = diagnose_curves(curves(loss, 3e-5))
    assert "explosion" not in kinds(d), [(f.kind, f.title) for f in d.findings]
    assert d.verdict != "too_high"


def _blown_then_memorised(val_end: float, n: int = 260, spe: int = 26):
    """Logistic regression at 100x its LR: wild first updates, then a training loss of ~0
    (huge weights separate the training set), and a validation loss that falls from 4.0
    to ``val_end`` over ten epochs. The untrained loss is 0.9."""
    loss = np.abs(noisy(np.zeros(n), 1e-4))
    loss[:12] = [0.9, 0.0, 0.0, 14.4, 7.3, 1.3, 14.7, 6.9, 8.5, 0.0, 0.0, 8.4]
    vx = np.arange(spe - 1.0, n, spe)
    return loss, (vx, np.geomspace(4.0, val_end, len(vx)))


@pytest.mark.parametrize("val_end,stuck", [(2.3, True), (0.3, False)])
def test_blow_up_whose_validation_loss_never_beats_the_untrained_loss_is_too_high(
        val_end, stuck):
    # the training loss "converges" to 0, so only the validation loss shows that the run
    # learned nothing; one that gets well below the untrained loss recovered from it
    loss, val = _blown_then_memorised(val_end)
    d = diagnose_curves(curves(loss, _cosine(100.0, len(loss), len(loss)), val=val))
    assert ("explosion" in kinds(d)) == stuck, [(f.kind, f.title) for f in d.findings]
    if stuck:
        assert d.verdict == "too_high"
        f = next(f for f in d.findings if f.kind == "explosion")
        assert "validation loss never got below the untrained loss" in f.title
        assert f.evidence["best_val_loss"] == pytest.approx(2.3)


def test_smooth_flat_run_with_a_flat_validation_loss_is_not_too_high():
    # too low: the validation loss also stays near the untrained loss, but the training
    # loss never jumps above its start
    loss = noisy(0.9 - 0.0001 * STEPS, 0.01)
    vx, vy = _epoch_val(0.9 - 0.0001 * STEPS, spe=60)
    d = diagnose_curves(curves(loss, 1e-5, val=(vx, vy)))
    assert d.verdict == "too_low", [(f.kind, f.title) for f in d.findings]


def _reported_or_noted(d, kind):
    """The rule's finding, reported, or (when the calibrated verdict disagrees) noted."""
    f = next((f for f in d.findings if f.kind == kind), None)
    assert f is not None or any(f"the {kind} rule fired" in n for n in d.notes), \
        (kinds(d), d.notes)
    return f


def test_spikes_that_recover_are_counted():
    base = noisy(0.2 + 2.0 * np.exp(-STEPS / 60.0), 0.01)
    for at in (200, 330, 460):
        base[at:at + 3] += 1.5  # each undoes ~70% of the progress, then recovers
    cs = curves(base, 0.1)
    f = DETECTORS["loss_spikes"](RunCurves.build(cs))
    assert f is not None
    assert f.evidence["spikes"] == 3 and f.severity == "warning"
    assert sorted(f.evidence["steps"]) == [200.0 + k for k in (0, 130, 260)] or \
        all(any(abs(s - a) <= 2 for s in f.evidence["steps"]) for a in (200, 330, 460))
    assert f.suggested_lr == pytest.approx(0.05)
    # The verdict is the calibrated model's (spikes alone are weak evidence on the zoo),
    # but a run with spikes is never told to raise its LR.
    d = diagnose_curves(cs)
    _reported_or_noted(d, "loss_spikes")
    assert d.verdict != "too_low" and all(f.lr_direction != "raise" for f in d.findings)


def test_sustained_oscillation_is_too_high():
    # fast initial progress, then the loss swings with a 100-step period and never settles
    loss = 0.3 + 2.0 * np.exp(-STEPS / 30.0) + 0.5 * (1 + np.sin(STEPS / 100.0 * 2 * np.pi)) \
        * (STEPS > 100)
    cs = curves(noisy(loss, 0.02), 0.5)
    f = DETECTORS["oscillation"](RunCurves.build(cs))
    assert f is not None and f.lr_direction == "lower"
    assert f.suggested_lr == pytest.approx(0.15)
    d = diagnose_curves(cs)
    _reported_or_noted(d, "oscillation")
    assert d.verdict != "too_low" and all(f.lr_direction != "raise" for f in d.findings)


# ------------------------------------------------------------------ LR too low
def test_slow_steady_decrease_is_too_low_with_a_raise():
    loss = noisy(2.3 - 0.0008 * STEPS, 0.02)
    d = diagnose_curves(curves(loss, 1e-4))
    assert kinds(d) == ["lr_too_low"]
    f = d.findings[0]
    # the rule wants 10x; the raise is bounded by what the smooth curve supports (3x)
    assert f.lr_direction == "raise" and f.suggested_lr == pytest.approx(3e-4)
    assert "at most 3x" in f.action and f.evidence["raise_bound"] == 3.0
    assert d.verdict == "too_low"


def test_flat_loss_is_found():
    d = diagnose_curves(curves(noisy(np.full(N, 2.302), 0.01), 1e-7))
    assert kinds(d) == ["flat_loss"]
    assert d.findings[0].suggested_lr == pytest.approx(1e-6)


def test_cosine_decay_is_not_mistaken_for_convergence():
    # a too-low LR under cosine: in steps the loss levels off, in LR time it does not, and
    # the rule sees it. Under a decayed LR, the verdict "too low" also needs the calibrated
    # model's fitted probability (issue 16: a still-falling loss under decay is as often a
    # good LR annealing), so it is either the verdict or a note, never a "lower".
    lr = 1e-4 * 0.5 * (1 + np.cos(np.pi * STEPS / N))
    tau = np.cumsum(lr) / 1e-4
    cs = curves(noisy(2.3 - 0.0012 * tau, 0.01), lr)
    assert DETECTORS["lr_too_low"](RunCurves.build(cs)) is not None
    d = diagnose_curves(cs)
    low = load_model().low
    assert d.verdict == ("too_low" if d.probabilities["too_low"] >= low else "ok")
    assert d.verdict == "too_low" or any("lr_too_low rule fired" in n for n in d.notes)


def _slowing(x: float, n: int = 260) -> np.ndarray:
    """0.1 + 0.6 / (1 + t / T) over n updates, with the run lasting x = n / T time constants.

    In the last third of the run it gains 1 / (3 + 2x) of its drop: 11% at x = 3 (the LR
    holds it back), 1% at x = 50 (levelled off).
    """
    t = np.arange(float(n))
    return 0.1 + 0.6 / (1.0 + x * t / n)


def _epoch_val(loss: np.ndarray, spe: int = 26, sd: float = 0.001):
    vx = np.arange(spe - 1.0, len(loss), spe)
    return vx, noisy(loss[vx.astype(int)], sd, seed=1)


def test_still_improving_validation_loss_is_too_low():
    # the training loss's batch noise hides the late gain; the validation loss shows it
    clean = _slowing(3.0)
    d = diagnose_curves(curves(noisy(clean, 0.05), 0.01, val=_epoch_val(clean)))
    f = next(f for f in d.findings if f.kind == "lr_too_low")
    assert "validation loss" in f.title
    assert f.evidence["val_late_share"] == pytest.approx(1 / 9, abs=0.01)
    assert f.suggested_lr == pytest.approx(0.03)
    assert d.verdict == "too_low"


def test_levelled_off_validation_loss_is_not_too_low():
    clean = _slowing(50.0)
    d = diagnose_curves(curves(noisy(clean, 0.05), 0.01, val=_epoch_val(clean)))
    assert d.verdict == "ok", [(f.kind, f.title) for f in d.findings]


def test_noisy_validation_dip_at_the_end_is_not_too_low():
    # a noisy regression: the validation loss's best improves by chance mid-run and in
    # its last epoch, by about its epoch-to-epoch noise each time
    train = noisy(0.5 + 0.5 * np.exp(-STEPS / 30.0), 0.15)
    vx = np.arange(29.0, N, 30.0)
    vy = noisy(np.full(len(vx), 0.55), 0.05, seed=3)
    vy[len(vy) // 2] = vy.min() - 0.06
    vy[-1] = vy.min() - 0.05
    rc = RunCurves.build(curves(train, 0.01, val=(vx, vy)))
    share, middle, sigmas = val_late_share(rc)
    assert 0.05 < share <= middle and sigmas < VAL_LATE_SIGMAS
    assert "lr_too_low" not in kinds(diagnose_curves(curves(train, 0.01, val=(vx, vy))))


def test_late_gain_from_annealing_a_high_lr_is_not_too_low():
    # cosine decay: the loss sits on a noise floor, then drops as the LR anneals it away
    lr = _cosine(0.5, N, N)
    floor = 0.3 - 0.1 * (1 - lr / 0.5) ** 4
    loss = floor + 0.4 * np.exp(-STEPS / 10.0)
    vx, vy = _epoch_val(loss, spe=60, sd=0.0005)
    d = diagnose_curves(curves(noisy(loss, 0.02), lr, val=(vx, vy)))
    assert "lr_too_low" not in kinds(d)
    # the same late gain with diminishing returns in LR time is the too-low case above
    rc = RunCurves.build(curves(noisy(loss, 0.02), lr, val=(vx, vy)))
    share, middle, _ = val_late_share(rc)
    assert share > 0.05 and share > middle


def _done_early(n: int = 400, spe: int = 40):
    """A run that is nearly done after three updates (0.45 -> ~0.1), then drifts down
    slowly in batch noise; its validation loss starts at 0.100 and ends 0.005 lower."""
    loss = noisy(0.097 - 0.012 * np.arange(float(n)) / n, 0.01)
    loss[:3] = [0.45, 0.3, 0.2]
    vx = np.arange(spe - 1.0, n, spe)
    return loss, (vx, np.linspace(0.100, 0.095, len(vx)))


def test_validation_gain_is_measured_from_the_untrained_loss():
    # Half the training loss's (small, noisy) drop after its first updates came late, and
    # the validation loss gained half its own drop in its second half. From the untrained
    # loss (0.45) that late gain is under 1%: the run is done, not held back by its LR.
    loss, val = _done_early()
    d = diagnose_curves(curves(loss, _cosine(1.0, len(loss), len(loss)), val=val))
    assert "lr_too_low" not in kinds(d), [f.title for f in d.findings]
    assert d.verdict == "ok"


def test_validation_loss_that_follows_a_slow_training_loss_confirms_too_low():
    clean = 2.3 - 0.0008 * STEPS
    d = diagnose_curves(curves(noisy(clean, 0.02), 1e-4, val=_epoch_val(clean, spe=60)))
    f = next(f for f in d.findings if f.kind == "lr_too_low")
    assert "still falling steadily" in f.title
    assert d.verdict == "too_low"


def test_untrained_loss_is_not_one_noisy_first_batch():
    # a slow run: batch noise 0.25, the first batch 1.2 noise sd above the level
    slow = noisy(np.full(400, 0.85), 0.25, seed=2)
    slow[:3] = [1.38, 1.08, 0.79]
    assert start_level(slow) == pytest.approx(1.08)
    # a fast run: the first updates are already trained, the first point is the start
    fast = noisy(0.1 + 0.8 * np.exp(-np.arange(400.0) / 2.0), 0.01)
    assert start_level(fast) == pytest.approx(fast[0])
    # a blow-up in the first updates is not the start either
    blown = noisy(np.full(400, 2.3), 0.02)
    blown[1:3] = [30.0, 20.0]
    assert start_level(blown) == pytest.approx(blown[0])


def test_slow_validation_gain_after_a_noisy_first_batch_is_too_low():
    # AdamW at 0.001x on a noisy regression: the training loss shows nothing, the
    # validation loss falls 0.79 -> 0.71 steadily. Measured from the first batch (1.38)
    # that is 3% of the drop in the last third; from the untrained level (1.08), 6%.
    train = noisy(np.full(400, 0.85), 0.25, seed=1)
    train[:3] = [1.38, 1.08, 0.79]
    vx = np.arange(19.0, 400.0, 20.0)
    vy = 0.64 + 0.153 * np.exp(-np.arange(len(vx)) / 25.0)
    d = diagnose_curves(curves(train, 3e-5, val=(vx, vy)))
    assert kinds(d) == ["lr_too_low"], [(f.kind, f.title) for f in d.findings]
    assert d.findings[0].evidence["val_late_share"] == pytest.approx(0.059, abs=0.002)


def _slow_under_noise(n: int = 252, drop: float = 0.14, sd: float = 0.09, seed: int = 3):
    """SGD at ~0.001x its oracle under a cosine: the loss falls steadily by ~1.5 batch-noise
    sd over the whole run (2.50 -> 2.36 in LR time, 5.6%: not flat), and its first batches
    sit high."""
    steps = np.arange(float(n))
    lr = 1e-5 * 0.5 * (1 + np.cos(np.pi * steps / n))
    frac = np.cumsum(lr) / np.sum(lr)
    loss = noisy(2.50 - drop * frac, sd, seed=seed)
    loss[:3] = [2.62, 2.60, 2.58]
    return loss, lr, frac


def test_slow_steady_decline_buried_in_batch_noise_is_too_low():
    # Read from three points, the start (2.60) and the middle are noise and the late
    # share comes out under 30%; lines fitted through each half of LR time see a steady
    # pace, and the whole drop is well above its standard error.
    loss, lr, _ = _slow_under_noise()
    rc = RunCurves.build(curves(loss, lr))
    point_share = late_share(rc)
    assert point_share is not None and point_share[0] < LATE_SHARE
    fit = fitted_late_share(rc)
    assert fit is not None and fit[0] >= LATE_SHARE and fit[3] >= TREND_SIGMAS
    found = DETECTORS["lr_too_low"](rc)
    assert found is not None and found.lr_direction == "raise"


def test_flat_noisy_loss_has_no_fitted_trend():
    # The same noise with no decline: the fitted drop is within its standard error, so
    # the loss is flat (that detector's case), not still falling.
    loss, lr, _ = _slow_under_noise(drop=0.0)
    loss[:3] = loss[3:6]
    fit = fitted_late_share(RunCurves.build(curves(loss, lr)))
    assert fit is None or fit[3] < TREND_SIGMAS
    assert "lr_too_low" not in kinds(diagnose_curves(curves(loss, lr)))


def test_fast_drop_then_noisy_plateau_is_not_read_by_the_fit():
    # A fast first drop (1.4 -> 0.45), a noisy plateau, then a late slide as the model
    # memorises (0.45 -> 0.30): the gain is many noise sd, so the point estimates are
    # trusted (85% of the drop came in the first half). Straight lines through each half
    # would mostly miss the first updates' drop and read a 35% late share.
    t = np.arange(400.0)
    loss = noisy(0.45 + 0.95 * np.exp(-t / 8.0) - 0.15 * np.clip((t - 200) / 200, 0, 1),
                 0.13, seed=2)
    fit = fitted_late_share(RunCurves.build(curves(loss, 0.06)))
    assert fit is not None and fit[0] >= LATE_SHARE
    d = diagnose_curves(curves(loss, 0.06))
    assert d.verdict != "too_low", [(f.kind, f.title) for f in d.findings]


def test_too_high_verdict_drops_the_advice_to_raise_the_lr():
    # a slow steady decrease (too low on its own) with spikes: both are warnings, the
    # verdict is too high, and the findings must not also say "raise the LR"
    base = noisy(2.3 - 0.0008 * STEPS, 0.02)
    for at in (200, 330, 460):
        base[at:at + 3] += 1.5
    d = diagnose_curves(curves(base, 1e-4))
    assert d.verdict != "too_low"  # never "raise" on a run with spikes
    assert all(f.lr_direction != "raise" for f in d.findings)
    _reported_or_noted(d, "loss_spikes")
    if d.verdict == "too_high":
        assert d.suggested_lr is not None and d.suggested_lr < 1e-4


# ------------------------------------------------------------------ healthy, plateau, overfit
@pytest.mark.parametrize("seed", range(3))
def test_healthy_run_gets_no_lr_problem(seed):
    d = diagnose_curves(curves(healthy_loss(seed), 0.1))
    assert d.verdict == "ok"
    assert not [f for f in d.findings if f.severity != "info"]
    assert d.summary.startswith("no learning-rate problem found")


def test_plateau_at_constant_lr_suggests_a_decay_with_the_same_peak():
    loss = noisy(0.8 + 1.5 * np.exp(-STEPS / 25.0), 0.08)
    d = diagnose_curves(curves(loss, 0.05))
    f = next(f for f in d.findings if f.kind == "plateau_no_decay")
    assert f.severity == "info" and f.suggested_lr == 0.05
    assert f.suggested_schedule == "cosine(peak_lr=0.05,total_steps=600)"
    assert d.verdict == "ok"


def test_overfitting_is_not_blamed_on_the_lr():
    train = noisy(0.05 + 2.0 * np.exp(-STEPS / 60.0), 0.01)
    vx = np.arange(59.0, N, 60.0)
    vy = np.array([1.2, 0.7, 0.5, 0.45, 0.47, 0.52, 0.58, 0.65, 0.72, 0.8])
    d = diagnose_curves(curves(train, 0.01, val=(vx, vy)))
    f = next(f for f in d.findings if f.kind == "overfitting")
    assert f.suggested_lr is None and not f.lr_related
    assert f.step == vx[3]
    assert d.verdict == "ok"


# ------------------------------------------------------------------ schedule
def _cosine(peak: float, total: int, n: int) -> np.ndarray:
    t = np.minimum(np.arange(float(n)), total)
    return peak * 0.5 * (1 + np.cos(np.pi * t / total))


def test_cosine_floor_reached_too_early():
    d = diagnose_curves(curves(healthy_loss(), _cosine(0.1, 240, N)))
    f = next(f for f in d.findings if f.kind == "schedule_floor_early")
    assert f.evidence["floor_fraction"] == pytest.approx(0.4, abs=0.02)
    assert f.suggested_schedule == "cosine(peak_lr=0.1,total_steps=600)"


def test_schedule_restarted_on_resume():
    lr = np.concatenate([_cosine(0.1, N, 350), _cosine(0.1, N, N - 350)])
    run = curves(healthy_loss(), lr, resumed_at=[350.0])
    d = diagnose_curves(run)
    f = next(f for f in d.findings if f.kind == "schedule_restart")
    assert f.step == 350.0 and f.evidence["resumed_at"] == [350.0]
    assert "resumed" in f.cause


def test_epoch_sized_cosine_stepped_per_batch_is_a_unit_mixup():
    import torch

    spe, epochs = 60, 10  # CosineAnnealingLR(T_max=epochs) stepped every batch
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    lrs = []
    for _ in range(spe * epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    d = diagnose_curves(curves(healthy_loss(), np.array(lrs), steps_per_epoch=spe))
    f = next(f for f in d.findings if f.kind == "schedule_unit_mixup")
    assert f.evidence["period_steps"] == pytest.approx(2 * epochs)
    assert "schedule_floor_early" not in kinds(d)


def test_step_sized_warmup_stepped_per_epoch_never_ends():
    lr = np.repeat(np.linspace(0.001, 0.01, 10), 60)  # warmup over 1000 steps, stepped/epoch
    d = diagnose_curves(curves(healthy_loss(), lr, steps_per_epoch=60))
    f = next(f for f in d.findings if f.kind == "schedule_unit_mixup")
    assert "still rising" in f.title


def test_warmup_missing_for_a_transformer():
    d = diagnose_curves(curves(healthy_loss(), 3e-4), model_kind="transformer")
    f = next(f for f in d.findings if f.kind == "warmup_missing")
    assert f.severity == "info" and "warmup_steps=30" in f.suggested_schedule
    ramp = np.minimum(1.0, (STEPS + 1) / 30.0) * 3e-4
    assert "warmup_missing" not in kinds(diagnose_curves(curves(healthy_loss(), ramp),
                                                         model_kind="transformer"))
    # no model kind, no early trouble: no warmup advice
    assert "warmup_missing" not in kinds(diagnose_curves(curves(healthy_loss(), 3e-4)))


def test_early_spike_without_warmup_is_a_warning():
    loss = healthy_loss()
    loss[3:12] += 4.0
    d = diagnose_curves(curves(loss, 3e-3))
    assert any(f.kind == "warmup_missing" and f.severity == "warning" for f in d.findings)


# ------------------------------------------------------------------ real runs
def _logreg_run(tmp_path, lr: float):
    """Train lrkit's breast-cancer logistic regression at ``lr``; log every update to CSV."""
    import torch

    from lrkit.tasks import builtin_tasks
    from lrkit.tasks.data import epoch_batches, evaluate, fixed_batches

    task = builtin_tasks()["breast-cancer-logreg"]()
    path = tmp_path / f"lr{lr:g}.csv"
    rows = ["step,epoch,loss,lr,val_loss"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = task.model()
        opt = task.optimizer(model.parameters(), lr)
        gen = torch.Generator().manual_seed(0)
        val = fixed_batches(task.val_data, 512)
        step = 0
        for epoch in range(task.epochs):
            for x, y in epoch_batches(task.train_data, task.batch_size, gen):
                loss = task.loss_fn(model(x), y)
                rows.append(f"{step},{epoch},{float(loss.detach())!r},{lr!r},")
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
            rows.append(f"{step - 1},{epoch},,,{evaluate(model, task.loss_fn, val)!r}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("lr,verdict", [(1e-3, "too_low"), (1.0, "ok"), (1000.0, "too_high")])
def test_real_logistic_regression_runs(tmp_path, lr, verdict):
    # the oracle LR of this task (best validation loss on a half-decade grid) is 1.0
    d = diagnose(_logreg_run(tmp_path, lr))
    assert d.verdict == verdict, [(f.kind, f.title) for f in d.findings]
    if verdict != "ok":
        factor = d.suggested_lr / lr
        assert (factor > 1) == (verdict == "too_low")
    assert math.isclose(d.base_lr, lr)
