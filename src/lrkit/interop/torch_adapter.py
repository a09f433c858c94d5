"""``to_torch``: run an lrkit schedule as a real PyTorch ``LRScheduler``.

>>> import torch
>>> from lrkit.schedules import parse
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = to_torch(parse("step(base_lr=0.1, step_size=2, gamma=0.5)"), opt)
>>> rates = []
>>> for _ in range(5):
...     rates.append(opt.param_groups[0]["lr"]); opt.step(); sched.step()
>>> rates
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lrkit._deps import require
from lrkit.schedules import Schedule

if TYPE_CHECKING:
    from lrkit.interop._torch_scheduler import LrkitScheduler

__all__ = ["to_torch"]


def to_torch(schedule: Schedule, optimizer: Any, *, reference_lr: float | None = None,
             last_epoch: int = -1) -> LrkitScheduler:
    """A ``torch.optim.lr_scheduler.LRScheduler`` that sets each group's lr from ``schedule``.

    Call ``scheduler.step()`` after each ``optimizer.step()``, as with PyTorch's own
    schedulers. Group *i* gets ``schedule(t) * lr_i / reference_lr``: with the default
    ``reference_lr`` = the optimizer's own lr (the ``lr=`` it was built with), a group at
    that lr follows the schedule exactly, and the other groups keep their ratio to it.
    ``state_dict()`` / ``load_state_dict()`` save and resume it, including the
    schedule's spec.

    Args:
        schedule: the lrkit schedule.
        optimizer: a ``torch.optim.Optimizer``.
        reference_lr: the optimizer lr that stands for the schedule (default: the lr the
            optimizer was built with, ``optimizer.defaults["lr"]``).
        last_epoch: as in PyTorch; leave -1 and resume with ``load_state_dict``.

    Raises:
        MissingDependencyError: torch is not installed.
        ConfigError: ``schedule`` is not a Schedule, or ``reference_lr`` is not positive.
    """
    require("torch", extra="torch")
    from lrkit.interop._torch_scheduler import LrkitScheduler

    return LrkitScheduler(optimizer, schedule, reference_lr=reference_lr, last_epoch=last_epoch)
