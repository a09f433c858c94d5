"""``lrkit compare``: JSON document, table, report, bad input as one line."""

from __future__ import annotations

import json

import pytest

from ._invoke import run_cli

FAST = ["compare", "--task", "breast-cancer-logreg", "--schedules", "constant,cosine",
        "--seeds", "2", "--grid", "0.03,0.3", "--epochs", "1"]


def test_json_document_ranks_rows_and_writes_the_report(capsys, tmp_path) -> None:
    code, out, err = run_cli(capsys, *FAST, "--store", tmp_path / "runs.jsonl", "--report",
                             tmp_path / "rep", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rows"][0]["name"] == doc["best"]
    assert {r["name"] for r in doc["rows"]} == {"constant", "cosine"}
    assert doc["rows"][1]["vs_best"]["n"] == 2 and "verdict" in doc["rows"][1]["vs_best"]
    assert doc["cost_runs"] == 8.0 and doc["seeds"] == [0, 1]
    assert len(doc["rows"][0]["runs"][0]["curve"]["lr"]) > 0
    assert (tmp_path / "rep" / "compare.html").read_text().count("<tr>") == 3
    assert (tmp_path / "rep" / "compare_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_table_names_the_best_and_the_cost(capsys, tmp_path) -> None:
    code, out, _ = run_cli(capsys, *FAST, "--store", tmp_path / "runs.jsonl", "--no-report")
    assert code == 0
    assert "best:" in out and "training runs" in out and "paired" in out


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path) -> None:
    for extra, needle in ((["--schedules", "cosin"], "'cosin'"),
                          (["--optimizers", "adamw-hd"], "adamw-hd"),
                          (["--grid", "x"], "--grid"),
                          (["--budget", "1"], "not both")):
        code, _, err = run_cli(capsys, *FAST, "--no-report", "--store",
                                 tmp_path / "r.jsonl", *extra)
        assert code == 2, (extra, err)
        assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_auto_schedule_option_refuses_a_bad_value(capsys) -> None:
    code, _, err = run_cli(capsys, "auto", "--task", "breast-cancer-logreg", "--schedule",
                           "cosine", "--no-report")
    assert code == 2 and "--schedule = 'cosine'" in err and err.count("\n") == 1


@pytest.mark.slow
def test_auto_schedule_auto_picks_a_shape_and_states_the_cost(capsys) -> None:
    code, out, err = run_cli(capsys, "auto", "--task", "breast-cancer-logreg", "--budget",
                             "0.3", "--schedule", "auto", "--no-report", "--json")
    assert code == 0, err
    doc = json.loads(out)
    sel = doc["schedule_selection"]
    assert sel["shape"] == sel["comparison"]["best"] and sel["comparison"]["cost_runs"] > 6
    assert "extra training runs" in err
