"""``compare``: ranking, costs, parallel = serial, and resuming from a store."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lrkit.compare import JsonlStore, OptunaStore, compare
from lrkit.errors import ConfigError
from lrkit.tasks import load_task

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FAST = {"seeds": 2, "grid": [0.03, 0.3], "epochs": 1}


@pytest.fixture(scope="module")
def task():
    return load_task("breast-cancer-logreg")


def _counter():
    seen: dict[str, list[str]] = {"start": [], "cached": [], "done": []}

    def on_event(kind, unit, info):
        seen.setdefault(kind, []).append(unit.key)

    return seen, on_event


def test_rows_are_ranked_with_paired_tests_and_costs(task) -> None:
    res = compare(task, ["constant", "cosine"], **FAST)
    assert [r.mean for r in res.rows] == sorted(r.mean for r in res.rows)
    best, other = res.rows
    assert best.vs_best is None and other.vs_best is not None and other.vs_best.n == 2
    assert best.lr in (0.03, 0.3) and best.lr_source == "grid" and len(best.grid) == 2
    assert res.cost_runs == pytest.approx(2 * (2 + 2))
    assert res.seeds == (0, 1) and res.select_seed not in res.seeds
    doc = json.loads(json.dumps(res.to_dict(curves=False)))
    assert doc["best"] == best.name and "runs" not in doc["rows"][0]


def test_the_selection_seed_is_not_scored_and_the_grid_best_is_kept(task) -> None:
    res = compare(task, ["constant"], **FAST)
    row = res.rows[0]
    best_grid = min(row.grid, key=lambda p: p[1])[0]
    assert row.lr == best_grid and row.edge  # a 2-point grid: its best is at an end


def test_two_workers_give_the_same_table_as_serial(task) -> None:
    serial = compare(task, ["constant", "wsd"], **FAST)
    parallel = compare(task, ["constant", "wsd"], workers=2, **FAST)
    assert [(r.name, r.losses) for r in serial.rows] == \
        [(r.name, r.losses) for r in parallel.rows]


def test_a_partial_store_is_continued_without_redoing_units(task, tmp_path) -> None:
    path = tmp_path / "runs.jsonl"
    seen, on_event = _counter()
    first = compare(task, ["constant", "cosine"], store=path, on_event=on_event, **FAST)
    assert len(seen["start"]) == 8 and not seen["cached"]
    lines = path.read_text().splitlines()
    # a kill: the last three units lost, the one before cut off mid-line
    path.write_text("\n".join(lines[:4]) + "\n" + lines[4][: len(lines[4]) // 2])
    seen, on_event = _counter()
    again = compare(task, ["constant", "cosine"], store=path, on_event=on_event, **FAST)
    assert len(seen["cached"]) == 4 and len(seen["start"]) == 4
    assert [(r.name, r.losses) for r in again.rows] == [(r.name, r.losses) for r in first.rows]
    assert len(JsonlStore(path).load()) == 8
    seen, on_event = _counter()
    compare(task, ["constant", "cosine"], store=path, on_event=on_event, **FAST)
    assert not seen["start"] and len(seen["cached"]) == 8


@pytest.mark.slow
def test_killing_the_cli_and_rerunning_continues(tmp_path) -> None:
    store = tmp_path / "runs.jsonl"
    args = [sys.executable, "-m", "lrkit.cli.app", "compare", "--task",
            f"{ROOT / 'tests/fixtures/slow_tasks.py'}:slow_logreg", "--schedules",
            "constant,cosine", "--seeds", "2", "--grid", "0.1,1", "--store", str(store),
            "--no-report", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and (not store.exists()
                                      or len(store.read_text().splitlines()) < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(JsonlStore(store).load())
    assert 2 <= kept < 8
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    keys = [json.loads(line)["key"] for line in store.read_text().splitlines()
            if line.startswith("{") and line.endswith("}")]
    assert len(keys) == len(set(keys)) == 8  # nothing trained twice
    assert json.loads(done.stdout)["best"] in ("constant", "cosine")


def test_an_optuna_store_is_shared_and_claims_once(task, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'compare.db'}"
    seen, on_event = _counter()
    first = compare(task, ["constant"], storage=url, on_event=on_event, **FAST)
    assert len(seen["start"]) == 4
    seen, on_event = _counter()
    again = compare(task, ["constant"], storage=url, on_event=on_event, **FAST)
    assert not seen["start"] and again.rows[0].losses == first.rows[0].losses
    a, b = OptunaStore(url, "claims"), OptunaStore(url, "claims")
    assert a.claim("unit-1") and not b.claim("unit-1")
    a.release("unit-1")
    assert b.claim("unit-1")


def test_auto_mode_states_its_cost(task) -> None:
    res = compare(task, ["constant"], seeds=1, budget=0.5)
    row = res.rows[0]
    # auto spends its budget, and up to twice it (its default max_budget) when a miss
    # would be costly
    assert row.lr_source == "auto" and 0 < row.selection_cost_runs <= 2 * 0.5 + 0.05
    assert res.mode == "auto" and res.budget == 0.5


def test_adaptive_rows_join_the_table(task) -> None:
    res = compare(task, ["constant"], ["adam-hd"], **FAST)
    hd = res.row("Adam-HD")
    assert hd.lr_source == "default" and hd.selection_cost_runs == 0 and hd.kind == "optimizer"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"seeds": 0}, "seeds = 0"),
    ({"seeds": [0, 1], "select_seed": 1}, "select_seed = 1"),
    ({"grid": "0.1:0.01"}, "grid = '0.1:0.01'"),
    ({"grid": "a,b"}, "grid = 'a,b'"),
    ({"grid": [0.1], "budget": 1.0}, "budget = 1.0: given with grid; give one"),
    ({"workers": 0}, "workers = 0"),
    ({"backend": "dask"}, "backend = 'dask'"),
    ({"budget": 0}, "budget = 0"),
    ({"schedules": ["constant", "constant"]}, "schedules = 'constant': is listed twice"),
])
def test_bad_settings_fail_before_training(task, kwargs, match) -> None:
    # the library names its own parameters; the CLI spells the same error with its flags
    kwargs = {"schedules": ["constant"], **kwargs}
    with pytest.raises(ConfigError) as err:
        compare(dataclasses.replace(task, epochs=1), **kwargs)
    assert str(err.value).startswith(match) and "--" not in str(err.value)
    assert err.value.render("cli").startswith("--" + match.replace("_", "-").split(" ")[0])


def test_inf_survives_the_store(tmp_path) -> None:
    store = JsonlStore(tmp_path / "s.jsonl")
    store.put("k", {"final_val_loss": math.inf, "val_losses": [0.5, math.inf]})
    assert JsonlStore(tmp_path / "s.jsonl").load()["k"]["val_losses"][1] == math.inf


def test_pick_schedule_reuses_the_winners_search_and_states_the_extra_cost(task) -> None:
    from lrkit.compare import pick_schedule

    short = dataclasses.replace(task, epochs=2)
    choice = pick_schedule(short, budget=0.5, seeds=1, schedules=["constant", "cosine"])
    best = choice.comparison.best
    assert choice.shape == best.name and choice.recommendation.lr == best.lr
    assert choice.task.lr_schedule(1.0).to_spec()["family"] == \
        ("constant" if best.name == "constant" else "cosine")
    assert choice.extra_cost_runs == pytest.approx(
        choice.comparison.cost_runs - best.selection_cost_runs, abs=1e-3)
    assert choice.comparison.seeds == (1,) and choice.comparison.select_seed == 0


def test_lrkit_compare_is_the_function() -> None:
    import lrkit
    from lrkit.compare import api

    assert lrkit.compare is api.compare and lrkit.CompareResult is api.CompareResult


def test_the_default_grid_grows_past_the_edge_its_best_sits_on(task) -> None:
    # plain SGD on this convex problem wants an LR near 1, 100x the textbook 0.01
    res = compare(dataclasses.replace(task, epochs=2), ["constant"], seeds=1)
    row = res.rows[0]
    lrs = sorted(lr for lr, _ in row.grid)
    assert lrs[:5] == [0.001, 0.00316, 0.01, 0.0316, 0.1]
    assert 5 < len(lrs) <= 9 and row.lr > 0.1
    assert row.selection_cost_runs == pytest.approx(len(lrs))


def test_the_store_reads_what_other_writers_append(tmp_path) -> None:
    path = tmp_path / "s.jsonl"
    reader, writer = JsonlStore(path), JsonlStore(path)
    writer.put("a", {"x": 1})
    assert set(reader.load()) == {"a"}
    writer.put("b", {"x": 2})
    line = json.dumps({"key": "c", "record": {"x": 3}})
    with path.open("a") as fh:  # a line still being written
        fh.write(line[:10])
    assert set(reader.load()) == {"a", "b"}
    with path.open("a") as fh:
        fh.write(line[10:] + "\n")
    assert set(reader.load()) == {"a", "b", "c"}
    path.write_text("")  # replaced: read from the start again
    assert reader.load() == {}
