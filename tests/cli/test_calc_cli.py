"""``lrkit calc``: readable summary, ``--json`` contract, ``--plot``, ``--evidence``, errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from ._invoke import run_cli


def run(capsys, *argv):
    """Run ``lrkit calc ARGV`` in-process; return (exit code, stdout, stderr)."""
    return run_cli(capsys, "calc", *argv)


def test_goyal_example_prints_summary_with_sources(capsys):
    code, out, _ = run(capsys, "--optimizer", "sgd", "--base-lr", "0.1",
                       "--base-batch-size", "256", "--batch-size", "8192")
    assert code == 0
    assert "3.2" in out and "5 epochs" in out
    assert "Goyal et al. 2017" in out and "§2.1" in out


def test_issue_example_json_contract(capsys):
    code, out, _ = run(capsys, "--optimizer", "adamw", "--batch-size", "512",
                       "--base-batch-size", "256", "--epochs", "90", "--steps-per-epoch",
                       "500", "--schedule", "cosine", "--warmup", "auto", "--json")
    assert code == 0
    doc = json.loads(out)
    for key in ("initial_lr", "final_lr", "decay_type", "optimizer", "warmup_steps",
                "estimated_convergence_epoch", "rules", "schedule"):
        assert key in doc
    assert doc["initial_lr"] == pytest.approx(1e-3 * 2**0.5)
    assert doc["decay_type"] == "cosine" and doc["optimizer"] == "adamw"
    assert doc["warmup_steps"] == 1000   # 2 / (1 - beta2) with beta2 scaled to 0.998
    assert doc["schedule"]["step"][0] == 0 and doc["schedule"]["step"][-1] == 45_000
    assert 1000 in doc["schedule"]["step"] and len(doc["schedule"]["step"]) <= 2000
    assert [r["id"] for r in doc["rules"]] == ["optimizer.adamw", "scaling.sqrt",
                                               "warmup.adam", "schedule.cosine",
                                               "convergence.lr-settled"]
    assert 70 < doc["estimated_convergence_epoch"] < 73


def test_deepseek_example(capsys):
    code, out, _ = run(capsys, "--scaling-law", "deepseek", "--compute-flops", "1e20", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["initial_lr"] == pytest.approx(9.86e-4, rel=1e-3)
    assert doc["scaling_law"]["batch_tokens"] == pytest.approx(1.017e6, rel=1e-3)


def test_plot_is_written(capsys, tmp_path):
    path = tmp_path / "calc.png"
    code, out, _ = run(capsys, "--model", "resnet", "--epochs", "90", "--dataset-size",
                       "50000", "--batch-size", "128", "--plot", str(path))
    assert code == 0 and path.stat().st_size > 1000
    assert "plot written" in out


def test_plot_without_run_length_is_an_error(capsys, tmp_path):
    code, _, err = run(capsys, "--plot", str(tmp_path / "x.png"))
    assert code == 2 and "--plot" in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_loss_history_flag(capsys, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("epoch,loss\n" + "".join(f"{e},{0.5 + 2 * 0.7 ** (e - 1)}\n"
                                             for e in range(1, 16)))
    code, out, _ = run(capsys, "--optimizer", "adam", "--loss-history", str(path), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["convergence"]["method"] == "loss-fit"
    # L(e) = 0.5 + 2 * 0.7^(e-1): excess at 10% after ln(10) / -ln(0.7) epochs
    assert doc["estimated_convergence_epoch"] == pytest.approx(
        1 + math.log(10) / -math.log(0.7), rel=1e-3)


def test_evidence_table(capsys):
    code, out, _ = run(capsys, "--evidence", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {"scaling.linear", "law.deepseek", "warmup.adam"} <= {r["id"] for r in rows}
    code, out, _ = run(capsys, "--evidence")
    assert code == 0 and "Malladi" in out


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--optimizer", "adamx"], "--optimizer = 'adamx': unknown name; did you mean 'adam'?"),
    (["--batch-size", "0"], "--batch-size = 0: must be >= 1"),
    (["--warmup", "soon"], "--warmup = 'soon'"),
    (["--scaling-law", "deepseek"], "needs the compute"),
    (["--loss-history", "/nonexistent/h.csv"], "file not found"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_real_entry_point():
    """The installed console script, as a user runs it."""
    proc = subprocess.run([sys.executable, "-m", "lrkit.cli.app", "calc", "--optimizer", "sgd",
                           "--base-lr", "0.1", "--base-batch-size", "256", "--batch-size",
                           "8192", "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["initial_lr"] == pytest.approx(3.2)
