"""The rows of a comparison: a schedule shape on the task's optimizer, or an adaptive optimizer.

``Entry.task_for(task)`` is the task as that row trains it, so every LR search lrkit has
(``auto``, ``train`` on a grid) runs an entry without knowing about ``compare``: a
``ShapedTask`` builds its schedule from the shape at whatever length a run asks for
(``auto``'s compressed runs included).

>>> from lrkit.tasks import load_task
>>> e = entries(["warmup+cosine"], [])[0]
>>> t = e.task_for(load_task("breast-cancer-logreg"))
>>> t.lr_schedule(1.0, 100)(5), t.lr_schedule(1.0, 20)(1)
(1.0, 1.0)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from lrkit.compare.optimizers import OptimizerEntry, optimizer_entry
from lrkit.compare.shapes import PRESETS, Shape, shape
from lrkit.errors import ConfigError
from lrkit.schedules import Schedule
from lrkit.tasks import Task

__all__ = ["Entry", "ShapedTask", "entries"]


@dataclasses.dataclass(frozen=True)
class ShapedTask(Task):
    """A Task whose schedule is a ``Shape``: its run-relative parameters follow the run length.

    ``schedule`` holds the shape at the real run's length (what reports and the range test's
    peak mapping read); ``lr_schedule`` rebuilds it for any length.
    """

    shape: Shape | None = None

    def lr_schedule(self, peak_lr: float, total_steps: int | None = None) -> Schedule:
        """The shape at height ``peak_lr`` over ``total_steps`` (default: the real run)."""
        n = self.total_steps if total_steps is None else total_steps
        if self.shape is None:
            return super().lr_schedule(peak_lr, total_steps)
        return self.shape.build(peak_lr, n)


@dataclasses.dataclass(frozen=True)
class _OptimizerFactory:
    """``(params, lr) -> optimizer`` of an adaptive entry (a class, so it pickles)."""

    name: str
    total_steps: int

    def __call__(self, params: Any, lr: float) -> Any:
        return optimizer_entry(self.name).build(params, lr, self.total_steps)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row: a schedule shape with the task's optimizer, or an adaptive optimizer.

    Attributes:
        name: the row's label.
        shape: the schedule shape (constant for optimizer rows).
        optimizer: the adaptive optimizer, or None for the task's own.
    """

    name: str
    shape: Shape
    optimizer: OptimizerEntry | None = None

    @property
    def searched(self) -> bool:
        """Whether its LR is searched (schedules, schedule-free) or the method's own."""
        return self.optimizer is None or self.optimizer.searched

    @property
    def kind(self) -> str:
        """``"schedule"`` or ``"optimizer"``."""
        return "schedule" if self.optimizer is None else "optimizer"

    @property
    def ident(self) -> str:
        """A stable text naming what this row trains (part of every unit's store key)."""
        what: dict[str, Any] = {"shape": self.shape.to_dict()}
        if self.optimizer is not None:
            what["optimizer"] = self.optimizer.name
        return json.dumps(what, sort_keys=True)

    def task_for(self, task: Task) -> ShapedTask:
        """``task`` as this row trains it (its shape; its optimizer for adaptive rows)."""
        fields = {f.name: getattr(task, f.name) for f in dataclasses.fields(Task)}
        # a shape whose LR parameters follow the peak (cyclic's base_lr) has no fixed spec;
        # the range test's mapping of a constant LR to the peak then treats it as constant
        fields["schedule"] = (self.shape.spec(task.total_steps) if not self.shape.of_peak
                              else {"family": "constant"})
        if self.optimizer is not None:
            fields["optimizer"] = _OptimizerFactory(self.optimizer.name, task.total_steps)
        return ShapedTask(**fields, shape=self.shape)


def entries(schedules: Sequence[str], optimizers: Sequence[str]) -> list[Entry]:
    """The rows for ``schedules`` (presets or specs) and ``optimizers`` (registry names).

    Raises:
        ConfigError: an unknown name, a duplicate, or nothing to compare.
    """
    out = [Entry(s.name, s) for s in (shape(text) for text in schedules)]
    out += [Entry(o.label, PRESETS["constant"], o)
            for o in (optimizer_entry(name) for name in optimizers)]
    names = [e.name for e in out]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(parameter="schedules", value=name,
                              rule="is listed twice (with --optimizers)",
                              fix="list each entry once")
    if not out:
        raise ConfigError(parameter="schedules", rule="nothing to compare",
                          fix="pass e.g. constant,cosine")
    return out
