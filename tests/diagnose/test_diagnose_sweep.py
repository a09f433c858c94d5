"""A sweep: several runs of one model at different LRs, judged against each other.

Synthetic curves pin the rules (the gap, the sides, the edge fallback, the errors); real
logs written by MLflow and by torch's SummaryWriter check the whole path from files.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from lrkit.diagnose import Curve, diagnose_curves, diagnose_runs, diagnose_sweep
from lrkit.diagnose.sweep import GAP, final_loss
from lrkit.errors import ConfigError

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def run(lr: float, final: float, *, name: str | None = None, n: int = 80,
        logged_lr: bool = True):
    """One run's diagnosis: a loss falling from 2.0 to ``final`` (nan: it blows up)."""
    steps = np.arange(n, dtype=float)
    if math.isnan(final):
        loss = 2.0 * 1.2 ** steps
        loss[-3:] = np.nan
    else:
        loss = final + (2.0 - final) * 0.9 ** steps
    name = name or f"lr={lr:g}"
    curves = [Curve.of("loss", loss, steps=steps, run=name)]
    if logged_lr:
        curves.append(Curve.of("lr", np.full(n, lr), steps=steps, run=name))
    return diagnose_curves(curves, project=False)


def climbed(lr: float, to: float, n: int = 80):
    """One run's diagnosis: a loss that climbs from 2.0 to ``to`` and stays (too high)."""
    steps = np.arange(n, dtype=float)
    name = f"lr={lr:g}"
    return diagnose_curves([Curve.of("loss", 2.0 + (to - 2.0) * (1 - 0.9 ** steps),
                                      steps=steps, run=name),
                            Curve.of("lr", np.full(n, lr), steps=steps, run=name)],
                           project=False)


def test_runs_are_judged_by_their_side_of_the_best_and_the_gap():
    s = diagnose_sweep([run(0.001, 1.2), run(0.01, 0.52), run(0.1, 0.5), run(1.0, 0.7),
                        run(10.0, math.nan)])
    assert [r.lr for r in s.runs] == [0.001, 0.01, 0.1, 1.0, 10.0]
    assert [r.verdict for r in s.runs] == ["too_low", "ok", "ok", "too_high", "too_high"]
    # the run that blew up is judged by its own curve (which says too high)
    assert [r.basis for r in s.runs] == ["sweep"] * 4 + ["single run"]
    assert s.best_lr == 0.1 and s.edge == ""
    assert s.runs[1].gap == pytest.approx(0.04, abs=0.01)  # 0.52 vs 0.50
    assert math.isinf(s.runs[-1].final)
    # the fitted minimum lies between the best run's neighbours, nearer the flatter side
    assert 0.01 < s.suggested_lr < 1.0
    assert "best at LR 0.1" in s.summary and "2 ok" in s.summary
    # runs a decade apart place the minimum roughly: the note names the runs that refine it
    assert any("3.3 octaves apart" in note for note in s.notes)


def test_a_fine_sweep_needs_no_refining():
    s = diagnose_sweep([run(0.05, 0.6), run(0.1, 0.5), run(0.2, 0.55)])
    assert 0.05 < s.suggested_lr < 0.2 and s.notes == ()


def test_the_gap_is_the_line_between_ok_and_a_problem():
    below, above = 1.0 + 0.9 * GAP, 1.0 + 1.1 * GAP
    s = diagnose_sweep([run(0.01, below), run(0.1, 1.0), run(1.0, above)])
    assert [r.verdict for r in s.runs] == ["ok", "ok", "too_high"]
    s = diagnose_sweep([run(0.01, below), run(0.1, 1.0), run(1.0, above)], gap=2 * GAP)
    assert [r.verdict for r in s.runs] == ["ok", "ok", "ok"]


def test_a_tiny_best_loss_does_not_make_every_other_run_a_problem():
    # the gap's denominator is floored at 5% of the untrained loss (2.0 here, so 0.1):
    # 0.001 -> 0.011 is a gap of 0.1, not of 10
    s = diagnose_sweep([run(0.01, 0.011), run(0.1, 0.001), run(1.0, 0.03)])
    assert s.runs[0].gap == pytest.approx(0.1, rel=0.05)
    assert s.runs[2].gap == pytest.approx(0.29, rel=0.05)
    assert [r.verdict for r in s.runs] == ["ok", "ok", "too_high"]


def test_an_edge_best_keeps_the_single_run_verdict_and_says_so():
    # best at the top, and that run's own curve has converged: the sweep cannot tell
    # whether a higher LR would be better still, and suggests no LR past it
    runs = [run(0.001, 1.6), run(0.003, 1.2), run(0.01, 0.9)]
    assert runs[-1].verdict == "ok"
    s = diagnose_sweep(runs)
    assert s.edge == "high"
    top = s.runs[-1]
    assert top.basis == "single run" and top.verdict == "ok"
    assert [r.verdict for r in s.runs[:2]] == ["too_low", "too_low"]
    assert s.suggested_lr == 0.01
    assert any("highest LR tried" in note and "cannot rule it out" in note
               for note in s.notes)


