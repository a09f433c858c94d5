"""Who runs a trial, and re-queueing the trials of workers that are provably dead.

Every trial records its worker (host, boot id, pid, process start time) as the user
attribute ``lrkit_worker``. When ``lrkit tune`` starts again on the machine where an
earlier run was killed, a RUNNING trial whose worker process no longer exists is failed
and re-queued at once with the same parameters, instead of waiting out the heartbeat's
grace period. Workers on other machines are left to the heartbeat.

>>> me = worker_identity(7)
>>> me["trial"], is_dead(me)
(7, False)
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from lrkit._deps import require

__all__ = ["WORKER_ATTR", "is_dead", "reap_dead_workers", "retry_trial", "worker_identity"]

WORKER_ATTR = "lrkit_worker"


@cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> int | None:
    """Process start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces; fields after its ')' are fixed
    return int(stat.rsplit(")", 1)[1].split()[19])


def worker_identity(trial_number: int) -> dict[str, Any]:
    """The record stored on a trial: host, boot id, pid, process start, trial number."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "boot": _boot_id(), "pid": pid,
            "start": _start_ticks(pid), "trial": trial_number}


def is_dead(owner: Mapping[str, Any]) -> bool:
    """True only when ``owner`` ran on this machine (same boot) and its process is gone.

    Anything uncertain (another host, no /proc, no start time recorded) returns False:
    the heartbeat will decide.
    """
    if not owner or owner.get("host") != socket.gethostname() or not _boot_id() \
            or owner.get("boot") != _boot_id() or owner.get("start") is None:
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return False
    return _start_ticks(pid) != owner["start"]


def retry_trial(study: Any, frozen: Any, max_retry: int = 3) -> None:
    """Queue ``frozen``'s parameters again, as the heartbeat's retry callback does."""
    optuna = require("optuna", extra="tune")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        callback = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        callback(study, frozen)


def reap_dead_workers(study: Any, storage: Any, max_retry: int = 3) -> list[int]:
    """Fail and re-queue RUNNING trials whose worker process on this machine has died.

    Also re-queues trials that an interrupted run (Ctrl-C) left failed and that were not
    retried yet. Returns the numbers of the trials re-queued.
    """
    optuna = require("optuna", extra="tune")
    state = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    study_id = storage.get_study_id_from_name(study.study_name)
    out: list[int] = []
    for frozen in trials:
        owner = frozen.user_attrs.get(WORKER_ATTR) or {}
        # a retry copies its original's attributes: trust the record only for its own trial
        mine = owner.get("trial") == frozen.number
        if frozen.state == state.RUNNING and mine and is_dead(owner):
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, frozen.number)
            try:
                if not storage.set_trial_state_values(trial_id, state=state.FAIL):
                    continue
            except optuna.exceptions.UpdateFinishedTrialError:
                continue  # another worker got there first
            retry_trial(study, storage.get_trial(trial_id), max_retry)
            out.append(frozen.number)
        elif (frozen.state == state.FAIL and frozen.user_attrs.get("lrkit_interrupted")
              and frozen.number not in retried):
            retry_trial(study, frozen, max_retry)
            out.append(frozen.number)
    return out
