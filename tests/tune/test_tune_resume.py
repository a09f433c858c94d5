"""Kill ``lrkit tune`` mid-trial (SIGKILL, then Ctrl-C) and run it again on the same SQLite study.

The rerun continues the study: the interrupted trials are re-queued with their parameters
(at once: the killed worker's process is gone from this machine, so there is no need to
wait out the heartbeat's 10-minute grace period set here), and the study ends with exactly
the requested number of finished trials, none repeated.
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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                       reason="needs /proc to see that the killed worker is gone (Linux); "
                              "elsewhere only the heartbeat's grace period recovers it"),
]

N_TRIALS = 4


def _command(tasks_file: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "lrkit.cli.app", "tune", "--task",
            f"{tasks_file}:slow_logreg", "--study", "resume", "--storage", f"sqlite:///{db}",
            "--trials", str(N_TRIALS), "--sampler", "random", "--pruner", "none",
            "--heartbeat", "5", "--grace", "600", "--no-progress", "--json"]


def _env() -> dict[str, str]:
    # ~2 s a trial: the signal must land mid-trial even when a loaded machine is slow to
    # poll the study
    return os.environ | {"OMP_NUM_THREADS": "1", "LRKIT_TEST_DELAY": "0.08"}


def _interrupt_mid_trial(command: list[str], storage, sig: int, after_finished: int) -> int:
    """Start the command, send ``sig`` while a trial is training; return that trial's number."""
    import optuna

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                trials = optuna.load_study(study_name="resume", storage=storage).get_trials()
            except KeyError:
                trials = []
            done = sum(t.state.name == "COMPLETE" for t in trials)
            now = datetime.datetime.now()
            running = [t for t in trials if t.state.name == "RUNNING" and "lr" in t.params
                       and (t.user_attrs.get("lrkit_worker") or {}).get("pid") == proc.pid
                       and (now - t.datetime_start).total_seconds() < 0.5]
            if done >= after_finished and running:
                proc.send_signal(sig)
                code = proc.wait(timeout=60)
                assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
                return running[0].number
            time.sleep(0.05)
        raise AssertionError("the tune process never got to a trial")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_killed_and_interrupted_tune_resumes_without_loss_or_duplicates(tasks_file, tmp_path):
    import optuna

    from lrkit.tune.storage import open_storage

    db = tmp_path / "lrkit.db"
    command = _command(tasks_file, db)
    storage = open_storage(f"sqlite:///{db}", heartbeat_interval=0)
    killed = _interrupt_mid_trial(command, storage, signal.SIGKILL, after_finished=1)
    interrupted = _interrupt_mid_trial(command, storage, signal.SIGINT, after_finished=2)

    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 120  # far less than the 600 s grace period
    document = json.loads(done.stdout)
    assert document["n_finished"] == N_TRIALS

    trials = optuna.load_study(study_name="resume", storage=storage).get_trials()
    finished = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(finished) == N_TRIALS
    by_number = {t.number: t for t in trials}
    for lost in (killed, interrupted):
        assert by_number[lost].state.name == "FAIL"
        retries = [t for t in finished if t.system_attrs.get("failed_trial") == lost]
        assert len(retries) == 1 and retries[0].params == by_number[lost].params
    assert by_number[interrupted].user_attrs["lrkit_interrupted"] is True
    assert sorted(t.number for t in trials if t.state.name == "FAIL") == sorted(
        (killed, interrupted))
    assert len({t.params["lr"] for t in finished}) == N_TRIALS
    # the JSON the rerun printed describes the same study
    states = {t["number"]: t["state"] for t in document["trials"]}
    assert states[killed] == "failed" and states[interrupted] == "failed"