def test_an_edge_best_whose_curve_still_falls_points_past_the_edge():
    # every run still falling in a straight line: each one's own verdict is too low, and
    # the best (the highest LR) says so: one spacing of the sweep above it
    steps = np.arange(200, dtype=float)

    def falling(lr: float, slope: float):
        name = f"lr={lr:g}"
        return diagnose_curves([Curve.of("loss", 2.3 - slope * steps, steps=steps, run=name),
                                Curve.of("lr", np.full(200, lr), steps=steps, run=name)],
                               project=False)

    runs = [falling(0.0001, 0.001), falling(0.0003, 0.002), falling(0.001, 0.004)]
    assert runs[-1].verdict == "too_low"
    s = diagnose_sweep(runs)
    assert s.edge == "high" and s.runs[-1].basis == "single run"
    assert s.suggested_lr == pytest.approx(0.001 * 0.001 / 0.0003)
    assert "the best LR lies above the sweep" in s.summary


def test_an_edge_run_is_judged_by_its_training_loss_when_val_loss_is_compared():
    # the sweep compares val_loss; alone, each run's 10-point val curve has levelled off
    # ("ok"), but its per-update training loss still falls in a straight line: the best
    # run, at the top edge, keeps the verdict its training loss gives
    steps, epochs = np.arange(200, dtype=float), np.arange(1, 11, dtype=float)

    def run_with_val(lr: float, slope: float, val_final: float):
        name = f"lr={lr:g}"
        val = val_final + (2.3 - val_final) * 0.5 ** epochs
        return diagnose_curves([Curve.of("loss", 2.3 - slope * steps, steps=steps, run=name),
                                Curve.of("lr", np.full(200, lr), steps=steps, run=name),
                                Curve.of("val_loss", val, epochs=epochs, run=name)],
                               "val_loss", project=False)

    runs = [run_with_val(0.0001, 0.001, 2.0), run_with_val(0.0003, 0.002, 1.9),
            run_with_val(0.001, 0.004, 1.5)]
    assert runs[-1].verdict == "ok" and runs[-1].metric == "val_loss"
    s = diagnose_sweep(runs)
    assert s.metric == "val_loss" and s.edge == "high"
    top = s.runs[-1]
    assert top.basis == "single run" and top.verdict == "too_low"
    assert top.diagnosis.metric == "loss" and top.to_dict()["single_run_verdict"] == "too_low"
    assert "the best LR lies above the sweep" in s.summary


def test_a_best_run_whose_own_curve_says_too_high_vouches_for_no_one():
    # every run climbed from its untrained loss and stayed there: the best of them is no
    # standard, so the runs within the gap keep their own verdicts instead of "ok"
    runs = [climbed(0.1, 2.6), climbed(1.0, 2.5), climbed(10.0, 2.55)]
    assert [r.verdict for r in runs] == ["too_high"] * 3
    s = diagnose_sweep(runs)
    assert s.edge == "" and s.best_lr == 1.0
    assert all(r.gap <= GAP for r in s.runs)
    assert [(r.verdict, r.basis) for r in s.runs] == [("too_high", "single run")] * 3


def test_a_run_names_the_lr_of_the_run_that_would_check_it():
    assert run(0.1, 0.5).verdict == "ok" and run(0.1, 0.5).check_lr == pytest.approx(1.0)
    high = climbed(1.0, 2.5)
    assert high.verdict == "too_high" and high.check_lr == pytest.approx(0.1)
    assert high.to_dict()["check_lr"] == pytest.approx(0.1)
    assert run(0.1, 0.5, logged_lr=False).check_lr is None


def test_every_run_diverged():
    s = diagnose_sweep([run(1.0, math.nan), run(10.0, math.nan)])
    assert s.suggested_lr == pytest.approx(0.1)
    assert all(r.basis == "single run" for r in s.runs)
    assert "every run diverged" in s.notes[0]


def test_a_best_run_whose_neighbours_both_blew_up_is_the_suggestion():
    # found on the zoo's holdout11: a quadratic needs two finite runs, and this sweep has one
    s = diagnose_sweep([run(0.01, math.nan), run(0.1, 0.5), run(1.0, math.nan)])
    assert s.best_lr == 0.1 and s.edge == "" and s.suggested_lr == 0.1
    # a run that blew up is judged by its own curve, whichever side of the best it is on
    assert [(r.verdict, r.basis) for r in s.runs] == [
        ("too_high", "single run"), ("ok", "sweep"), ("too_high", "single run")]
    assert "only the run at 0.1 ended finite" in s.notes[0]


