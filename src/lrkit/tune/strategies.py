"""Samplers (grid, random, TPE) and pruners (none, median, successive halving, Hyperband).

Each is looked up by name in a registry dict; a factory gets a ``StrategyContext`` that
carries what it may need (space, seed, budget, rungs). Optuna is imported lazily.

>>> sorted(SAMPLERS), sorted(PRUNERS)
(['grid', 'random', 'tpe'], ['hyperband', 'median', 'none', 'sha'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.tune.space import SearchSpace

__all__ = ["PRUNERS", "SAMPLERS", "StrategyContext", "make_pruner", "make_sampler"]


@dataclasses.dataclass(frozen=True)
class StrategyContext:
    """What a sampler or pruner factory may use.

    Args:
        space: the search space.
        seed: the sampler's random seed.
        n_trials: the study's trial budget (TPE sizes its random start-up from it).
        max_resource: the last rung (epochs, or data slices with data fidelity).
        reduction_factor: eta of successive halving / Hyperband (keep 1/eta per rung).
        grid_factor: ratio between neighbouring grid LRs.
        grid_anchor: an LR the grid is centred on (a seed suggestion), or None.
    """

    space: SearchSpace
    seed: int = 0
    n_trials: int = 20
    max_resource: int = 10
    reduction_factor: int = 3
    grid_factor: float = 10.0**0.5
    grid_anchor: float | None = None


def _grid(ctx: StrategyContext) -> Any:
    optuna = require("optuna", extra="tune")
    return optuna.samplers.GridSampler(ctx.space.grid(ctx.grid_factor, ctx.grid_anchor),
                                       seed=ctx.seed)


def _random(ctx: StrategyContext) -> Any:
    return require("optuna", extra="tune").samplers.RandomSampler(seed=ctx.seed)


def _tpe(ctx: StrategyContext) -> Any:
    optuna = require("optuna", extra="tune")
    # Optuna's default of 10 random start-up trials eats a small budget whole; a quarter
    # of the budget (3 to 10) leaves TPE room to exploit.
    startup = max(3, min(10, ctx.n_trials // 4))
    return optuna.samplers.TPESampler(seed=ctx.seed, n_startup_trials=startup,
                                      multivariate=True, constant_liar=True)


def _no_pruner(ctx: StrategyContext) -> Any:
    return require("optuna", extra="tune").pruners.NopPruner()


def _median(ctx: StrategyContext) -> Any:
    return require("optuna", extra="tune").pruners.MedianPruner(
        n_startup_trials=3, n_warmup_steps=0, interval_steps=1)


def _sha(ctx: StrategyContext) -> Any:
    return require("optuna", extra="tune").pruners.SuccessiveHalvingPruner(
        min_resource=1, reduction_factor=ctx.reduction_factor)


def _hyperband(ctx: StrategyContext) -> Any:
    return require("optuna", extra="tune").pruners.HyperbandPruner(
        min_resource=1, max_resource=max(1, ctx.max_resource),
        reduction_factor=ctx.reduction_factor)


SAMPLERS: dict[str, Callable[[StrategyContext], Any]] = {
    "grid": _grid, "random": _random, "tpe": _tpe}
PRUNERS: dict[str, Callable[[StrategyContext], Any]] = {
    "hyperband": _hyperband, "median": _median, "none": _no_pruner, "sha": _sha}


def _build(kind: str, name: str, registry: dict[str, Callable[[StrategyContext], Any]],
           ctx: StrategyContext) -> Any:
    if name not in registry:
        raise ConfigError(f"{kind} = {name!r}: unknown; use one of {', '.join(sorted(registry))}")
    return registry[name](ctx)


def make_sampler(name: str, ctx: StrategyContext) -> Any:
    """The Optuna sampler registered as ``name``.

    Raises:
        ConfigError: unknown name.
    """
    return _build("sampler", name, SAMPLERS, ctx)


def make_pruner(name: str, ctx: StrategyContext) -> Any:
    """The Optuna pruner registered as ``name``.

    Raises:
        ConfigError: unknown name.
    """
    return _build("pruner", name, PRUNERS, ctx)
