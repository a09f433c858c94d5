"""``lrkit diagnose``: readable report, ``--json`` contract, ``--plot``, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._invoke import run_cli

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def run(capsys, *argv):
    """Run ``lrkit diagnose ARGV`` in-process; return (exit code, stdout, stderr)."""
    return run_cli(capsys, "diagnose", *argv)


def test_report_names_format_metric_and_verdict(capsys):
    code, out, _ = run(capsys, LOGS / "lightning")
    assert code == 0
    assert "lightning log" in out and "train_loss_step" in out
    assert "no learning-rate problem found" in out
    assert "convergence" in out


def test_report_names_the_lr_of_a_run_that_would_check_the_verdict(capsys):
    # the mlflow store's diverged run was configured at 5.0: a check a decade below it
    code, out, _ = run(capsys, LOGS / "mlflow" / "mlflow.db", "--run", "diverged")
    assert code == 0
    said = " ".join(out.split())
    assert "to check this verdict: train once more at LR 0.5" in said
    assert f"lrkit diagnose {LOGS / 'mlflow' / 'mlflow.db'} NEW_LOG" in said
    code, out, _ = run(capsys, LOGS / "mlflow" / "mlflow.db", "--run", "diverged", "--json")
    assert json.loads(out)["check_lr"] == pytest.approx(0.5)


def test_json_contract_for_a_diverged_run(capsys):
    code, out, _ = run(capsys, LOGS / "mlflow" / "mlflow.db", "--run", "diverged", "--json")
    assert code == 0  # the diagnosis ran; what it found does not change the exit code
    doc = json.loads(out)
    for key in ("findings", "estimated_convergence_epoch", "curves", "verdict", "summary"):
        assert key in doc
    assert doc["verdict"] == "too_high"
    first = doc["findings"][0]
    assert set(first) >= {"kind", "severity", "evidence", "action", "suggested_lr"}
    assert first["kind"] == "nan_loss" and first["severity"] == "critical"
    # the configured LR was 5.0 (MLflow param): the corrected LR is 10x lower
    assert first["suggested_lr"] == pytest.approx(0.5)
    loss = next(c for c in doc["curves"] if c["kind"] == "train_loss")
    assert loss["values"][-1] is None  # NaN -> null: strict JSON


def test_metric_option_selects_the_curve(capsys):
    code, out, _ = run(capsys, LOGS / "keras2" / "training.log", "--metric", "val_loss",
                       "--json")
    assert code == 0
    assert json.loads(out)["metric"] == "val_loss"


def test_plot_is_written(capsys, tmp_path):
    target = tmp_path / "diag.png"
    code, out, _ = run(capsys, LOGS / "huggingface", "--plot", target)
    assert code == 0 and target.stat().st_size > 1000
    assert "plot written" in out


@pytest.mark.parametrize("argv,needle", [
    (["missing-dir/log.csv"], "no such file"),
    ([LOGS / "plain" / "log.csv", "--metric", "bleu"], "metric = 'bleu'"),
    ([LOGS / "wandb" / "wandb_export.csv", "--run", "nope"], "run = 'nope'"),
    ([LOGS / "plain" / "log.csv", "--lr", "-1"], "lr = -1.0"),
    ([LOGS / "plain" / "log.csv", "--plot", "out.gif"], "unsupported file type"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def _flat(text: str) -> str:
    """The report with rich's line wrapping undone (words joined by single spaces)."""
    return " ".join(text.split())


@pytest.mark.parametrize("log", ["lightning", "huggingface", "keras2/training.log"])
def test_report_prints_every_reason_and_unit_verbatim(capsys, log):
    # the reasons name each feature's unit in brackets ("[fraction of the untrained
    # loss]"); printed as rich markup such a bracket was read as a style tag and vanished
    code, out, _ = run(capsys, LOGS / log, "--json")
    assert code == 0
    reasons = json.loads(out)["reasons"]
    assert any("[" in r for r in reasons)
    code, out, _ = run(capsys, LOGS / log)
    assert code == 0
    for reason in reasons:
        assert _flat(reason) in _flat(out)


def test_a_plot_path_with_brackets_is_printed_whole(capsys, tmp_path):
    target = tmp_path / "run[lr=0.1]" / "diag.png"
    target.parent.mkdir()
    code, out, _ = run(capsys, LOGS / "huggingface", "--plot", target)
    assert code == 0 and target.exists()
    assert "run[lr=0.1]" in "".join(out.split())  # wrapped lines joined