def test_final_loss_is_the_tail_mean_or_the_last_point():
    d = run(0.1, 0.5, n=200)
    first, final = final_loss(d)
    assert first == pytest.approx(2.0)
    values = np.asarray(next(c for c in d.curves if c.name == "loss").values)
    assert final == pytest.approx(values[-20:].mean())
    short = run(0.1, 0.5, n=10)
    assert final_loss(short)[1] == pytest.approx(
        next(c for c in short.curves if c.name == "loss").values[-1])


@pytest.mark.parametrize("runs,needle", [
    ([run(0.1, 0.5)], "at least two runs"),
    ([run(0.1, 0.5), run(0.1, 0.6, name="again")], "same LR"),
    ([run(0.1, 0.5), run(1.0, 0.6, logged_lr=False)], "records no learning rate"),
])
def test_bad_sweeps_are_refused_with_the_fix(runs, needle):
    with pytest.raises(ConfigError, match=needle):
        diagnose_sweep(runs)


def test_a_real_mlflow_store_is_a_sweep_of_its_runs():
    for store in (LOGS / "mlflow" / "mlflow.db", LOGS / "mlflow" / "mlruns"):
        s = diagnose_runs([store])
        by_name = {r.name: r for r in s.runs}
        assert set(by_name) == {"cosine-sgd", "diverged"}
        assert by_name["diverged"].lr == 5.0 and by_name["diverged"].verdict == "too_high"
        assert by_name["cosine-sgd"].lr == 0.05 and s.best_lr == 0.05
        # the best is the lowest LR tried, and its own curve is healthy: no LR below it
        # is suggested on the sweep's say-so
        assert s.edge == "low" and s.suggested_lr == 0.05


def test_a_negative_loss_is_measured_by_its_magnitude():
    # a negative log-likelihood can end below 0: 2.0 -> -1.0 is the best, -0.95 within 5%
    s = diagnose_sweep([run(0.01, -0.95), run(0.1, -1.0), run(1.0, -0.5)])
    assert [r.verdict for r in s.runs] == ["ok", "ok", "too_high"]
    assert s.runs[2].gap == pytest.approx(0.5, rel=0.05)


def test_runs_must_compare_one_kind_of_curve():
    steps = np.arange(60, dtype=float)
    val = diagnose_curves([Curve.of("val_loss", 1 + 0.9 ** steps, steps=steps, run="a"),
                           Curve.of("lr", np.full(60, 0.1), steps=steps, run="a")],
                          project=False)
    with pytest.raises(ConfigError, match="different kinds"):
        diagnose_sweep([run(0.01, 0.5), val])


def test_a_run_that_blew_up_before_its_validation_still_counts(tmp_path):
    # --metric val_loss: the diverged run logged no validation loss, only its train loss
    for lr, final in [(0.01, 0.6), (0.1, 0.5)]:
        rows = [f"{s},{s // 20},{final + 1.5 * 0.95 ** s},{lr},"
                + (f"{final + 0.05}" if s % 20 == 19 else "") for s in range(100)]
        (tmp_path / f"lr{lr}.csv").write_text("step,epoch,loss,lr,val_loss\n"
                                             + "\n".join(rows) + "\n")
    rows = [f"{s},0,{2.0 * 1.5 ** s if s < 60 else 'nan'},10.0," for s in range(100)]
    (tmp_path / "lr10.csv").write_text("step,epoch,loss,lr,val_loss\n" + "\n".join(rows)
                                       + "\n")
    s = diagnose_runs(sorted(tmp_path.glob("*.csv")), "val_loss")
    assert s.metric == "val_loss" and s.best_lr == 0.1
    assert [(r.lr, r.verdict) for r in s.runs][-1] == (10.0, "too_high")


def test_a_lightning_logs_folder_is_a_sweep_of_its_versions(tmp_path):
    # the real CSVLogger fixture as version_0, and the same run relabelled at 10x its LR
    # as version_1: the folder read as one log is its latest version, as a sweep both
    logs = tmp_path / "lightning_logs"
    shutil.copytree(LOGS / "lightning" / "lightning_logs", logs)
    shutil.copytree(logs / "version_0", logs / "version_1")
    metrics = logs / "version_1" / "metrics.csv"
    lines = metrics.read_text().splitlines()
    col = lines[0].split(",").index("lr-SGD")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        if cells[col]:
            cells[col] = str(10 * float(cells[col]))
        lines[i] = ",".join(cells)
    metrics.write_text("\n".join(lines) + "\n")
    s = diagnose_runs([logs])
    assert [Path(r.name).name for r in s.runs] == ["version_0", "version_1"]
    assert s.runs[1].lr == pytest.approx(10 * s.runs[0].lr)
    assert s.runs[0].final == pytest.approx(s.runs[1].final)  # the same losses
