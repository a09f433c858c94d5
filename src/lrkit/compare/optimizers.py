"""Adaptive optimizers ``compare`` can put in the table beside the schedules.

Each entry builds its optimizer for a model's parameters and says whether its LR is
searched like a schedule's height (schedule-free AdamW still has one) or left to the
method (the hypergradient optimizers start from the textbook LR and adapt it; Prodigy and
D-Adaptation estimate the step size themselves at ``lr=1``). They replace the task's own
optimizer and its hyperparameters (weight decay included) and train at a constant LR;
the LR curve in the figure is the step size the method actually used.

Prodigy, D-Adaptation and schedule-free AdamW are other projects' packages, installed
with ``pip install 'lrkit[compare]'``; asking for one that is missing fails with that line.

>>> sorted(OPTIMIZERS)
['adam-hd', 'dadaptation', 'prodigy', 'schedule-free', 'sgd-hd']
>>> OPTIMIZERS["prodigy"].searched, OPTIMIZERS["schedule-free"].searched
(False, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from lrkit._deps import require
from lrkit.errors import ConfigError

__all__ = ["OPTIMIZERS", "OptimizerEntry", "optimizer_entry"]


@dataclasses.dataclass(frozen=True)
class OptimizerEntry:
    """An adaptive optimizer as a row of the comparison.

    Attributes:
        name: the registry name (``--optimizers``).
        label: the name in tables.
        searched: True when its LR is searched like a schedule's peak LR.
        default_lr: the LR it runs at when not searched (the start of its adaptation).
        build: ``(params, lr, total_steps) -> torch.optim.Optimizer``.
        effective_lr: the step size it used last (for the LR curve).
        eval_mode: True when the optimizer must be switched to eval mode for validation
            (schedule-free methods evaluate at their averaged iterate).
    """

    name: str
    label: str
    searched: bool
    default_lr: float
    build: Callable[[Any, float, int], Any]
    effective_lr: Callable[[Any], float]
    eval_mode: bool = False


def _group_lr(opt: Any) -> float:
    return float(opt.param_groups[0]["lr"])


def _d_times_lr(opt: Any) -> float:
    # Prodigy and D-Adaptation step with d * lr; d is their distance estimate
    group = opt.param_groups[0]
    return float(group.get("d", 1.0)) * float(group["lr"])


def _adam_hd(params: Any, lr: float, total_steps: int) -> Any:
    from lrkit.optim import AdamHD

    # the multiplicative rule with beta 0.02 was the most robust setting on the built-in
    # tasks (benchmarks/optim/RESULTS.md)
    return AdamHD(params, lr=lr, hypergrad_lr=0.02, multiplicative=True)


def _sgd_hd(params: Any, lr: float, total_steps: int) -> Any:
    from lrkit.optim import SGDHD

    return SGDHD(params, lr=lr, momentum=0.9, hypergrad_lr=0.02, multiplicative=True)


def _prodigy(params: Any, lr: float, total_steps: int) -> Any:
    module = require("prodigyopt", extra="compare")
    return module.Prodigy(params, lr=lr)


def _dadaptation(params: Any, lr: float, total_steps: int) -> Any:
    module = require("dadaptation", extra="compare")
    return module.DAdaptAdam(params, lr=lr)


def _schedule_free(params: Any, lr: float, total_steps: int) -> Any:
    module = require("schedulefree", extra="compare")
    # its authors' recipe keeps a short warmup; 5% is the warmup of ``warmup+NAME``
    return module.AdamWScheduleFree(params, lr=lr, warmup_steps=max(1, round(0.05 * total_steps)))


OPTIMIZERS: dict[str, OptimizerEntry] = {e.name: e for e in (
    OptimizerEntry("adam-hd", "Adam-HD", False, 1e-3, _adam_hd, _group_lr),
    OptimizerEntry("sgd-hd", "SGD-HD", False, 1e-2, _sgd_hd, _group_lr),
    OptimizerEntry("prodigy", "Prodigy", False, 1.0, _prodigy, _d_times_lr),
    OptimizerEntry("dadaptation", "D-Adaptation Adam", False, 1.0, _dadaptation, _d_times_lr),
    OptimizerEntry("schedule-free", "schedule-free AdamW", True, 2.5e-3, _schedule_free,
                   _group_lr, eval_mode=True),
)}

_ALIASES = {"adamhd": "adam-hd", "sgdhd": "sgd-hd", "d-adaptation": "dadaptation",
            "dadapt": "dadaptation", "schedulefree": "schedule-free",
            "schedule-free-adamw": "schedule-free"}


def optimizer_entry(name: str) -> OptimizerEntry:
    """The registered optimizer ``name`` (case-insensitive; a few aliases accepted).

    Raises:
        ConfigError: an unknown name.

    >>> optimizer_entry("Adam-HD").label
    'Adam-HD'
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in OPTIMIZERS:
        raise ConfigError(parameter="optimizers", value=name, rule="unknown optimizer",
                          fix=f"use one of {', '.join(sorted(OPTIMIZERS))}")
    return OPTIMIZERS[key]
