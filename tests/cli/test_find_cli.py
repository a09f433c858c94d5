"""``lrkit find``: readable output, --json, --plot, --save, errors as exit code 2."""

from __future__ import annotations

import json

import pytest

from lrkit.cli.app import main
from lrkit.rangetest import RangeTestResult

from ._invoke import run_cli

SMALL = ["--task", "breast-cancer-logreg", "--start-lr", "1e-3", "--steps", "20"]


def test_json_document_and_files(tmp_path, capsys):
    plot, saved = tmp_path / "f.png", tmp_path / "f.json"
    main(["find", *SMALL, "--json", "--plot", str(plot), "--save", str(saved)])
    out = capsys.readouterr().out
    doc = json.loads(out)  # stdout holds exactly one JSON document
    for key in ("suggested_lr", "range", "lrs", "losses", "flags"):
        assert key in doc
    assert doc["suggested_lr"] > 0 and len(doc["lrs"]) == len(doc["losses"])
    assert doc["range"][0] < doc["suggested_lr"] < doc["range"][1]
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert RangeTestResult.load(saved).suggestion == pytest.approx(doc["suggested_lr"])


def test_readable_output(capsys):
    main(["find", *SMALL, "--repeats", "2"])
    out = capsys.readouterr().out
    assert "suggested LR" in out and "spread over 2 repeats" in out and "confidence" in out


@pytest.mark.parametrize("argv,needle", [
    (["find", "--task", "no-such-task"], "--task = 'no-such-task'"),
    (["find", "--task", "missing/file.py:make_task"], "does not exist"),
    (["find", *SMALL, "--steps", "2"], "steps = 2"),
    (["find", *SMALL, "--end-lr", "1e-4"], "end_lr"),
    (["find", *SMALL, "--rule", "magic"], "rule = 'magic'"),
])
def test_errors_exit_2_with_one_line(argv, needle, capsys):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_low_confidence_leads_the_output_with_what_to_do(capsys) -> None:
    # diabetes-mlp: a fresh regression MLP whose batch losses are noisy, not a flat curve
    code, out, err = run_cli(capsys, "find", "--task", "diabetes-mlp")
    assert code == 0, err
    first = out.strip().splitlines()[0]
    assert first.startswith("low confidence ("), out
    text = " ".join(out.split())
    assert "no clear descent" in text and "--repeats 3" in text and "--steps" in text
    assert "pretrained" not in text
    assert "rough guess" in text.split("suggested LR (constant schedule)", 1)[1][:40]
