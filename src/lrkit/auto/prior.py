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
import itertools
import math

from lrkit._deps import require
from lrkit.rules import OPTIMIZERS
from lrkit.tasks import Task

__all__ = ["Prior", "builtin_warmup_octaves", "optimizer_prior"]

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
        rectified_beta2: RAdam's beta2 (its built-in warm-up, see
            :func:`builtin_warmup_octaves`); 0 for every other optimizer.
    """

    optimizer: str
    lr: float
    low: float
    high: float
    momentum: float
    adaptive: bool
    evidence: str
    rectified_beta2: float = 0.0


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
    betas = group.get("betas")
    rectified = float(betas[1]) if cls == "radam" and betas else 0.0
    info = OPTIMIZERS.get(name)
    if info is None:  # an optimizer the table does not know: a wide, honest prior
        return Prior("unknown", 1e-3, 1e-6, 1.0, momentum, True, "", rectified)
    return Prior(name, info.lr, info.low, info.high, momentum, info.adaptive, info.evidence,
                 rectified)


def _rectification(beta2: float, t: int) -> float:
    """RAdam's multiplier of its adaptive step at update ``t``: the rectification term
    where the variance estimate is trusted (rho_t > 5), 0 before (plain momentum steps,
    which do not scale with the adaptive step)."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho = rho_inf - 2.0 * t * beta2 ** t / (1.0 - beta2 ** t)
    if rho <= 5.0:
        return 0.0
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def _mean_rectification(beta2: float, steps: int) -> float:
    """RAdam's mean step multiplier over its first ``steps`` updates."""
    return sum(_rectification(beta2, t) for t in range(1, steps + 1)) / steps


def builtin_warmup_octaves(beta2: float, short: int, long: int) -> float:
    """How many octaves an optimizer's own warm-up moves the best LR down from a
    ``short``-update run to a ``long`` one (0 without one: ``beta2`` 0).

    RAdam multiplies its adaptive step by a rectification term that grows from 0 over
    about ``2 / (1 - beta2)`` updates (2000 at the default 0.999), so a short search run
    meets a far smaller step than the full run at the same LR and prefers a higher one:
    the ratio of the two runs' mean multipliers, in octaves. A run too short to reach the
    rectified regime counts as one that just did (a bound, not a blow-up to infinity).

    >>> round(builtin_warmup_octaves(0.999, 40, 400), 2)
    1.89
    >>> builtin_warmup_octaves(0.0, 40, 400)
    0.0
    >>> builtin_warmup_octaves(0.5, 40, 400)  # rho_inf <= 5: RAdam never rectifies
    0.0
    """
    # rho_t rises towards rho_inf = 2 / (1 - beta2) - 1: at or below 5 it never passes 5
    if not 2.0 / 3.0 < beta2 < 1.0 or long <= short:
        return 0.0
    first = next(t for t in itertools.count(1) if _rectification(beta2, t) > 0.0)
    short = max(short, first + 1)
    if long <= short:
        return 0.0
    return math.log2(_mean_rectification(beta2, long) / _mean_rectification(beta2, short))
