"""Stage 1 of ``auto``: the calculator's prior for the task's optimizer (no training).

The optimizer is recognised by building it once on a dummy parameter; its textbook
default LR and typical range come from the calculator's evidence table.

>>> from lrkit.tasks import builtin_tasks
>>> prior = optimizer_prior(builtin_tasks()["digits-cnn"]())
>>> prior.optimizer, prior.lr, prior.momentum
('momentum', 0.1, 0.9)
"""

from __future__ import annotations

import dataclasses

from lrkit._deps import require
from lrkit.rules import OPTIMIZERS
from lrkit.tasks import Task

__all__ = ["Prior", "optimizer_prior"]

# torch optimizer class name (lower case) -> calculator name; momentum decides SGD's entry
_BY_CLASS = {"adam": "adam", "adamw": "adamw", "rmsprop": "rmsprop", "adagrad": "adagrad"}


@dataclasses.dataclass(frozen=True)
class Prior:
    """The textbook starting point for the task's optimizer.

    Attributes:
        optimizer: calculator name (``sgd``, ``momentum``, ``nesterov``, ``adam``, ...), or
            ``"unknown"`` when lrkit does not recognise the optimizer class.
        lr: its default LR; low, high: its typical range.
        momentum: heavy-ball momentum (SGD family) or beta1 (Adam family), if any.
        adaptive: True for optimizers with a second-moment preconditioner.
        evidence: the evidence-table id of the defaults.
    """

    optimizer: str
    lr: float
    low: float
    high: float
    momentum: float
    adaptive: bool
    evidence: str


def optimizer_prior(task: Task) -> Prior:
    """The calculator's default LR and range for the optimizer ``task`` builds."""
    torch = require("torch", extra="torch")
    dummy = torch.nn.Parameter(torch.zeros(1))
    opt = task.optimizer([dummy], 1.0)
    group = opt.param_groups[0]
    cls = type(opt).__name__.lower()
    if cls == "sgd":
        momentum = float(group.get("momentum", 0.0) or 0.0)
        name = "sgd" if momentum == 0 else ("nesterov" if group.get("nesterov") else "momentum")
    else:
        name = _BY_CLASS.get(cls, "unknown")
        betas = group.get("betas")
        momentum = float(betas[0]) if betas else 0.0
    info = OPTIMIZERS.get(name)
    if info is None:  # an optimizer the table does not know: a wide, honest prior
        return Prior("unknown", 1e-3, 1e-6, 1.0, momentum, True, "")
    return Prior(name, info.lr, info.low, info.high, momentum, info.adaptive, info.evidence)
