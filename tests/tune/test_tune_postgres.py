"""Four `lrkit tune` workers share one study on a real PostgreSQL server; one is killed.

The victim is SIGKILLed in the middle of a trial. Its trial stops sending heartbeats; a
surviving worker marks it failed once the grace period is over, re-queues the same
parameters and runs them. The study ends with exactly N finished trials, none lost and
none duplicated.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

N_TRIALS = 8
GRACE = 3


def _workers(url: str, tasks_file: Path, study: str, n: int) -> list[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "lrkit.cli.app", "tune",
               "--task", f"{tasks_file}:slow_logreg", "--study", study, "--storage", url,
               "--trials", str(N_TRIALS), "--sampler", "random", "--pruner", "none",
               "--heartbeat", "1", "--grace", str(GRACE), "--no-progress", "--json"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "LRKIT_TEST_DELAY": "0.06"}
    return [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env) for _ in range(n)]


def _wait_for_running_trial(optuna, storage, study: str, pids: set[int], deadline: float):
    """(trial, pid) of a trial that a worker is running right now, some way into it.

    Waits until every worker has started a trial: a worker that is still starting up
    reaps a dead local worker's trial at once (``reap_dead_workers``), and this test is
    about the heartbeat path.
    """
    handle = None
    while time.monotonic() < deadline:
        if handle is None:
            try:
                handle = optuna.load_study(study_name=study, storage=storage)
            except KeyError:  # the study is not created yet
                time.sleep(0.2)
                continue
        trials = handle.get_trials()
        now = datetime.datetime.now()
        started = {(t.user_attrs.get("lrkit_worker") or {}).get("pid") for t in trials}
        if not pids <= started:
            time.sleep(0.1)
            continue
        for trial in trials:
            owner = trial.user_attrs.get("lrkit_worker") or {}
            if (trial.state.name == "RUNNING" and owner.get("pid") in pids
                    and "lr" in trial.params and trial.datetime_start is not None
                    # a trial sleeps ~1.5 s in training: under 0.8 s in, it is mid-training
                    and (now - trial.datetime_start).total_seconds() <= 0.8):
                return trial, owner["pid"]
        time.sleep(0.1)
    raise AssertionError("no worker started a trial in time")


def test_four_workers_one_killed_study_completes_without_loss_or_duplicates(
        postgres_url: str, tasks_file: Path) -> None:
    import optuna

    from lrkit.tune.storage import open_storage

    study = "pg-four-workers"
    procs = _workers(postgres_url, tasks_file, study, 4)
    storage = open_storage(postgres_url, heartbeat_interval=0)
    try:
        victim_trial, victim_pid = _wait_for_running_trial(
            optuna, storage, study, {p.pid for p in procs}, time.monotonic() + 120)
        os.kill(victim_pid, signal.SIGKILL)
        killed_at = datetime.datetime.now()
        outputs = {}
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            outputs[proc.pid] = (proc.returncode, out, err)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert outputs[victim_pid][0] == -signal.SIGKILL
    survivors = [v for pid, v in outputs.items() if pid != victim_pid]
    for code, out, err in survivors:
        assert code == 0, err
        assert json.loads(out)["n_finished"] == N_TRIALS

    trials = optuna.load_study(study_name=study, storage=storage).get_trials()
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == N_TRIALS
    # the killed trial: failed by the heartbeat (only after the grace period) ...
    killed = next(t for t in trials if t.number == victim_trial.number)
    assert killed.state.name == "FAIL"
    assert (killed.datetime_complete - killed_at).total_seconds() >= GRACE - 1.5
    # ... and retried once with the same parameters, to completion
    retries = [t for t in finished if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1 and retries[0].params == killed.params
    # no other failure, nothing left running, no configuration trained twice
    assert [t.number for t in trials
            if t.state.name == "FAIL" and not t.user_attrs.get("lrkit_surplus")] == [
        killed.number]
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    lrs = [t.params["lr"] for t in finished]
    assert len(set(lrs)) == N_TRIALS
    # all four workers took part
    owners = {t.user_attrs["lrkit_worker"]["pid"] for t in trials}
    assert owners == set(outputs)
