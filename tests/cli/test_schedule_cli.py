"""``lrkit schedule``: table, CSV and JSON output, plots, comparisons, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrkit.cli.app import main
from lrkit.schedules import parse

from ._invoke import run_cli

COSINE = "cosine(peak_lr=0.1,total_steps=1000,warmup_steps=100)"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(capsys, *argv):
    """Run ``lrkit schedule ARGV`` in-process; return (exit code, stdout, stderr)."""
    return run_cli(capsys, "schedule", *argv)


# -- output formats -------------------------------------------------------------------------


def test_default_table_shows_start_end_and_summary(capsys):
    code, out, err = run(capsys, COSINE)
    assert code == 0 and err == ""
    assert "LR over 1000 updates" in out and "21 shown" in out
    assert "step" in out and "lr" in out
    rows = [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in out.splitlines() if line.startswith("│")]
    assert rows[0] == ["0", "0"] and rows[2] == ["100", "0.1"]  # warmup from 0 to the peak
    assert rows[-1] == ["999", "3.04617e-07"] and len(rows) == 21
    assert "lr: max 0.1 at step 100, min 0, last 3.04617e-07" in out


def test_steps_default_to_the_horizon_and_can_be_given(capsys):
    code, out, _ = run(capsys, COSINE, "--format", "json")
    assert code == 0 and len(json.loads(out)["lr"]) == 1000
    code, out, _ = run(capsys, COSINE, "--format", "json", "--steps", "1500")
    doc = json.loads(out)
    assert code == 0 and doc["step"] == list(range(1500))
    assert doc["lr"][1200] == 0.0


def test_json_document_is_the_schedule_evaluated_at_every_step(capsys):
    code, out, err = run(capsys, COSINE, "--format", "json", "--steps", "300")
    assert code == 0 and err == ""
    doc = json.loads(out)
    s = parse(COSINE)
    assert doc["step"] == list(range(300))
    assert doc["lr"] == s.values(300).tolist()  # exact: floats survive JSON
    assert doc["spec"] == s.to_spec()
    assert parse(json.dumps(doc["spec"])) == s


def test_json_with_epochs_and_comparisons(capsys):
    other = "constant(base_lr=0.05)"
    code, out, _ = run(capsys, COSINE, "--format", "json", "--steps", "20",
                       "--steps-per-epoch", "8", "--compare", other)
    assert code == 0
    doc = json.loads(out)
    assert doc["epoch"][:3] == [0.0, 0.125, 0.25] and doc["epoch"][-1] == 19 / 8
    assert doc["compare"] == [{"spec": {"family": "constant", "base_lr": 0.05},
                               "lr": [0.05] * 20}]


def test_csv_has_one_row_per_step_with_exact_values(capsys):
    code, out, _ = run(capsys, "onecycle(peak_lr=1,total_steps=10)", "--format", "csv",
                       "--compare", "cosine(peak_lr=1,total_steps=10)", "--steps-per-epoch", "4")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "step,epoch,lr,compare_1"
    assert len(lines) == 11
    rows = [line.split(",") for line in lines[1:]]
    assert [r[0] for r in rows] == [str(i) for i in range(10)]
    assert [r[1] for r in rows][:5] == ["0", "0.25", "0.5", "0.75", "1"]
    np.testing.assert_array_equal([float(r[2]) for r in rows],
                                  parse("onecycle(peak_lr=1,total_steps=10)").values(10))
    np.testing.assert_array_equal([float(r[3]) for r in rows],
                                  parse("cosine(peak_lr=1,total_steps=10)").values(10))


def test_json_spec_on_the_command_line_equals_the_compact_form(capsys):
    spec = json.dumps({"family": "step", "base_lr": 1.0, "step_size": 3, "gamma": 0.5})
    _, a, _ = run(capsys, spec, "--steps", "10", "--format", "csv")
    _, b, _ = run(capsys, "step(base_lr=1,step_size=3,gamma=0.5)", "--steps", "10",
                  "--format", "csv")
    assert a == b and "0.125" in a


def test_table_lists_the_compared_specs(capsys):
    code, out, _ = run(capsys, COSINE, "--compare", "constant(base_lr=0.05)",
                       "--steps-per-epoch", "100")
    assert code == 0
    assert "compare_1 = constant(base_lr=0.05)" in out
    assert "epoch" in out and "9.99" in out


def test_a_million_steps(capsys):
    code, out, _ = run(capsys, "cosine(peak_lr=0.1,total_steps=1000000)")
    assert code == 0 and "LR over 1000000 updates" in out


# -- plots ----------------------------------------------------------------------------------


def _image(path: Path) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_plot_writes_a_real_png(capsys, tmp_path):
    target = tmp_path / "schedule.png"
    code, out, _ = run(capsys, COSINE, "--plot", str(target))
    assert code == 0 and f"plot written to {target}" in out
    assert target.read_bytes()[:8] == PNG_MAGIC
    pixels = _image(target)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 300
    assert pixels.std() > 0  # not a blank canvas
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schedule.png"]  # no temp files


def test_compare_and_log_scale_draw_different_figures(capsys, tmp_path):
    one, two, log = tmp_path / "one.png", tmp_path / "two.png", tmp_path / "log.png"
    assert run(capsys, COSINE, "--plot", str(one))[0] == 0
    assert run(capsys, COSINE, "--plot", str(two), "--compare",
               "wsd(peak_lr=0.1,total_steps=1000,decay_steps=200)",
               "--compare", "onecycle(peak_lr=0.1,total_steps=1000)")[0] == 0
    assert run(capsys, COSINE, "--plot", str(log), "--log-scale")[0] == 0
    images = [_image(p) for p in (one, two, log)]
    assert not np.array_equal(images[0], images[1])
    assert images[0].shape != images[2].shape or not np.array_equal(images[0], images[2])
    # three curves use more distinct colours than one
    def colours(img):
        return len(np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0))

    assert colours(images[1]) > colours(images[0])


def test_plot_with_json_output_keeps_stdout_pure_json(capsys, tmp_path):
    target = tmp_path / "s.svg"
    code, out, _ = run(capsys, COSINE, "--plot", str(target), "--format", "json")
    assert code == 0 and json.loads(out)["lr"]
    assert target.read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.parametrize("argv", [
    ["cosine(peak_lr=-0.1,total_steps=10)"],            # bad spec
    ["cosine(peak_lr=0.1,total_steps=10)", "--compare", "nope(a=1)"],
    ["cosine(peak_lr=0.1,total_steps=10)", "--steps", "0"],
    ["cosine(peak_lr=0.1,total_steps=10)", "--format", "xml"],
])
def test_a_failing_run_leaves_no_output_file_and_keeps_an_old_one(capsys, tmp_path, argv):
    fresh = tmp_path / "new.png"
    code, _, err = run(capsys, *argv, "--plot", str(fresh))
    assert code == 2 and err.startswith("lrkit: error: ")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.png"
    old.write_bytes(b"previous")
    assert run(capsys, *argv, "--plot", str(old))[0] == 2
    assert old.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [old]


def test_plot_path_problems_are_found_before_any_work(capsys, tmp_path):
    code, _, err = run(capsys, COSINE, "--plot", str(tmp_path / "s.jpg"))
    assert code == 2
    assert err.strip() == (f"lrkit: error: --plot = '{tmp_path / 's.jpg'}': unsupported file "
                           "type; use one of .png, .svg, .pdf")
    code, _, err = run(capsys, COSINE, "--plot", str(tmp_path / "missing" / "s.png"))
    assert code == 2 and "folder" in err and "does not exist; create it" in err
    assert list(tmp_path.iterdir()) == []


def test_a_crash_while_saving_leaves_no_partial_file(capsys, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(PNG_MAGIC + b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    target = tmp_path / "s.png"
    # main() reports it in one line (the stand-in savefig is defined here, so it reads as
    # the user's code) or lets it through: either way no partial file stays
    with pytest.raises((OSError, SystemExit)):
        main(["schedule", COSINE, "--plot", str(target)])
    assert list(tmp_path.iterdir()) == []


# -- bad input ------------------------------------------------------------------------------

BAD = [
    (["cosin(peak_lr=0.1,total_steps=10)"], "family = 'cosin': unknown schedule family; "
                                             "did you mean 'cosine'?"),
    (["cosine(peak_lr=0.1,total_step=10)"], "cosine.total_step = 10: unknown parameter; "
                                             "did you mean 'total_steps'?"),
    (['{"family": "cosine", "peak_lr": 0.1,'], "malformed JSON"),
    (["cosine(peak_lr=-0.1,total_steps=10)"], "cosine.peak_lr = -0.1: a learning rate cannot "
                                              "be negative; pass a value >= 0"),
    (['{"family": "cosine", "peak_lr": NaN, "total_steps": 10}'],
     "cosine.peak_lr = nan: must be finite"),
    (["cosine(peak_lr=0.1,total_steps=0)"], "cosine.total_steps = 0: a number of steps must "
                                            "be positive"),
    (["multistep(base_lr=0.1,milestones=[60,30])"], "multistep.milestones = [60, 30]: must be "
                                                    "sorted; sort them, e.g. [30, 60]"),
    (["onecycle(peak_lr=0.1,total_steps=100,pct_start=1.5)"],
     "onecycle.pct_start = 1.5: must lie in (0, 1)"),
    (["constant(base_lr=0.1)"], "--steps: missing, and the schedule has no total_steps"),
    (["constant(base_lr=0.1)", "--steps", "0"], "--steps = 0: must be between 1 and"),
    (["constant(base_lr=0.1)", "--steps", "-3"], "--steps = -3: must be between 1 and"),
    (["constant(base_lr=0.1)", "--steps", "5", "--format", "xml"],
     "--format = 'xml': unknown format; use one of table, csv, json"),
    (["constant(base_lr=0.1)", "--steps", "5", "--steps-per-epoch", "0"],
     "--steps-per-epoch = 0: must be >= 1"),
    (["constant(base_lr=0.1)", "--steps", "5", "--compare", "constant(base_lr=x)"],
     "constant.base_lr = 'x': must be a number"),
    (["constant(base_lr=0.1)", "constant(base_lr=0.2)", "--steps", "5"],
     "expected one spec; quote it"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("lrkit: error: ")
    assert message in err
    assert "Traceback" not in err


def test_option_parse_errors_are_usage_errors_with_exit_2(capsys):
    code, _, err = run(capsys, COSINE, "--steps", "abc")
    assert code == 2 and "Invalid value for '--steps'" in err and "Traceback" not in err
    code, _, err = run(capsys, COSINE, "--no-such-option")
    assert code == 2 and "No such option" in err


def test_the_installed_command_exits_2_without_a_traceback_on_bad_input():
    lrkit = Path(sys.executable).with_name("lrkit")
    env = {**os.environ, "COLUMNS": "100"}
    bad = subprocess.run([str(lrkit), "schedule", "cosine(peak_lr=nan,total_steps=10)"],
                         capture_output=True, text=True, timeout=120, env=env, check=False)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == ("lrkit: error: cosine.peak_lr = 'nan': must be a number; "
                          "pass a finite float\n")
    good = subprocess.run([str(lrkit), "schedule", "linear(init_lr=1,total_steps=4)",
                           "--format", "json"],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["lr"] == [1.0, 0.75, 0.5, 0.25]


# -- peers (lrkit.interop) ---------------------------------------------------------------------


def test_from_a_library_config_and_export_a_snippet(capsys):
    pytest.importorskip("lrkit.interop")
    code, out, _ = run(capsys, "--from", "torch:StepLR", "lr=1", "step_size=2", "gamma=0.5",
                       "--steps", "5", "--format", "json")
    assert code == 0 and json.loads(out)["lr"] == [1.0, 1.0, 0.5, 0.5, 0.25]
    code, out, _ = run(capsys, "step(base_lr=1,step_size=2,gamma=0.5)", "--export", "torch")
    assert code == 0 and "StepLR" in out
