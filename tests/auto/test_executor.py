"""auto's candidate runs on compare's backends: the same runs, pick and cost as in-process.

The batch entry point (``Runner.train_many``) is tested with a fake trainer; the
backends train a real built-in task (tiny budgets) and must reproduce the in-process
recommendation exactly. PostgreSQL (marker ``postgres``) and Ray are in
``test_executor_distributed.py``.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch

from lrkit.auto import Executor, MemoryRunCache, Runner, auto, fake_trainer
from lrkit.errors import ConfigError
from lrkit.tasks import builtin_tasks
from tests.cli._invoke import run_cli


@pytest.fixture(scope="module")
def task():
    return builtin_tasks()["breast-cancer-logreg"]()


def test_train_many_keeps_order_trains_each_run_once_and_uses_the_cache(task) -> None:
    calls: list[tuple[float, int, int]] = []
    base = fake_trainer(lambda lr: (lr - 0.1) ** 2)

    def trainer(t, lr, seed, steps):
        calls.append((lr, seed, steps))
        return base(t, lr, seed, steps)

    runner = Runner(trainer, MemoryRunCache())
    runner.train(task, 0.3, 0, 26)
    seen: list[int] = []
    out = runner.train_many(task, [(0.2, 0, 26), (0.3, 0, 26), (0.2, 0, 26), (0.4, 1, 26)],
                            on_result=lambda i, r: seen.append(i))
    assert [r.lr for r in out] == [0.2, 0.3, 0.2, 0.4]
    assert [r.final_val_loss for r in out] == pytest.approx([0.01, 0.04, 0.01, 0.09])
    # 0.3 came from the cache, 0.2 asked twice trained once
    assert calls == [(0.3, 0, 26), (0.2, 0, 26), (0.4, 1, 26)]
    assert runner.trained == 3
    assert sorted(seen) == [0, 1, 2, 3]


def _comparable(rec):
    return (rec.lr, rec.cost_runs, [dataclasses.astuple(t) for t in rec.trials],
            [(s.name, s.summary, s.cost_runs) for s in rec.stages])


def test_local_processes_give_the_in_process_recommendation_exactly(task) -> None:
    # one torch thread in both paths: a local worker runs with one (see executor docs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here = auto(task, budget=0.3, curvature=False)
        pooled = auto(task, budget=0.3, curvature=False, executor=Executor(workers=2))
    finally:
        torch.set_num_threads(threads)
    assert len(here.trials) >= 4
    assert _comparable(pooled) == _comparable(here)


def test_a_batch_goes_to_the_executor_in_one_call(task) -> None:
    batches: list[int] = []

    class Counting(Executor):
        def run(self, trainer, task, specs, keys):
            batches.append(len(specs))
            return [trainer(task, *spec) for spec in specs]

    fake = fake_trainer(lambda lr: (math.log2(lr / 0.01)) ** 2)
    counted = auto(task, budget=0.3, curvature=False, trainer=fake,
                   executor=Counting(workers=2))
    plain = auto(task, budget=0.3, curvature=False, trainer=fake)
    assert _comparable(counted) == _comparable(plain)
    # block 0's ladder is one batch of several runs, not one call per run
    assert batches[0] >= 2 and len(batches) < len(plain.trials)
    assert sum(batches) == len(plain.trials)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"workers": 0}, "workers = 0: must be >= 1; pass e.g. 2"),
    ({"workers": True}, "workers = True: must be an integer"),
    ({"workers": 2.0}, "workers = 2.0: must be an integer"),
    ({"backend": "dask"}, "backend = 'dask': unknown; use one of local, ray"),
    ({"storage": "memory"}, "storage = 'memory': an in-memory study is not shared"),
    ({"poll_seconds": 0}, "poll_seconds = 0: must be positive"),
    ({"poll_seconds": True}, "poll_seconds = True: must be a number"),
])
def test_bad_executor_settings_fail_in_one_line(kwargs, words) -> None:
    with pytest.raises(ConfigError) as err:
        Executor(**kwargs)
    # from Python the parameter's own name; the CLI's flag only on the CLI
    assert str(err.value).startswith(words) and "\n" not in str(err.value)
    name = next(iter(kwargs))
    assert err.value.render("cli").startswith("--" + name.replace("_", "-") + " = ")


def test_the_executor_checks_workers_as_compare_does() -> None:
    from lrkit.compare.execute import execute

    with pytest.raises(ConfigError) as mine:
        Executor(workers=0)
    with pytest.raises(ConfigError) as compares:
        execute(None, [], None, workers=0)  # type: ignore[arg-type]
    assert str(mine.value) == str(compares.value)


def test_a_train_result_travels_through_a_store_and_the_run_cache_unchanged(tmp_path) -> None:
    from lrkit.auto.runs import JsonlRunCache
    from lrkit.compare.store import JsonlStore
    from lrkit.tasks import TrainResult

    results = [TrainResult([0.5, 0.25], [0.6, 0.3], 0.25, False, 40, 1.5, 0.125, 3),
               TrainResult([0.5, math.inf], [0.6, math.inf], math.inf, True, 20, 0.5, 8.0, 1)]
    store = JsonlStore(tmp_path / "store.jsonl")
    cache = JsonlRunCache(tmp_path / "cache.jsonl")
    for i, result in enumerate(results):
        store.put(str(i), result.to_record())
        cache.put(str(i), result)
    back = JsonlStore(tmp_path / "store.jsonl").load()
    cached = JsonlRunCache(tmp_path / "cache.jsonl")
    for i, result in enumerate(results):
        assert TrainResult.from_record(back[str(i)]) == result
        assert cached.get(str(i)) == result
    # the cache file keeps the format older files have: "final", null for a diverged loss
    row = json.loads((tmp_path / "cache.jsonl").read_text().splitlines()[1])
    assert row["final"] is None and row["val_losses"] == [0.5, None]


def test_auto_refuses_what_is_not_an_executor(task) -> None:
    with pytest.raises(ConfigError, match=r"executor = str: must be an lrkit\.auto\.Executor"):
        auto(task, budget=0.3, executor="ray")  # type: ignore[arg-type]


def test_auto_keeps_the_callers_executor_unchanged() -> None:
    mine = Executor(workers=1)
    auto("breast-cancer-logreg", budget=0.2, curvature=False, executor=mine)
    assert mine.task_ref is None


@pytest.mark.parametrize(("args", "words"), [
    (["--workers", "0"], "--workers = 0: must be >= 1; pass e.g. 2"),
    (["--backend", "spark"], "--backend = 'spark': unknown; use one of local, ray"),
    (["--storage", "memory"], "--storage = 'memory': an in-memory study is not shared"),
    (["--workers", "2", "--schedule", "auto"], "--schedule auto with --workers"),
])
def test_cli_refuses_settings_that_do_not_apply_in_one_line(args, words, capsys) -> None:
    code, out, err = run_cli(capsys, "auto", "--task", "breast-cancer-logreg", "--budget",
                             "0.2", "--no-report", *args)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], err


def test_cli_workers_print_the_in_process_json(capsys) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        docs = []
        for extra in ([], ["--workers", "2"]):
            code, out, err = run_cli(capsys, "auto", "--task", "breast-cancer-logreg",
                                     "--budget", "0.3", "--no-curvature", "--no-report",
                                     "--json", *extra)
            assert code == 0, err
            docs.append(json.loads(out))
    finally:
        torch.set_num_threads(threads)
    assert docs[1]["executor"] == "2 local processes"
    assert docs[0]["executor"] == "this process"
    for key in ("lr", "cost_runs", "trials"):
        assert docs[0][key] == docs[1][key]
