"""What a search returns: every trial, the best configuration as a schedule spec, the cost.

Built from the study in the storage, so any worker (or a later ``lrkit tune`` on a
finished study) sees the whole study, not only its own trials.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from lrkit.tune.workers import WORKER_ATTR

__all__ = ["TrialRecord", "TuneResult", "build_result", "collect_trials", "pick_best",
           "shape_label", "trial_cost"]

_STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed",
           "RUNNING": "running", "WAITING": "waiting"}


def trial_cost(frozen: Any, epochs: int, fidelity: str, max_resource: int) -> float:
    """Training-run equivalents a trial used: its own record, else what it reported.

    A killed trial never wrote ``lrkit_cost``; its reported rungs give a lower bound.
    """
    cost = frozen.user_attrs.get("lrkit_cost")
    if isinstance(cost, int | float):
        retry_of = frozen.system_attrs.get("failed_trial")
        # a retry copies its original's attributes; a retry that never ran has no cost
        if retry_of is None or frozen.state.name in ("COMPLETE", "PRUNED"):
            return float(cost)
    steps = sorted(frozen.intermediate_values)
    if not steps:
        return 0.0
    if fidelity == "epochs":
        return len(steps) / epochs
    return sum(step / max_resource for step in steps)


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One trial as lrkit reports it.

    Attributes:
        number: Optuna's trial number.
        state: complete, pruned, failed, running or waiting.
        params: the configuration (lr, and schedule / warmup / weight_decay if searched).
        value: final validation loss (complete), last reported loss (pruned), else None.
        curve: reported validation loss by rung step (epoch, or data slices).
        cost: training-run equivalents this trial used.
        diverged: the loss became non-finite or blew up.
        retry_of: the number of the trial this one re-runs after its worker died.
        worker: "host:pid" of the worker that ran it.
    """

    number: int
    state: str
    params: dict[str, Any]
    value: float | None
    curve: dict[int, float]
    cost: float
    diverged: bool = False
    retry_of: int | None = None
    worker: str | None = None

    @property
    def finished(self) -> bool:
        """Complete or pruned: the trial counts toward the study's target."""
        return self.state in ("complete", "pruned")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self) | {"curve": {str(k): v for k, v in self.curve.items()}}


def collect_trials(study: Any, *, epochs: int, fidelity: str, max_resource: int
                   ) -> list[TrialRecord]:
    """TrialRecords of every trial in ``study`` (surplus placeholders left out)."""
    out = []
    for frozen in study.get_trials(deepcopy=False):
        if frozen.user_attrs.get("lrkit_surplus"):
            continue
        value = frozen.value
        owner = frozen.user_attrs.get(WORKER_ATTR) or {}
        ran_here = owner.get("trial") == frozen.number
        out.append(TrialRecord(
            number=frozen.number, state=_STATES.get(frozen.state.name, frozen.state.name.lower()),
            params=dict(frozen.params),
            value=None if value is None or (isinstance(value, float) and math.isnan(value))
            else float(value),
            curve={int(k): float(v) for k, v in sorted(frozen.intermediate_values.items())},
            cost=trial_cost(frozen, epochs, fidelity, max_resource),
            diverged=bool(frozen.user_attrs.get("lrkit_diverged")) and ran_here,
            retry_of=frozen.system_attrs.get("failed_trial"),
            worker=f"{owner['host']}:{owner['pid']}" if ran_here else None))
    return out


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """The outcome of ``tune``: the study's trials and the best configuration.

    Attributes:
        study: study name.
        storage: storage URL (password hidden).
        task: task name.
        sampler, pruner, fidelity: the strategy.
        n_trials: the study's target number of finished trials.
        trials: every trial, by number.
        best: the complete trial with the lowest final validation loss (None if none).
        best_schedule: the best configuration as a full lrkit schedule spec.
        best_weight_decay: the best weight decay, when it was searched.
        epochs: epochs of one full training run of the task.
        backend: "optuna" or "ray".
        shape: the task's own schedule shape (used where a trial does not search one).
    """

    study: str
    storage: str
    task: str
    sampler: str
    pruner: str
    fidelity: str
    n_trials: int
    trials: tuple[TrialRecord, ...]
    best: TrialRecord | None
    best_schedule: dict[str, Any] | None
    best_weight_decay: float | None = None
    epochs: int = 1
    backend: str = "optuna"
    shape: str = "constant"

    @property
    def cost_runs(self) -> float:
        """Compute used by all trials, in training-run equivalents."""
        return sum(t.cost for t in self.trials)

    @property
    def n_finished(self) -> int:
        """Trials that completed or were pruned."""
        return sum(t.finished for t in self.trials)

    def count(self, state: str) -> int:
        """Number of trials in ``state``."""
        return sum(t.state == state for t in self.trials)

    def to_dict(self) -> dict[str, Any]:
        """The ``lrkit tune --json`` document."""
        best = None
        if self.best is not None:
            best = {"trial": self.best.number, "lr": self.best.params.get("lr"),
                    "value": self.best.value, "params": self.best.params,
                    "schedule": self.best_schedule, "weight_decay": self.best_weight_decay}
        return {"study": self.study, "storage": self.storage, "task": self.task,
                "backend": self.backend, "sampler": self.sampler, "pruner": self.pruner,
                "fidelity": self.fidelity, "shape": self.shape, "n_trials": self.n_trials,
                "n_finished": self.n_finished,
                "states": {s: self.count(s) for s in _STATES.values()},
                "cost_runs": self.cost_runs, "best": best,
                "trials": [t.to_dict() for t in self.trials]}


def shape_label(schedule: Any) -> str:
    """A task's schedule shape as one short string (None means constant).

    >>> shape_label(None), shape_label("cosine"), shape_label({"family": "wsd"})
    ('constant', 'cosine', '{"family": "wsd"}')
    """
    if schedule is None:
        return "constant"
    return schedule if isinstance(schedule, str) else json.dumps(schedule, sort_keys=True)


def pick_best(trials: list[TrialRecord]) -> TrialRecord | None:
    """The complete trial with the lowest finite value."""
    done = [t for t in trials if t.state == "complete" and t.value is not None
            and math.isfinite(t.value)]
    return min(done, key=lambda t: (t.value, t.number)) if done else None


def build_result(trials: list[TrialRecord], schedule_of: Callable[[Mapping[str, Any]], Any],
                 **fields: Any) -> TuneResult:
    """Assemble a TuneResult; ``schedule_of(params)`` builds the best trial's schedule."""
    best = pick_best(trials)
    spec = schedule_of(best.params).to_spec() if best is not None else None
    wd = best.params.get("weight_decay") if best is not None else None
    return TuneResult(trials=tuple(trials), best=best, best_schedule=spec,
                      best_weight_decay=wd, **fields)
