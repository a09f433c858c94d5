"""``lrkit sharpness``: the JSON contract, the value against a hand-built Hessian, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ._invoke import run_cli


def run(capsys, *argv):
    """Run ``lrkit sharpness ARGV`` in-process; return (exit code, stdout, stderr)."""
    return run_cli(capsys, "sharpness", *argv)


def logistic_hessian_top(seed: int, n_batches: int) -> float:
    """lambda_max of (1/n) sum s(1-s) x~ x~^T on the same model and batches, in numpy."""
    from lrkit.curvature import fixed_batches
    from lrkit.tasks import load_task

    task = load_task("breast-cancer-logreg")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = task.model()
    batches = fixed_batches(task.train_data, task.batch_size, n_batches, seed=seed)
    x = np.concatenate([b[0].numpy() for b in batches]).astype(np.float64)
    xt = np.hstack([x, np.ones((len(x), 1))])
    w = np.r_[model.weight.detach().numpy().ravel(), model.bias.detach().numpy()]
    s = 1.0 / (1.0 + np.exp(-(xt @ w)))
    h = (xt * (s * (1 - s))[:, None]).T @ xt / len(x)
    return float(np.linalg.eigvalsh(h)[-1])


def test_json_contract_and_value_for_plain_sgd(capsys):
    code, out, err = run(capsys, "--task", "breast-cancer-logreg", "--batches", "4", "--json",
                         "--lr-suggestion", "0.05")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["applies"] == "sgd" and doc["optimizer"] == "SGD"
    assert doc["point"] == "initialisation"
    sharp = doc["sharpness"]["value"]
    assert sharp == pytest.approx(logistic_hessian_top(0, 4), rel=1e-3)
    assert doc["sharpness"]["hvps"] <= 30 and doc["cost"]["examples"] == 64
    assert doc["bounds"]["max_stable_lr"] == pytest.approx(2 / sharp)
    assert doc["bounds"]["quadratic_optimal_lr"] == pytest.approx(1 / sharp)
    assert doc["comparison"]["ratio_to_max_stable"] == pytest.approx(0.05 * sharp / 2)
    assert doc["preconditioned_sharpness"] is None and doc["adam_bounds"] is None
    assert doc["cost"]["training_runs"] > 0


def test_adam_task_reports_the_preconditioned_bound(capsys):
    code, out, err = run(capsys, "--task", "digits-mlp", "--batches", "2", "--max-hvps", "12",
                         "--lr-suggestion", "3e-3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["applies"] == "adam"
    lam = doc["preconditioned_sharpness"]["value"]
    assert doc["adam_bounds"]["max_stable_lr"] == pytest.approx(38 / lam)
    assert doc["bounds"] == doc["adam_bounds"]
    assert doc["comparison"]["verdict"] in {"stable", "edge", "unstable"}


def test_warm_steps_change_the_point_and_read_the_optimizer_state(capsys):
    code, out, err = run(capsys, "--task", "breast-cancer-logreg", "--batches", "2",
                         "--warm-steps", "5", "--warm-lr", "0.1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["point"] == "after 5 warm steps at lr 0.1"
    assert doc["sharpness"]["value"] != pytest.approx(logistic_hessian_top(0, 2), rel=1e-3)


def test_readable_summary(capsys):
    code, out, _ = run(capsys, "--task", "breast-cancer-logreg", "--batches", "2",
                       "--lr-suggestion", "100")
    assert code == 0
    assert "max stable LR" in out and "lambda_max(H)" in out
    assert "unstable" in out and "biased upward" in out


@pytest.mark.parametrize("argv, needle", [
    (["--batches", "0"], "--batches = 0"),
    (["--warm-steps", "3"], "--warm-steps = 3"),
    (["--lr-suggestion", "-1"], "--lr-suggestion = -1.0"),
    (["--method", "qr"], "method = 'qr'"),
    (["--task", "no-such-task"], "--task = 'no-such-task'"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code, out, err = run(capsys, "--task", "breast-cancer-logreg", *argv)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_compares_with_a_saved_range_test(capsys, tmp_path):
    from lrkit.rangetest import RangeTestResult

    lrs = np.geomspace(1e-5, 10, 80)
    losses = 1.0 - 0.5 * np.tanh(np.log10(lrs / 1e-3)) + np.where(lrs > 0.5, 5 * lrs, 0.0)
    saved = RangeTestResult.from_curves([(lrs, losses)], stop_reasons=["diverged"])
    path = saved.save(tmp_path / "rt.json")
    code, out, err = run(capsys, "--task", "breast-cancer-logreg", "--batches", "2",
                         "--rangetest", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["comparison"]["lr"] == pytest.approx(saved.suggestion)
    code, _, err = run(capsys, "--rangetest", str(tmp_path / "missing.json"))
    assert code == 2 and "does not exist" in err
