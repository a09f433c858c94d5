"""``tune_ray``: the same search on Ray Tune, with ASHA, for users who run a Ray cluster.

Ray is optional (``pip install 'lrkit[ray]'``) and imported only here. The search space
maps one to one (log-uniform LR, categorical shape, uniform warmup, log-uniform weight
decay); the grid is ``tune.grid_search``; TPE is ``OptunaSearch``; successive halving and
Hyperband both become ASHA (asynchronous successive halving) on the per-epoch validation
loss. ``ray.init`` is called only when Ray is not running yet: on a cluster, call
``ray.init(address="auto")`` first (or set ``RAY_ADDRESS``) and the trials spread over it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.tasks import Task, load_task, train
from lrkit.tune.objective import DIVERGENCE_FACTOR, configure_task, schedule_of
from lrkit.tune.result import TrialRecord, TuneResult, build_result, shape_label
from lrkit.tune.space import SearchSpace

__all__ = ["ray_param_space", "tune_ray"]

_DIVERGED = 1e30


def ray_param_space(space: SearchSpace, sampler: str, grid_factor: float = 10.0**0.5,
                    anchor: float | None = None) -> dict[str, Any]:
    """The Ray Tune ``param_space`` of ``space`` (a grid search for ``sampler="grid"``)."""
    tune = require("ray.tune", extra="ray")
    if sampler == "grid":
        return {k: tune.grid_search(v) for k, v in space.grid(grid_factor, anchor).items()}
    out: dict[str, Any] = {"lr": tune.loguniform(space.lr_min, space.lr_max)}
    if len(space.schedules) > 1:
        out["schedule"] = tune.choice(list(space.schedules))
    if space.warmup is not None:
        out["warmup"] = tune.uniform(*space.warmup)
    if space.weight_decay is not None:
        out["weight_decay"] = tune.loguniform(*space.weight_decay)
    return out


def _trainable(task_ref: str | Task, schedule: str | None, seed: int, epochs: int | None
               ) -> Callable[[dict[str, Any]], None]:
    def trainable(config: dict[str, Any]) -> None:
        from ray import tune

        task = load_task(task_ref) if isinstance(task_ref, str) else task_ref
        if epochs is not None:
            task = dataclasses.replace(task, epochs=epochs)
        params = dict(config)
        if schedule is not None:
            params.setdefault("schedule", schedule)
        configured = configure_task(task, params)
        best = math.inf

        def on_epoch(epoch: int, val_loss: float) -> bool:
            nonlocal best
            blew_up = val_loss > DIVERGENCE_FACTOR * best
            best = min(best, val_loss)
            # ASHA stops the trial inside this call when it falls below its rung's cutoff
            tune.report(_metrics(math.inf if blew_up else val_loss, epoch, blew_up))
            return blew_up

        result = train(configured, float(config["lr"]), seed, on_epoch=on_epoch)
        if result.diverged:  # train stops at a non-finite loss without calling on_epoch
            tune.report(_metrics(math.inf, len(result.val_losses), True))

    return trainable


def _metrics(val_loss: float, epoch: int, diverged: bool) -> dict[str, Any]:
    # ASHA takes percentiles of "loss"; an inf there turns its cutoffs into NaN, so it
    # sees a huge finite stand-in while "val_loss" keeps the true value
    return {"loss": min(val_loss, _DIVERGED), "val_loss": val_loss, "epoch": epoch,
            "diverged": diverged}


def _init_ray(ray: Any, num_cpus: int | None) -> None:
    if ray.is_initialized():
        return
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
        return
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
             configure_logging=False)


def tune_ray(task: str | Task, space: SearchSpace, *, sampler: str = "random",
             pruner: str = "hyperband", n_trials: int = 20, seed: int = 0,
             seeds: Sequence[float | Mapping[str, Any]] = (), epochs: int | None = None,
             reduction_factor: int = 3, grid_factor: float = 10.0**0.5,
             storage_path: str | None = None, name: str | None = None,
             num_cpus: int | None = None, on_trial: Callable[..., None] | None = None
             ) -> TuneResult:
    """Search ``space`` for ``task`` with Ray Tune and ASHA; returns a TuneResult.

    Args:
        task: a task reference (built-in name or ``file.py:factory``, loaded inside each
            Ray worker: preferred on a cluster) or a Task object (shipped by cloudpickle).
        space: what to search.
        sampler: ``grid``, ``random`` or ``tpe`` (Ray's OptunaSearch).
        pruner: ``hyperband``/``sha``/``median`` (all run as ASHA) or ``none`` (FIFO).
        n_trials: number of trials (a grid runs once through).
        seed: training seed and sampler seed.
        seeds: LRs to evaluate first.
        epochs: override the task's epochs.
        reduction_factor: ASHA's eta.
        grid_factor: ratio between neighbouring grid LRs.
        storage_path: Ray's results folder (a shared path or bucket on a cluster).
        name: the Ray experiment name.
        num_cpus: CPUs for a Ray started here (default: all).
        on_trial: accepted for symmetry with ``tune``; Ray reports progress itself.

    Raises:
        MissingDependencyError: Ray Tune is not installed.
        ConfigError: bad arguments.
    """
    ray = require("ray", extra="ray")
    tune = require("ray.tune", extra="ray")
    schedulers = require("ray.tune.schedulers", extra="ray")
    if sampler not in ("grid", "random", "tpe"):
        raise ConfigError(f"sampler = {sampler!r}: unknown; use grid, random or tpe")
    if pruner not in ("hyperband", "sha", "median", "none"):
        raise ConfigError(f"pruner = {pruner!r}: unknown; use hyperband, sha, median or none")
    loaded = load_task(task) if isinstance(task, str) else task
    n_epochs = loaded.epochs if epochs is None else epochs
    points = [{"lr": float(s)} if isinstance(s, int | float) else dict(s) for s in seeds]
    anchor = points[0]["lr"] if points and sampler == "grid" else None
    param_space = ray_param_space(space, sampler, grid_factor, anchor)
    search_alg = None
    if sampler == "tpe":
        optuna = require("optuna", extra="tune")
        search = require("ray.tune.search.optuna", extra="ray")
        search_alg = search.OptunaSearch(metric="loss", mode="min", seed=seed,
                                         sampler=optuna.samplers.TPESampler(seed=seed),
                                         points_to_evaluate=points or None)
    elif sampler == "random":
        basic = require("ray.tune.search.basic_variant", extra="ray")
        search_alg = basic.BasicVariantGenerator(points_to_evaluate=points or None,
                                                 random_state=seed)
    scheduler = None if pruner == "none" else schedulers.ASHAScheduler(
        time_attr="training_iteration", max_t=n_epochs, grace_period=1,
        reduction_factor=reduction_factor)
    _init_ray(ray, num_cpus)
    shape = space.schedules[0] if len(space.schedules) == 1 else None
    tuner = tune.Tuner(
        _trainable(task, shape, seed, epochs), param_space=param_space,
        tune_config=tune.TuneConfig(metric="loss", mode="min", search_alg=search_alg,
                                    scheduler=scheduler,
                                    num_samples=1 if sampler == "grid" else n_trials,
                                    reuse_actors=True),
        run_config=tune.RunConfig(name=name or f"lrkit-{loaded.name}",
                                  storage_path=storage_path, verbose=0))
    # Ray prints its experiment banner on stdout; keep stdout for the --json document
    with contextlib.redirect_stdout(sys.stderr):
        grid = tuner.fit()
    trials = _records(grid, n_epochs, shape)
    budget = dataclasses.replace(loaded, epochs=n_epochs)
    return build_result(trials, lambda p: schedule_of(budget, p), study=name or
                        f"lrkit-{loaded.name}", storage=str(storage_path or "ray default"),
                        task=loaded.name, sampler=sampler,
                        pruner="asha" if scheduler is not None else "none",
                        fidelity="epochs", n_trials=len(trials), epochs=n_epochs,
                        backend="ray", shape=shape_label(loaded.schedule))


def _records(grid: Any, epochs: int, shape: str | None) -> list[TrialRecord]:
    out = []
    for number, result in enumerate(grid):
        params = {k: v for k, v in (result.config or {}).items()}
        if shape is not None:
            params["schedule"] = shape
        frame = result.metrics_dataframe
        curve: dict[int, float] = {}
        diverged = False
        if frame is not None and "val_loss" in frame:
            for _, row in frame.iterrows():
                curve[int(row["training_iteration"])] = float(row["val_loss"])
                diverged = diverged or bool(row.get("diverged", False))
        if result.error is not None:
            state = "failed"
        elif diverged or len(curve) < epochs:
            state = "pruned"
        else:
            state = "complete"
        value = curve[max(curve)] if curve else None
        out.append(TrialRecord(number=number, state=state, params=params,
                               value=value, curve=curve, cost=len(curve) / epochs,
                               diverged=diverged))
    return out
