"""The PyTorch ``LRScheduler`` that follows an lrkit schedule (imports torch).

Import it through ``lrkit.interop.to_torch``, which fails with the install line when torch
is missing.

>>> import torch
>>> from lrkit.schedules import Cosine
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = LrkitScheduler(opt, Cosine(0.1, total_steps=4))
>>> for _ in range(2):
...     opt.step(); sched.step()
>>> round(opt.param_groups[0]["lr"], 6)
0.05
"""

from __future__ import annotations

from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lrkit._check import PART as check
from lrkit.errors import ConfigError, SpecError
from lrkit.schedules import Schedule, from_spec

__all__ = ["LrkitScheduler"]


class LrkitScheduler(LRScheduler):
    """Set each param group's lr to ``schedule(t) * initial_lr / reference_lr``.

    ``reference_lr`` defaults to the optimizer's own lr (``optimizer.defaults["lr"]``, the
    ``lr=`` it was built with; group 0's lr when that is not a number): a group at that lr
    follows the schedule exactly and every other group keeps its ratio to it (a head at
    10x the backbone stays at 10x, layer-wise decayed groups keep their decay). Defaulting
    to ``schedule(0)`` instead ran a schedule that starts below its peak (a warmup from
    ``start_factor``, OneCycle's ``max_lr / div_factor``) at the wrong scale on an
    optimizer built with the peak lr.

    ``state_dict()`` holds the step count and the schedule's JSON spec (plain Python data,
    so ``torch.load(weights_only=True)`` reads it); ``load_state_dict`` restores both and
    sets the groups' lrs for the restored step, so resuming continues exactly.
    """

    def __init__(self, optimizer: Optimizer, schedule: Schedule,
                 reference_lr: float | None = None, last_epoch: int = -1) -> None:
        if not isinstance(schedule, Schedule):
            raise check.fail("to_torch.schedule", schedule, "must be an lrkit Schedule",
                             "pass e.g. lrkit.schedules.parse('cosine(...)')")
        self.schedule = schedule
        if reference_lr is None:
            # the lr the optimizer was built with (its defaults), which per-group lrs
            # (layer-wise decay) are ratios of; group 0's when the default is not a number
            default = optimizer.defaults.get("lr")
            group = optimizer.param_groups[0]
            reference_lr = (float(default) if isinstance(default, int | float) and default > 0
                            else float(group.get("initial_lr", group["lr"])))
        self.reference_lr = check.positive("to_torch.reference_lr", reference_lr)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The rates of every group at ``last_epoch``."""
        value = float(self.schedule(max(self.last_epoch, 0)))
        # value * (base / ref), so the group whose base equals ref gets value exactly
        return [value * (float(base) / self.reference_lr) for base in self.base_lrs]

    # SequentialLR hands over through the closed form; the schedule is one
    _get_closed_form_lr = get_lr

    def state_dict(self) -> dict[str, Any]:
        """The scheduler state, with the schedule as its JSON spec."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "schedule")}
        try:
            state["schedule_spec"] = self.schedule.to_spec()
        except SpecError:  # a Python callable inside (Cyclic scale_fn): keep the live object
            state["schedule_spec"] = None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the step count (and the schedule, when the state has its spec)."""
        state = dict(state_dict)
        spec = state.pop("schedule_spec", None)
        self.__dict__.update(state)
        if spec is not None:
            try:
                self.schedule = from_spec(spec)
            except ConfigError as err:
                raise ConfigError(f"state_dict.schedule_spec: {err}") from None
        # put the restored step's rates in place, whatever order the optimizer state is loaded in
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
