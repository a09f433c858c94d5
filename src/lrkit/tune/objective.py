"""The objective a trial runs: train the task at the suggested configuration, report, prune.

Two fidelities decide what a pruner's rung is:

- ``epochs``: one training run; the validation loss after epoch ``e`` is reported at
  step ``e``, so successive halving / Hyperband stop bad runs after 1, 3, 9, ... epochs.
- ``data``: the early rungs train the *whole* schedule on a fixed subset of the training
  data (1/9, then 1/3 of it with eta = 3 and 3 rungs), and only survivors train on all of
  it. Rung ``k`` is reported at step ``eta**k``.

A run whose loss turns NaN or infinite, or climbs ``DIVERGENCE_FACTOR`` times above its
own best, is pruned at once whatever the pruner. Every trial stores its cost in
training-run equivalents (updates done / updates of one full run) as ``lrkit_cost``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.schedules import Schedule, parse_spec
from lrkit.tasks import Task, train
from lrkit.tune.space import SearchSpace
from lrkit.tune.workers import WORKER_ATTR, worker_identity

__all__ = ["DIVERGENCE_FACTOR", "FIDELITIES", "Objective", "SurplusTrial", "configure_task",
           "data_fractions", "schedule_of"]

DIVERGENCE_FACTOR = 100.0
FIDELITIES = ("epochs", "data")


class SurplusTrial(Exception):
    """Raised when a trial started after the study already had its target number."""


@dataclasses.dataclass(frozen=True)
class _WithWeightDecay:
    """An optimizer factory that sets ``weight_decay`` on every parameter group."""

    base: Any
    weight_decay: float

    def __call__(self, params: Any, lr: float) -> Any:
        optimizer = self.base(params, lr)
        for group in optimizer.param_groups:
            if "weight_decay" not in group:
                raise ConfigError(f"weight_decay: the task's optimizer "
                                  f"{type(optimizer).__name__} has no weight_decay; "
                                  "leave --weight-decay out")
            group["weight_decay"] = self.weight_decay
        return optimizer


def configure_task(task: Task, params: Mapping[str, Any]) -> Task:
    """The task with a trial's schedule shape, warmup and weight decay applied.

    >>> from lrkit.tasks import Task
    >>> t = Task("t", model=object, optimizer=lambda p, lr: None, loss_fn=lambda o, y: 0,
    ...          train_data=[0] * 64, val_data=[0], batch_size=8, epochs=2, schedule="cosine")
    >>> configure_task(t, {"lr": 0.1, "schedule": "constant", "warmup": 0.25}).schedule
    {'family': 'constant', 'warmup_steps': 0.25}
    """
    shape: Any = params.get("schedule", task.schedule)
    changes: dict[str, Any] = {}
    if "warmup" in params:
        spec = parse_spec(shape) if isinstance(shape, str) else dict(shape or
                                                                    {"family": "constant"})
        spec.pop("warmup_steps", None)
        if params["warmup"] > 0:
            # Task.lr_schedule reads warmup_steps below 1 as a fraction of the run
            spec["warmup_steps"] = float(params["warmup"])
        shape = spec
    if shape != task.schedule:
        changes["schedule"] = shape
    if "weight_decay" in params:
        changes["optimizer"] = _WithWeightDecay(task.optimizer, float(params["weight_decay"]))
    return dataclasses.replace(task, **changes) if changes else task


def schedule_of(task: Task, params: Mapping[str, Any]) -> Schedule:
    """The full schedule (the real run's length) a configuration stands for."""
    return configure_task(task, params).lr_schedule(float(params["lr"]))


def data_fractions(rungs: int, eta: int) -> list[float]:
    """Training-set fractions of the data-fidelity rungs, smallest first.

    >>> data_fractions(3, 3)
    [0.1111111111111111, 0.3333333333333333, 1.0]
    """
    return [float(eta) ** -(rungs - 1 - k) for k in range(rungs)]


class Objective:
    """Callable ``objective(trial) -> final validation loss`` for ``study.optimize``.

    Args:
        task: the task to train.
        space: what the trial varies.
        seed: the training seed (the same for every trial, so trials differ only in the
            configuration).
        fidelity: ``"epochs"`` or ``"data"`` (see the module docstring).
        rungs: number of data-fidelity rungs.
        reduction_factor: eta.
        limit: the study's target number of trials; a trial that starts when that many
            already exist ahead of it raises SurplusTrial instead of training.
    """

    def __init__(self, task: Task, space: SearchSpace, *, seed: int = 0,
                 fidelity: str = "epochs", rungs: int = 3, reduction_factor: int = 3,
                 limit: int | None = None) -> None:
        if fidelity not in FIDELITIES:
            raise ConfigError(f"fidelity = {fidelity!r}: unknown; use one of "
                              f"{', '.join(FIDELITIES)}")
        self.task, self.space, self.seed = task, space, seed
        self.fidelity, self.rungs, self.eta, self.limit = fidelity, rungs, reduction_factor, limit
        self._optuna = require("optuna", extra="tune")

    @property
    def max_resource(self) -> int:
        """The step of the last rung: epochs, or eta**(rungs-1) slices of data."""
        return self.task.epochs if self.fidelity == "epochs" else self.eta ** (self.rungs - 1)

    def __call__(self, trial: Any) -> float:
        trial.set_user_attr(WORKER_ATTR, worker_identity(trial.number))
        trial.set_user_attr("lrkit_interrupted", False)
        self._check_surplus(trial)
        params = self.space.suggest(trial)
        task = configure_task(self.task, params)
        try:
            if self.fidelity == "epochs":
                return self._by_epochs(trial, task, params["lr"])
            return self._by_data(trial, task, params["lr"])
        except KeyboardInterrupt:
            trial.set_user_attr("lrkit_interrupted", True)
            raise

    def _check_surplus(self, trial: Any) -> None:
        if self.limit is None:
            return
        state = self._optuna.trial.TrialState
        live = trial.study.get_trials(deepcopy=False, states=(
            state.COMPLETE, state.PRUNED, state.RUNNING, state.WAITING))
        if sum(t.number < trial.number for t in live) >= self.limit:
            trial.set_user_attr("lrkit_surplus", True)
            raise SurplusTrial(f"trial {trial.number}: the study already has its "
                               f"{self.limit} trials")

    def _diverged(self, trial: Any, step: int, cost: float) -> None:
        trial.report(math.inf, step)
        trial.set_user_attr("lrkit_diverged", True)
        trial.set_user_attr("lrkit_cost", cost)
        raise self._optuna.TrialPruned(f"diverged at step {step}")

    def _by_epochs(self, trial: Any, task: Task, lr: float) -> float:
        pruned = False
        best = math.inf
        blew_up = False

        def on_epoch(epoch: int, val_loss: float) -> bool:
            nonlocal pruned, best, blew_up
            if val_loss > DIVERGENCE_FACTOR * best:
                blew_up = True
                return True
            best = min(best, val_loss)
            trial.report(val_loss, epoch)
            # a prune signal after the last epoch changes nothing: the run is paid for
            pruned = epoch < task.epochs and trial.should_prune()
            return pruned

        result = train(task, lr, self.seed, on_epoch=on_epoch)
        cost = result.steps / self.task.total_steps
        if result.diverged or blew_up:
            self._diverged(trial, len(result.val_losses), cost)
        trial.set_user_attr("lrkit_cost", cost)
        if pruned:
            raise self._optuna.TrialPruned(f"pruned after epoch {len(result.val_losses)}")
        return float(result.final_val_loss)

    def _by_data(self, trial: Any, task: Task, lr: float) -> float:
        cost = 0.0
        value = math.inf
        for k, fraction in enumerate(data_fractions(self.rungs, self.eta)):
            step = self.eta ** k
            result = train(task, lr, self.seed, train_fraction=fraction)
            cost += result.steps / self.task.total_steps
            trial.set_user_attr("lrkit_cost", cost)
            if result.diverged:
                self._diverged(trial, step, cost)
            value = float(result.final_val_loss)
            trial.report(value, step)
            if k < self.rungs - 1 and trial.should_prune():
                raise self._optuna.TrialPruned(f"pruned after data rung {k + 1}")
        return value
