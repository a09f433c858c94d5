"""auto's candidates shared by processes through PostgreSQL, and trained on local Ray.

Both must give the in-process recommendation exactly (same runs, pick and cost). The
PostgreSQL server is the search tests' throw-away one (tests/tune/conftest.py).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TASK = f"{HERE.parent / 'fixtures/slow_tasks.py'}:slow_logreg_cosine"

_spec = importlib.util.spec_from_file_location(
    "_lrkit_tune_fixtures_auto", HERE.parent / "tune" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_tune = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tune)
postgres_url = _tune.postgres_url  # initdb + pg_ctl on 127.0.0.1, removed at the end

SCRIPT = """
import dataclasses, json, os, pathlib, sys, time
from lrkit.auto import Executor, auto
# start together: a worker still importing torch would find every unit taken
barrier = pathlib.Path(sys.argv[3])
(barrier / str(os.getpid())).touch()
deadline = time.time() + 120
while len(list(barrier.iterdir())) < 2 and time.time() < deadline:
    time.sleep(0.05)
rec = auto(sys.argv[1], budget=1.0, curvature=False,
           executor=Executor(storage=sys.argv[2], poll_seconds=0.2))
print(json.dumps({"lr": rec.lr, "cost_runs": rec.cost_runs,
                  "trials": [dataclasses.astuple(t) for t in rec.trials],
                  "stages": [[s.name, s.summary] for s in rec.stages]}))
"""


def _in_process() -> dict:
    import torch

    from lrkit.auto import auto

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the subprocesses (OMP_NUM_THREADS=1) and local workers
    try:
        rec = auto(TASK, budget=1.0, curvature=False)
    finally:
        torch.set_num_threads(threads)
    # through JSON, as the subprocesses print it (tuples become lists)
    return json.loads(json.dumps({
        "lr": rec.lr, "cost_runs": rec.cost_runs,
        "trials": [dataclasses.astuple(t) for t in rec.trials],
        "stages": [[s.name, s.summary] for s in rec.stages]}))


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_share_the_candidates_and_agree_with_in_process(postgres_url,
                                                                     tmp_path) -> None:
    import optuna

    from lrkit.tune.storage import open_storage

    # 0.05 s a batch: each unit (8-update runs on this 160-update task) lasts about two
    # of the workers' 0.2 s polls, so one worker cannot drain a stage before the other
    # looks (at the default 0.004 s it could, and the test failed about 1 time in 5)
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "src"), "OMP_NUM_THREADS": "1",
           "LRKIT_TEST_DELAY": "0.05"}
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, TASK, postgres_url,
                               str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    docs = [json.loads(out) for out, _ in outs]
    assert docs[0] == docs[1] == _in_process()
    storage = open_storage(postgres_url, heartbeat_interval=0)
    (summary,) = [s for s in optuna.get_all_study_summaries(storage)
                  if s.study_name.startswith("auto-")]
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    done = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.COMPLETE]
    keys = [t.user_attrs["lrkit_unit"] for t in done]
    runs = [k for k in keys if not k.endswith("/range test")]
    # every candidate trained once in all, the range test measured once
    assert len(keys) == len(set(keys))
    assert len(runs) == len(docs[0]["trials"])
    assert sum(k.endswith("/range test") for k in keys) == 1
    assert len({t.user_attrs["lrkit_worker"]["pid"] for t in done}) == 2  # both trained


@pytest.mark.slow
def test_local_ray_gives_the_in_process_recommendation() -> None:
    ray = pytest.importorskip("ray", reason="ray[tune] is not installed: "
                              "pip install 'lrkit[ray]'")
    from lrkit.auto import Executor, auto

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        # the task travels as its file reference and is loaded on the Ray worker
        rec = auto(TASK, budget=1.0, curvature=False,
                   executor=Executor(backend="ray", workers=2))
    finally:
        ray.shutdown()
    got = json.loads(json.dumps({
        "lr": rec.lr, "cost_runs": rec.cost_runs,
        "trials": [dataclasses.astuple(t) for t in rec.trials],
        "stages": [[s.name, s.summary] for s in rec.stages]}))
    assert got == _in_process()
