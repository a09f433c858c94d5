"""``lrkit tune``: JSON document, table, plot, seeds from calc / range-test files, bad input."""

from __future__ import annotations

import json

import pytest

from ._invoke import run_cli

FAST = ["tune", "--task", "breast-cancer-logreg", "--storage", "memory", "--epochs", "1",
        "--no-progress"]


def test_json_document_lists_trials_best_spec_and_cost(capsys, tmp_path) -> None:
    plot = tmp_path / "tune.png"
    code, out, err = run_cli(capsys, *FAST, "--trials", "3", "--sampler", "random", "--pruner",
                         "none", "--json", "--plot", str(plot))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["n_finished"] == 3 and len(doc["trials"]) == 3
    assert {"number", "params", "state", "value", "cost"} <= set(doc["trials"][0])
    best = doc["best"]
    values = [t["value"] for t in doc["trials"]]
    assert best["value"] == min(values)
    assert best["schedule"] == {"family": "constant", "base_lr": best["lr"]}
    assert doc["cost_runs"] == pytest.approx(3.0)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_shows_trials_and_the_best_schedule_spec(capsys) -> None:
    code, out, _ = run_cli(capsys, *FAST, "--trials", "2", "--sampler", "random", "--pruner",
                       "none", "--schedule", "cosine", "--warmup", "0.1,0.2")
    assert code == 0
    assert "val loss" in out and "warmup" in out and "schedule" in out
    spec_line = next(line for line in out.splitlines() if line.startswith("schedule spec:"))
    spec = json.loads(spec_line.split(":", 1)[1])
    assert spec["family"] == "join" and spec["pieces"][1]["family"] == "cosine"
    assert "training-run equivalents" in out


def test_calc_and_rangetest_files_seed_the_search(capsys, tmp_path) -> None:
    calc = tmp_path / "calc.json"
    calc.write_text(json.dumps({"initial_lr": 0.02, "final_lr": 0.0002}))
    found = tmp_path / "find.json"
    found.write_text(json.dumps({"suggested_lr": 0.1, "peak_lr": 0.2}))
    code, out, err = run_cli(capsys, *FAST, "--trials", "3", "--sampler", "tpe", "--calc",
                         str(calc), "--rangetest", str(found), "--json")
    assert code == 0, err
    trials = json.loads(out)["trials"]
    assert [t["params"]["lr"] for t in trials[:2]] == [0.02, 0.2]
    # narrowed to [0.02 / 10, 0.2 * 10]
    assert all(0.002 <= t["params"]["lr"] <= 2.0 for t in trials)


@pytest.mark.slow  # two real searches through the CLI
def test_sqlite_storage_is_continued_by_a_second_run_cli(capsys, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'lrkit.db'}"
    args = [*FAST[:4], url, "--epochs", "1", "--no-progress", "--study", "s", "--sampler",
            "random", "--pruner", "none", "--json"]
    assert run_cli(capsys, *args, "--trials", "2")[0] == 0
    code, out, _ = run_cli(capsys, *args, "--trials", "3")
    assert code == 0
    assert json.loads(out)["n_finished"] == 3


@pytest.mark.parametrize(("args", "message"), [
    (["--sampler", "bayes"], "sampler = 'bayes': unknown"),
    (["--pruner", "asha"], "pruner = 'asha': unknown"),
    (["--backend", "spark"], "--backend = 'spark': unknown"),
    (["--warmup", "0.1"], "--warmup = '0.1': expected MIN,MAX"),
    (["--warmup", "0,1.5"], "warmup = (0.0, 1.5): is a fraction of the run"),
    (["--lr-min", "0"], "lr range = (0.0, 1.0): must be finite with 0 < min <= max"),
    (["--schedule", "interpolate"], "schedule = 'interpolate': family 'interpolate' has no LR"),
    (["--storage", "ftp://db"], "storage = 'ftp://db': not a database URL"),
    (["--storage", "sqlite:////no/such/folder/x.db"], "folder '/no/such/folder' does not exist"),
    (["--plot", "out.gif"], "--plot = 'out.gif': unsupported file type"),
    (["--rangetest", "/no/such/find.json"], "rangetest = '/no/such/find.json': no such file"),
    (["--task", "no-such-task"], "no-such-task"),
    (["--trials", "0"], "--trials = 0: must be between 1 and"),
    (["--ray-dir", "/tmp/r"], "--backend = 'optuna': does not use --ray-dir; drop it"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args: list[str], message: str) -> None:
    code, _out, err = run_cli(capsys, *FAST, *args)
    assert code == 2
    assert err.startswith("lrkit: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(("args", "message"), [
    (["--fidelity", "data", "--grace", "5"],
     "--backend = 'ray': does not use --fidelity, --grace; drop them, or pass --backend optuna"),
    (["--timeout", "60"], "--backend = 'ray': does not use --timeout; drop it"),
    (["--storage", "memory", "--rungs", "2", "--heartbeat", "3"],
     "does not use --storage, --rungs, --heartbeat;"),
])
def test_ray_refuses_the_options_it_would_ignore(capsys, args: list[str], message: str) -> None:
    # Ray Tune keeps its own results and schedules its trials: these used to be dropped silently
    code, _out, err = run_cli(capsys, "tune", "--task", "breast-cancer-logreg", "--backend",
                              "ray", "--no-progress", *args)
    assert code == 2
    assert err.startswith("lrkit: error: ") and message in err, err


def test_unreachable_postgres_is_a_one_line_error(capsys) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = run_cli(capsys, *FAST, "--storage", f"postgresql://u:pw@127.0.0.1:{port}/db")
    assert code == 2 and "cannot open" in err and "pw" not in err and "***" in err


def test_help_lists_the_strategies(capsys) -> None:
    code, out, _ = run_cli(capsys, "tune", "--help")
    assert code == 0
    for word in ("--sampler", "--pruner", "--storage", "--backend", "--fidelity", "--json"):
        assert word in out


def test_real_range_test_and_calculator_outputs_seed_the_search(capsys, tmp_path) -> None:
    from lrkit.rangetest import find
    from lrkit.rules import CalcInput, calculate

    found = find("breast-cancer-logreg", steps=40)
    found.save(tmp_path / "find.json")
    rec = calculate(CalcInput(optimizer="sgd", model="linear", batch_size=16,
                              dataset_size=426, epochs=1))
    (tmp_path / "calc.json").write_text(json.dumps(rec.to_dict()))
    code, out, err = run_cli(capsys, *FAST, "--trials", "2", "--sampler", "random", "--pruner",
                         "none", "--rangetest", str(tmp_path / "find.json"), "--calc",
                         str(tmp_path / "calc.json"), "--json")
    assert code == 0, err
    seeds = [t["params"]["lr"] for t in json.loads(out)["trials"]]
    assert seeds == [rec.initial_lr, found.peak_lr]
