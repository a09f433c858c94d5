"""The calibrated verdict: probabilities, "not enough data", prefixes, bounded raises, and
the regression of issue 16 (a healthy run under a decaying schedule called "too low")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.diagnose import Curve, diagnose, diagnose_curves
from lrkit.diagnose.advice import raise_bound
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.verdict import (
    CLASSES,
    FEATURES,
    MIN_POINTS,
    TreeVerdictModel,
    curve_features,
    judge,
    load_model,
)
from lrkit.errors import ConfigError

RNG = np.random.default_rng(7)


def _curves(y: np.ndarray, lr: np.ndarray | None = None) -> list[Curve]:
    steps = np.arange(len(y), dtype=np.float64)
    out = [Curve.of("loss", y, steps=steps)]
    if lr is not None:
        out.append(Curve.of("lr", lr, steps=steps))
    return out


def test_features_are_finite_and_scale_free() -> None:
    t = np.arange(400.0)
    y = 0.3 + 2.0 * np.exp(-t / 50) + 0.02 * RNG.standard_normal(400)
    a = curve_features(RunCurves.build(_curves(y)))
    b = curve_features(RunCurves.build(_curves(1000.0 * y)))  # same run, loss in other units
    assert set(a) == set(FEATURES)
    assert all(math.isfinite(v) for v in a.values())
    for name in FEATURES:
        assert a[name] == pytest.approx(b[name], abs=1e-9), name


def test_shape_features_take_their_known_values() -> None:
    # A power law L = (t + 1)^-0.5 has log-log slope -0.5 everywhere; an exponential
    # from 2.3 to 0.3 with time constant 50 makes half its drop at t = 50 ln 2 (~35 of
    # 1000 updates) and falls fastest at its very start.
    t = np.arange(1000.0)
    power = curve_features(RunCurves.build(_curves((t + 1.0) ** -0.5)))
    assert power["loglog"] == pytest.approx(-0.5, abs=0.01)
    expo = curve_features(RunCurves.build(_curves(0.3 + 2.0 * np.exp(-t / 50))))
    assert expo["loglog"] == pytest.approx(0.0, abs=0.01)  # converged: flat
    assert expo["half_at"] == pytest.approx(50 * math.log(2) / 999, abs=0.02)
    assert expo["half_tau"] == pytest.approx(expo["half_at"], abs=1e-9)  # no LR logged
    assert expo["fall_at"] < 0.06
    # A plateau, then a drop centred at 70% of the run (a too-low LR's late start).
    late = curve_features(RunCurves.build(_curves(1.0 + 1.0 / (1.0 + np.exp((t - 700) / 25)))))
    assert late["half_at"] == pytest.approx(0.7, abs=0.02)
    assert late["fall_at"] == pytest.approx(0.7, abs=0.03)


def test_half_tau_counts_lr_time() -> None:
    # The same curve under an LR that halves at update 500: LR time runs at half speed
    # after it, so a half-drop at update 750 sits at (500 + 125) / 750 of the LR time.
    t = np.arange(1000.0)
    y = 1.0 + 1.0 / (1.0 + np.exp((t - 750) / 10))
    lr = np.where(t < 500, 0.1, 0.05)
    f = curve_features(RunCurves.build(_curves(y, lr)))
    assert f["half_at"] == pytest.approx(0.75, abs=0.01)
    assert f["half_tau"] == pytest.approx(625 / 749.5, abs=0.01)


def test_lower_needs_a_margin_over_too_low() -> None:
    # A model with no trees states p = (too_high 0.5, too_low 0.25, ok 0.25) everywhere:
    # "too high" wins, at twice the probability of "too low".
    base = tuple(math.log(v) for v in (0.5, 0.25, 0.25))
    rc = RunCurves.build(_curves(np.linspace(2.3, 0.3, 50)))

    def verdict(lower_needs: float, rule: str | None = None) -> str:
        model = TreeVerdictModel(CLASSES, tuple(FEATURES), base, (),
                                 meta={"lower_needs": lower_needs, "veto": 0.3})
        return judge(rc, model=model, rule=rule).label

    assert verdict(0.0) == "too_high"
    assert verdict(1.9) == "too_high"
    assert verdict(3.0) == "ok"  # too close to "too low" to say "lower"
    assert verdict(3.0, rule="ok") == "ok"
    assert verdict(3.0, rule="too_high") == "too_high"  # the rules' evidence stands


def test_probabilities_are_a_distribution_and_name_their_reasons() -> None:
    t = np.arange(300.0)
    y = 0.3 + 2.0 * np.exp(-t / 30) + 0.01 * RNG.standard_normal(300)
    v = judge(RunCurves.build(_curves(y)))
    assert set(v.probabilities) == set(CLASSES)
    assert sum(v.probabilities.values()) == pytest.approx(1.0)
    assert v.probability == max(v.probabilities.values())
    assert v.reasons and all(":" in r for r in v.reasons)


def test_too_few_points_is_not_enough_data() -> None:
    d = diagnose_curves(_curves(np.linspace(2.3, 2.1, MIN_POINTS - 1)))
    assert d.verdict == "not_enough_data" and d.probability is None
    assert d.suggested_lr is None
    assert any(f"at least {MIN_POINTS}" in n for n in d.notes)
    assert d.to_dict()["verdict"] == "not_enough_data"


def test_a_nan_is_too_high_even_in_a_short_log() -> None:
    d = diagnose_curves(_curves(np.array([2.3, 9.0, np.nan]), np.full(3, 0.5)))
    assert d.verdict == "too_high"
    assert d.suggested_lr is not None and d.suggested_lr < 0.5


@pytest.mark.parametrize("progress", [0.0, 1.5, "half", math.nan])
def test_progress_is_checked(progress: object) -> None:
    with pytest.raises(ConfigError, match="progress"):
        diagnose_curves(_curves(np.linspace(2, 1, 50)), progress=progress)  # type: ignore[arg-type]


def test_a_prefix_is_judged_as_a_run_in_progress() -> None:
    t = np.arange(200.0)
    y = 2.3 - 0.004 * t + 0.005 * RNG.standard_normal(200)
    early = diagnose_curves(_curves(y), progress=0.25)
    assert early.progress == 0.25
    # the model sees how much of the run the curve covers, and in progress a "too low"
    # (raise) needs the fitted bar: a loss still falling at 25% of a run is expected. Both
    # ways: the model alone (judge without the rules' findings) and diagnose's verdict
    # (with them; a rule's "too low" feeds the model and can lift it over the bar)
    v = judge(RunCurves.build(_curves(y)), 0.25)
    assert v.features["progress"] == 0.25
    for label, p in ((v.label, v.probabilities), (early.verdict, early.probabilities)):
        assert label != "too_low" or p["too_low"] >= load_model().low


def test_tree_model_is_a_valid_classifier_on_every_feature_extreme() -> None:
    # the shipped trees are evaluated by lrkit itself: every corner of the feature box
    # gives a probability distribution, and the reasons name real features
    model = load_model()
    for fill in (-1e9, 0.0, 1e9):
        feats = dict.fromkeys(FEATURES, fill)
        p = model.proba(feats)
        assert set(p) == set(CLASSES) and math.isclose(sum(p.values()), 1.0)
        assert all(name in FEATURES for name, _ in model.pulls(feats, "ok"))


def test_a_candidates_weights_load_from_a_path(tmp_path) -> None:
    # benchmarks score a candidate's weights file beside the shipped one
    import json
    from importlib import resources

    w = json.loads(resources.files("lrkit.diagnose").joinpath("verdict_weights.json")
                   .read_text())
    w["temperature"], w["meta"]["fit_splits"] = 1.25, ["dev", "test"]
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(w))
    candidate, shipped = load_model(path), load_model()
    assert candidate.temperature == 1.25 != shipped.temperature
    assert candidate.meta["fit_splits"] == ["dev", "test"]
    assert candidate.trees == shipped.trees


def test_raise_bound_follows_the_curves_own_stability() -> None:
    calm = {"gain": 0.5, "blowup": 0.0, "noise": -2.0, "swing": 0.0}
    assert raise_bound(calm)[0] == 3.0
    assert raise_bound(calm | {"gain": 0.01})[0] == 10.0
    assert raise_bound(calm | {"noise": math.log10(0.3)})[0] == 2.0
    cap, why = raise_bound(calm | {"blowup": math.log10(1.2)})
    assert cap == 1.5 and "20%" in why


def test_verdict_and_suggested_lr_point_the_same_way() -> None:
    t = np.arange(400.0)
    for y in (2.3 - 0.0005 * t + 0.002 * RNG.standard_normal(400),          # slow
              np.r_[[2.3] * 3, [50.0] * 20, 2.2 + 0.3 * RNG.standard_normal(377)]):  # blown
        d = diagnose_curves(_curves(y, np.full(400, 0.01)))
        if d.verdict == "too_high":
            assert d.suggested_lr is not None and d.suggested_lr < 0.01
        elif d.verdict == "too_low":
            assert d.suggested_lr is not None and d.suggested_lr > 0.01
        raises = {f.lr_direction for f in d.findings if f.lr_direction}
        assert len(raises) <= 1, d.findings  # never "lower" and "raise" together


# --------------------------------------------------------------------------- issue 16
def _train_logged(lr: float, folder: object) -> float:
    """Train the zoo's sinc regression MLP (SGD momentum, cosine) at ``lr``, logging every
    update's loss and LR and every epoch's validation loss with torch's SummaryWriter.
    Returns the final validation loss (inf when it diverged)."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    from lrkit.tasks.data import epoch_batches, evaluate, fixed_batches
    from lrkit.tasks.training import seeded_rng
    from lrkit.tasks.zoo import ZOO

    task = ZOO["sinc-mlp-mom-cos"].make()
    spe = len(task.train_data) // task.batch_size
    total = task.epochs * spe
    lrs = task.lr_schedule(lr, total).values(total)
    val_batches = fixed_batches(task.val_data, 512)
    writer = SummaryWriter(log_dir=str(folder))
    step, val = 0, math.inf
    with seeded_rng(0):
        model = task.model()
        opt = task.optimizer(model.parameters(), lr)
        gen = torch.Generator().manual_seed(0)
        for _epoch in range(task.epochs):
            for x, y in epoch_batches(task.train_data, task.batch_size, gen):
                if step >= total:
                    break
                for g in opt.param_groups:
                    g["lr"] = float(lrs[step])
                opt.zero_grad()
                loss = task.loss_fn(model(x), y)
                writer.add_scalar("train/loss", float(loss), step)
                writer.add_scalar("train/lr", float(lrs[step]), step)
                if not torch.isfinite(loss):
                    writer.close()
                    return math.inf
                loss.backward()
                opt.step()
                step += 1
            val = evaluate(model, task.loss_fn, val_batches)
            writer.add_scalar("val/loss", val, step - 1)
    writer.close()
    return val if math.isfinite(val) else math.inf


def test_best_lr_under_cosine_is_not_told_to_raise(tmp_path) -> None:
    """Issue 16: SGD-momentum + cosine on a small regression MLP, at the best LR of a grid,
    was told "too low; try 10x", an LR at which the model diverges. The best run of a
    grid must not be called too low, and no finding may advise a raise."""
    grid = [0.01, 0.03, 0.1, 0.3, 1.0]
    finals = {lr: _train_logged(lr, tmp_path / f"lr{lr:g}") for lr in grid}
    best = min(finals, key=lambda k: finals[k])
    assert best < grid[-1], finals  # the grid brackets the best LR
    d = diagnose(tmp_path / f"lr{best:g}")
    assert d.verdict != "too_low", (best, finals, d.summary, d.reasons)
    assert not any(f.lr_direction == "raise" for f in d.findings), d.findings
