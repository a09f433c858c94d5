"""``tune``: search the LR (and optionally schedule, warmup, weight decay) of a task.

One call is one *worker*. Run the same call (or ``lrkit tune``) in N processes on N
machines with one database URL and they share one study: each worker keeps training
trials until the study holds ``n_trials`` finished (complete or pruned) trials. A worker
that dies mid-trial stops sending heartbeats; after the grace period another worker marks
its trial failed and runs the same configuration again. Re-running a killed ``lrkit tune``
continues the study: trials of this machine's dead processes are re-queued at once.

>>> from lrkit.tasks import load_task
>>> result = tune(load_task("breast-cancer-logreg"), SearchSpace(1e-3, 1.0), n_trials=3,
...               sampler="random", pruner="none", epochs=1)
>>> result.n_finished, result.best is not None
(3, True)
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lrkit._check import INPUT
from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.tasks import Task
from lrkit.tune.objective import FIDELITIES, Objective, SurplusTrial, schedule_of
from lrkit.tune.result import (
    TrialRecord,
    TuneResult,
    build_result,
    collect_trials,
    shape_label,
)
from lrkit.tune.space import SearchSpace
from lrkit.tune.storage import DEFAULT_GRACE, DEFAULT_HEARTBEAT, open_storage, redact
from lrkit.tune.strategies import PRUNERS, SAMPLERS, StrategyContext, make_pruner, make_sampler
from lrkit.tune.workers import reap_dead_workers

__all__ = ["CONFIG_ATTR", "load_result", "tune"]

CONFIG_ATTR = "lrkit"
_COMPARED = ("task", "space", "sampler", "pruner", "fidelity", "rungs", "reduction_factor",
             "grid_factor", "grid_anchor", "seed", "epochs")
OnTrial = Callable[[TrialRecord, int, int], None]

# the CLI spells these differently (``lrkit tune --trials/--eta/--seed-lr``)
check = INPUT.renamed(n_trials="--trials", reduction_factor="--eta", seeds="--seed-lr")


def _seed_params(seeds: Sequence[float | Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for seed in seeds:
        params = {"lr": seed} if isinstance(seed, int | float) else dict(seed)
        params["lr"] = check.positive("seeds", params.get("lr"), example="0.01")
        out.append(params)
    return out


def _check_args(sampler: str, pruner: str, fidelity: str, n_trials: int, rungs: int,
                reduction_factor: int) -> None:
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler = {sampler!r}: unknown; use one of {', '.join(SAMPLERS)}")
    if pruner not in PRUNERS:
        raise ConfigError(f"pruner = {pruner!r}: unknown; use one of {', '.join(PRUNERS)}")
    if fidelity not in FIDELITIES:
        raise ConfigError(f"fidelity = {fidelity!r}: unknown; use one of {', '.join(FIDELITIES)}")
    for name, value, low in (("n_trials", n_trials, 1), ("rungs", rungs, 2),
                             ("reduction_factor", reduction_factor, 2)):
        check.count(name, value, minimum=low, example=str(max(low, 3)), exact=True)


def _open_study(optuna: Any, name: str, storage: Any, config: dict[str, Any],
                ctx: StrategyContext, sampler: str, pruner: Any) -> tuple[Any, bool]:
    """Create the study (returns created=True) or join the existing one after checking it."""
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction="minimize",
                                    sampler=make_sampler(sampler, ctx), pruner=pruner)
        study.set_user_attr(CONFIG_ATTR, config)
        return study, True
    except optuna.exceptions.DuplicatedStudyError:
        pass
    # A joining or resuming worker must not replay the creator's random stream. The grid
    # is the exception: its seed shuffles the grid and a trial stores only an index into
    # it, so every worker must shuffle alike.
    fresh = dict(vars(ctx))
    if sampler != "grid":
        fresh["seed"] = int.from_bytes(os.urandom(4), "little")
    deadline = time.monotonic() + 10.0
    while True:
        study = optuna.load_study(study_name=name, storage=storage,
                                  sampler=make_sampler(sampler, StrategyContext(**fresh)),
                                  pruner=pruner)
        # the creating worker writes its configuration right after creating the study
        stored = study.user_attrs.get(CONFIG_ATTR)
        if stored is not None:
            break
        if time.monotonic() > deadline:
            raise ConfigError(f"study = {name!r}: exists but was not created by lrkit tune; "
                              "pass another --study name")
        time.sleep(0.2)
    for key in _COMPARED:
        if stored.get(key) != config.get(key):
            raise ConfigError(f"study = {name!r}: exists with {key} = {stored.get(key)!r}, "
                              f"not {config.get(key)!r}; rerun with the same options to "
                              "continue it, or pass a new --study name")
    return study, False


def _counts(optuna: Any, study: Any) -> dict[str, int]:
    counts = {s.name: 0 for s in optuna.trial.TrialState}
    for frozen in study.get_trials(deepcopy=False):
        if not frozen.user_attrs.get("lrkit_surplus"):
            counts[frozen.state.name] += 1
    return counts


def tune(task: Task, space: SearchSpace | None = None, *, study: str | None = None,
         storage: str | None = None, sampler: str = "tpe", pruner: str = "hyperband",
         n_trials: int = 20, seed: int = 0, fidelity: str = "epochs", rungs: int = 3,
         reduction_factor: int = 3, grid_factor: float = 10.0**0.5,
         seeds: Sequence[float | Mapping[str, Any]] = (), epochs: int | None = None,
         heartbeat_interval: int = DEFAULT_HEARTBEAT, grace_period: int = DEFAULT_GRACE,
         timeout: float | None = None, on_trial: OnTrial | None = None,
         on_start: Callable[[int, int], None] | None = None) -> TuneResult:
    """Run one search worker on the study ``study`` until it has ``n_trials`` finished trials.

    Args:
        task: the task to tune.
        space: what to search; None narrows around ``seeds`` (a factor of 10 each way), or
            the default LR range 1e-5..1 without seeds.
        study: study name (default ``tune-<task name>``).
        storage: ``sqlite:///file.db``, ``postgresql://...`` or None (in memory).
        sampler: ``grid``, ``random`` or ``tpe``.
        pruner: ``none``, ``median``, ``sha`` (successive halving) or ``hyperband``.
        n_trials: target number of finished trials in the whole study (all workers);
            a grid is capped at its size.
        seed: training seed of every trial, and the sampler seed of the creating worker.
        fidelity: ``epochs`` (rungs are epochs) or ``data`` (early rungs train on subsets).
        rungs: data-fidelity rungs.
        reduction_factor: eta of successive halving / Hyperband.
        grid_factor: ratio between neighbouring grid LRs (sqrt(10): 1e-3, 3e-3, 1e-2, ...).
        seeds: LRs (or parameter dicts) to try first, e.g. the calculator's and the range
            test's suggestions; a grid is centred on the first one instead.
        epochs: override the task's epochs (a shorter search budget).
        heartbeat_interval, grace_period: seconds; see ``open_storage``.
        timeout: stop this worker after this many seconds (the study stays resumable).
        on_trial: called as ``on_trial(record, finished, n_trials)`` after each trial.
        on_start: called as ``on_start(finished, n_trials)`` once the study is open.

    Returns:
        The TuneResult of the whole study.

    Raises:
        ConfigError: bad arguments, or an existing study with different options.
    """
    optuna = require("optuna", extra="tune")
    _check_args(sampler, pruner, fidelity, n_trials, rungs, reduction_factor)
    params = _seed_params(seeds)
    if epochs is not None:
        check.count("epochs", epochs, example="5", exact=True)
        task = dataclasses.replace(task, epochs=epochs)
    if space is None:
        space = SearchSpace.around([p["lr"] for p in params]) if params else SearchSpace()
    anchor = params[0]["lr"] if params and sampler == "grid" else None
    if sampler == "grid":
        n_trials = min(n_trials, space.grid_size(grid_factor, anchor))
    for p in params:
        if not space.contains(p):
            raise check.fail("seeds", p["lr"], f"outside the search space "
                             f"[{space.lr_min:g}, {space.lr_max:g}]",
                             "widen --lr-min/--lr-max or drop the seed")
    objective = Objective(task, space, seed=seed, fidelity=fidelity, rungs=rungs,
                          reduction_factor=reduction_factor, limit=n_trials)
    ctx = StrategyContext(space=space, seed=seed, n_trials=n_trials,
                          max_resource=objective.max_resource,
                          reduction_factor=reduction_factor, grid_factor=grid_factor,
                          grid_anchor=anchor)
    name = study or f"tune-{task.name}"
    config = {"task": task.name, "space": space.to_dict(), "sampler": sampler,
              "pruner": pruner, "fidelity": fidelity, "rungs": rungs,
              "reduction_factor": reduction_factor, "grid_factor": grid_factor,
              "grid_anchor": anchor, "seed": seed, "epochs": task.epochs}
    store = open_storage(storage, heartbeat_interval=heartbeat_interval,
                         grace_period=grace_period)
    the_study, created = _open_study(optuna, name, store, config, ctx, sampler,
                                     make_pruner(pruner, ctx))
    if created and sampler != "grid":
        for p in params:
            the_study.enqueue_trial(p, skip_if_exists=True)
    if not created:
        reap_dead_workers(the_study, store)
    if on_start is not None:
        counts = _counts(optuna, the_study)
        on_start(counts["COMPLETE"] + counts["PRUNED"], n_trials)
    heartbeat = isinstance(store, optuna.storages.RDBStorage) and heartbeat_interval > 0
    _work(optuna, the_study, objective, n_trials, heartbeat=heartbeat,
          poll=max(0.2, min(2.0, grace_period / 4)), timeout=timeout,
          on_trial=_progress(on_trial, optuna, n_trials, task, fidelity, objective.max_resource))
    return load_result(the_study, task, storage=storage, n_trials=n_trials, sampler=sampler,
                       pruner=pruner, fidelity=fidelity, max_resource=objective.max_resource)


def _progress(on_trial: OnTrial | None, optuna: Any, n_trials: int, task: Task, fidelity: str,
              max_resource: int) -> Callable[[Any, Any], None] | None:
    if on_trial is None:
        return None

    def callback(study: Any, frozen: Any) -> None:
        if frozen.user_attrs.get("lrkit_surplus"):
            return
        record = collect_trials(_One(frozen), epochs=task.epochs, fidelity=fidelity,
                                max_resource=max_resource)[0]
        counts = _counts(optuna, study)
        on_trial(record, counts["COMPLETE"] + counts["PRUNED"], n_trials)

    return callback


class _One:
    """A stand-in study holding one trial, so collect_trials can convert it."""

    def __init__(self, frozen: Any) -> None:
        self._frozen = frozen

    def get_trials(self, deepcopy: bool = False) -> list[Any]:
        return [self._frozen]


def _work(optuna: Any, study: Any, objective: Objective, n_trials: int, *, heartbeat: bool,
          poll: float, timeout: float | None, on_trial: Callable[[Any, Any], None] | None
          ) -> None:
    """Train trials until the study has ``n_trials`` finished ones (or ``timeout``)."""
    started = time.monotonic()
    callbacks = [on_trial] if on_trial else None
    while timeout is None or time.monotonic() - started < timeout:
        if heartbeat:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)  # re-queues dead workers' trials
        counts = _counts(optuna, study)
        finished = counts["COMPLETE"] + counts["PRUNED"]
        if finished >= n_trials:
            return
        live = finished + counts["RUNNING"] + counts["WAITING"]
        if live < n_trials or counts["WAITING"]:
            try:
                study.optimize(objective, n_trials=1, catch=(), callbacks=callbacks,
                               gc_after_trial=False)
            except SurplusTrial:
                continue  # another worker claimed the last slot first
        elif heartbeat:
            # The last trials are running elsewhere. Stay: if their worker dies, the
            # heartbeat re-queues the trial and this worker runs it.
            time.sleep(poll)
        else:
            return  # without heartbeats a dead worker's trial can never be recovered


def load_result(study: Any, task: Task, *, storage: str | None, n_trials: int, sampler: str,
                pruner: str, fidelity: str, max_resource: int) -> TuneResult:
    """The TuneResult of ``study`` as it is now in the storage."""
    trials = collect_trials(study, epochs=task.epochs, fidelity=fidelity,
                            max_resource=max_resource)
    return build_result(trials, lambda p: schedule_of(task, p), study=study.study_name,
                        storage=redact(storage), task=task.name, sampler=sampler,
                        pruner=pruner, fidelity=fidelity, n_trials=n_trials,
                        epochs=task.epochs, shape=shape_label(task.schedule))

