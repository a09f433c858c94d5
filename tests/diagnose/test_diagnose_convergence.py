"""Convergence projection: known curves, noise, too little data, and the Diagnosis field."""

from __future__ import annotations

import numpy as np
import pytest

from lrkit.diagnose import Curve, diagnose_curves, estimate_convergence
from lrkit.diagnose.convergence import per_epoch

T = np.arange(1.0, 31.0)


def test_power_law_asymptote_and_epoch_match_the_closed_form():
    # f = 0.1 + 3 t^-1: f(E) - f(E+1) = 3 / (E (E+1)) < 0.01 * (f(1) - a) = 0.03
    # first at E (E+1) > 100, i.e. E = 10
    est = estimate_convergence(0.1 + 3.0 * T ** -1.0, epochs=T)
    assert est.final_loss == pytest.approx(0.1, abs=1e-3)
    assert est.epoch == 10.0 and est.converged
    assert est.weights["pow3"] > 0.5


def test_exponential_is_projected_from_its_first_third():
    # f = 0.5 + 2 exp(-t / 8): gain(E) = 2 e^{-E/8} (1 - e^{-1/8}) < 0.01 * 2 e^{-1/8}
    exact = next(e for e in range(1, 200)
                 if np.exp(-e / 8) * (1 - np.exp(-1 / 8)) < 0.01 * np.exp(-1 / 8))
    y = 0.5 + 2.0 * np.exp(-T / 8.0)
    est = estimate_convergence(y[:10], epochs=T[:10])
    assert est.final_loss == pytest.approx(0.5, abs=0.02)
    assert est.epoch == pytest.approx(exact, abs=2)
    assert not est.converged  # projected beyond the 10 epochs seen


def test_noise_widens_the_interval_but_keeps_the_estimate_close():
    rng = np.random.default_rng(1)
    y = 0.3 + 2.0 * T ** -0.8 + rng.normal(0, 0.01, len(T))
    est = estimate_convergence(y, epochs=T)
    lo, hi = est.final_loss_interval
    assert lo <= est.final_loss <= hi
    assert abs(est.final_loss - 0.3) < 0.1
    assert est.epoch_interval[0] <= est.epoch <= est.epoch_interval[1]


@pytest.mark.parametrize("values,reason", [
    ([1.0, 0.9, 0.8], "at least 4"),
    ([1.0, 1.1, 1.2, 1.3, 1.4], "not decreasing"),
    ([1.0, 0.9, float("nan"), 0.7, 0.6], "not decreasing"),
])
def test_no_estimate_says_why(values, reason):
    est = estimate_convergence(np.array(values))
    assert est.epoch is None and reason in est.reason


def test_tolerance_must_be_a_fraction():
    from lrkit.errors import ConfigError

    with pytest.raises(ConfigError, match="tolerance = 2"):
        diagnose_curves([Curve.of("loss", [2.0, 1.0, 0.5, 0.4], epochs=[1, 2, 3, 4])],
                        tolerance=2)


def test_per_epoch_averages_steps_and_drops_a_partial_last_epoch():
    epochs = np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0, 3.25])
    e, v = per_epoch(epochs, np.arange(13.0))
    assert e.tolist() == [1.0, 2.0, 3.0] and v.tolist() == [1.5, 5.5, 9.5]


def test_diagnosis_reports_the_epoch_of_a_step_log_with_epochs():
    spe = 50
    steps = np.arange(20 * spe, dtype=float)
    loss = 0.2 + 2.0 * ((steps + 1) / spe) ** -1.0
    d = diagnose_curves([Curve.of("loss", loss, steps=steps, epochs=(steps + 1) / spe)])
    assert d.convergence.unit == "epoch"
    # the fit runs on the per-epoch means of the per-step loss
    e, v = per_epoch((steps + 1) / spe, loss)
    assert d.estimated_convergence_epoch == estimate_convergence(v, epochs=e).epoch
    assert 2 <= d.estimated_convergence_epoch <= 20
    assert d.to_dict()["estimated_convergence_epoch"] == d.estimated_convergence_epoch
