"""Reading loss histories and the saturating fit behind ``--loss-history``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lrkit.errors import DataError
from lrkit.rules import CalcInput, calculate, fit_loss_curve, read_loss_history

EPOCHS = np.arange(1, 26, dtype=float)


def exp_curve(e, a=0.4, b=2.0, c=0.25):
    return a + b * np.exp(-c * (e - e[0]))


def test_exponential_fit_recovers_parameters_and_convergence_epoch():
    fit = fit_loss_curve(EPOCHS, exp_curve(EPOCHS))
    assert fit.model == "exponential"
    assert fit.params["a"] == pytest.approx(0.4, rel=1e-5)
    assert fit.params["c"] == pytest.approx(0.25, rel=1e-5)
    assert fit.convergence_epoch == pytest.approx(1 + math.log(10) / 0.25, rel=1e-5)
    assert fit.r2 > 0.999999


def test_power_law_fit_is_chosen_for_power_law_data():
    y = 1.0 + 3.0 * (EPOCHS - 1 + 1.0) ** -0.8
    fit = fit_loss_curve(EPOCHS, y)
    assert fit.model == "power"
    assert fit.params["c"] == pytest.approx(0.8, rel=1e-4)
    assert fit.convergence_epoch == pytest.approx(1 - 1 + 10 ** (1 / 0.8), rel=1e-4)


def test_noisy_fit_is_close():
    rng = np.random.default_rng(1)
    y = exp_curve(EPOCHS) + rng.normal(0, 0.01, EPOCHS.size)
    fit = fit_loss_curve(EPOCHS, y)
    assert fit.convergence_epoch == pytest.approx(1 + math.log(10) / 0.25, rel=0.1)


def test_increasing_losses_give_no_estimate():
    fit = fit_loss_curve(EPOCHS, 1.0 + 0.1 * EPOCHS)
    assert fit.model is None and fit.convergence_epoch is None


@pytest.mark.parametrize("fmt", ["csv_header", "csv_plain", "csv_single", "json_obj",
                                 "json_records", "json_list", "csv_val_loss"])
def test_file_formats(tmp_path, fmt):
    losses = exp_curve(EPOCHS)
    path = tmp_path / ("h.json" if fmt.startswith("json") else "h.csv")
    rows = list(zip(EPOCHS.tolist(), losses.tolist(), strict=True))
    if fmt == "csv_header":
        path.write_text("epoch,loss\n" + "".join(f"{e},{v}\n" for e, v in rows))
    elif fmt == "csv_val_loss":
        path.write_text("epoch,train_loss,val_loss\n"
                        + "".join(f"{e},9,{v}\n" for e, v in rows))
    elif fmt == "csv_plain":
        path.write_text("".join(f"{e},{v}\n" for e, v in rows))
    elif fmt == "csv_single":
        path.write_text("".join(f"{v}\n" for _, v in rows))
    elif fmt == "json_obj":
        path.write_text(json.dumps({"epoch": EPOCHS.tolist(), "loss": losses.tolist()}))
    elif fmt == "json_records":
        path.write_text(json.dumps([{"epoch": e, "loss": v} for e, v in rows]))
    else:
        path.write_text(json.dumps(losses.tolist()))
    e, v = read_loss_history(str(path))
    np.testing.assert_allclose(e, EPOCHS)
    np.testing.assert_allclose(v, losses)


@pytest.mark.parametrize(("content", "match"), [
    ("", "empty"),
    ("epoch,loss\n1,2\n2,1\n", "need at least 4"),
    ("epoch,loss\n1,2\n3,1\n2,0.5\n4,0.4\n", "strictly increasing"),
    ("epoch,loss\n1,2\n2,nan\n3,1\n4,0.5\n", "non-finite"),
    ("epoch,acc\n1,2\n2,1\n3,1\n4,0.5\n", "no 'loss' column"),
    ('{"epoch": [1, 2], "loss": [1, 2, 3]}', "differ in length"),
    ("[1, 2", "invalid JSON"),
    ("1,2,3\n4,5,6\n", "3 unnamed columns"),
])
def test_bad_files(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        read_loss_history(str(path))


def test_calculator_uses_the_loss_fit(tmp_path):
    path = tmp_path / "hist.csv"
    path.write_text("epoch,loss\n" + "".join(
        f"{e},{v}\n" for e, v in zip(EPOCHS, exp_curve(EPOCHS), strict=True)))
    rec = calculate(CalcInput(optimizer="adam", epochs=90, steps_per_epoch=100,
                              loss_history=str(path)))
    assert rec.convergence["method"] == "loss-fit"
    assert rec.estimated_convergence_epoch == pytest.approx(1 + math.log(10) / 0.25, rel=1e-4)
    assert rec.estimated_convergence_step == round(rec.estimated_convergence_epoch * 100)
    assert rec.rules[-1].id == "convergence.loss-fit"
    # pairs work too (the web API passes them directly)
    pairs = [[float(e), float(v)] for e, v in zip(EPOCHS, exp_curve(EPOCHS), strict=True)]
    rec2 = calculate(CalcInput(optimizer="adam", loss_history=pairs))
    assert rec2.estimated_convergence_epoch == pytest.approx(rec.estimated_convergence_epoch)
