"""The Task contract: everything a model-driven verb needs to train a user's model.

A task bundles a model factory, an optimizer factory ``(params, lr) -> Optimizer``, a loss,
training and validation data, a batch size, a training budget and the *shape* of the
schedule the real run will use. lrkit chooses the LR and fills it into that shape.

This module imports no torch: the fields are plain callables and objects.

>>> task = Task("toy", model=object, optimizer=lambda p, lr: None, loss_fn=lambda o, t: 0,
...             train_data=list(range(100)), val_data=list(range(10)), batch_size=32,
...             epochs=3, schedule="cosine")
>>> task.steps_per_epoch, task.total_steps
(3, 9)
>>> task.lr_schedule(0.1).to_spec()["peak_lr"]
0.1
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

from lrkit.errors import ConfigError
from lrkit.schedules import Schedule, from_spec, parse_spec

__all__ = ["LR_PARAMETER", "Task", "fill_schedule"]

# The parameter that sets the height of each family: lrkit writes the chosen LR there.
# Families that are not listed (interpolate, piecewise, join, noam, ...) fix their LRs
# themselves, so there is nothing for lrkit to choose.
LR_PARAMETER: dict[str, str] = {
    "constant": "base_lr",
    "cosine": "peak_lr",
    "cosine_restarts": "peak_lr",
    "cyclic": "max_lr",
    "exponential": "init_lr",
    "exponential_warmup": "peak_lr",
    "inverse_sqrt": "peak_lr",
    "inverse_time": "init_lr",
    "linear_warmup": "peak_lr",
    "multistep": "base_lr",
    "onecycle": "peak_lr",
    "polynomial": "init_lr",
    "step": "base_lr",
    "tanh": "peak_lr",
    "wsd": "peak_lr",
}


def _shape_spec(schedule: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if schedule is None:
        return {"family": "constant"}
    if isinstance(schedule, str):
        return parse_spec(schedule)
    if isinstance(schedule, Mapping):
        return dict(schedule)
    raise ConfigError(f"task.schedule = {schedule!r}: must be a spec string, a dict or None; "
                      "pass e.g. 'cosine' or {'family': 'cosine', 'warmup_steps': 0.1}")


def fill_schedule(schedule: str | Mapping[str, Any] | None, peak_lr: float,
                  total_steps: int) -> Schedule:
    """Build the schedule of shape ``schedule`` with its LR parameter set to ``peak_lr``.

    ``total_steps`` is filled in when the family has one and the spec leaves it out; a
    ``warmup_steps`` below 1 is read as a fraction of ``total_steps``, and so are
    ``wsd.decay_steps``, ``step.step_size``, ``multistep.milestones`` and
    ``cosine_restarts.cycle_steps`` (so the shape scales with a shorter trial run). An LR parameter
    already in the spec is replaced: the shape is what the task fixes, the height is not.

    Args:
        schedule: a spec string (``"cosine"``, ``"onecycle(pct_start=0.3)"``), a spec dict,
            or None for a constant LR.
        peak_lr: the value of the family's LR parameter (``LR_PARAMETER``).
        total_steps: the number of updates of the run.

    Raises:
        ConfigError: the family has no single LR parameter, or the spec is invalid.

    >>> fill_schedule("cosine(warmup_steps=0.1)", 0.5, 100)(10)
    0.5
    >>> fill_schedule("wsd(decay_steps=0.2)", 1.0, 50).to_spec()["decay_steps"]
    10
    >>> fill_schedule(None, 0.01, 5).to_spec()
    {'family': 'constant', 'base_lr': 0.01}
    """
    spec = _shape_spec(schedule)
    family = spec.get("family")
    if family not in LR_PARAMETER:
        raise ConfigError(f"task.schedule family = {family!r}: has no single LR parameter that "
                          f"lrkit can set; use one of {', '.join(sorted(LR_PARAMETER))}")
    if not (isinstance(peak_lr, int | float) and math.isfinite(peak_lr) and peak_lr > 0):
        raise ConfigError(f"lr = {peak_lr!r}: must be a finite number > 0; pass e.g. 0.01")
    spec[LR_PARAMETER[family]] = float(peak_lr)
    has_total = "total_steps" in {f.name for f in _fields(family)}
    if has_total and "total_steps" not in spec:
        spec["total_steps"] = int(total_steps)
    warm = spec.get("warmup_steps")
    if isinstance(warm, float) and 0 < warm < 1:
        # at least one warmup update, but never the whole run (a 1-update trial has none)
        spec["warmup_steps"] = min(max(1, round(warm * total_steps)), total_steps - 1)
    for key in _FRACTIONAL.get(family, ()):
        spec[key] = _scaled(spec.get(key), total_steps)
    return from_spec(spec)


# Lengths inside a schedule that may be given as fractions of the run (0 < x < 1), like
# warmup_steps: a shorter trial run (find, auto, tune) then gets the same shape, where an
# absolute count would outlast it.
_FRACTIONAL: dict[str, tuple[str, ...]] = {
    "cosine_restarts": ("cycle_steps",),
    "multistep": ("milestones",),
    "step": ("step_size",),
    "wsd": ("decay_steps",),
}


def _scaled(value: Any, total_steps: int) -> Any:
    """``value`` in updates when it is a fraction of ``total_steps`` (or a list of them).

    >>> _scaled(0.2, 100), _scaled([0.5, 0.75], 100), _scaled([0.5, 0.6], 2), _scaled(30, 100)
    (20, [50, 75], [1], 30)
    """
    if isinstance(value, list | tuple) and value and all(
            isinstance(v, float) and 0 < v < 1 for v in value):
        return sorted({max(1, round(v * total_steps)) for v in value})
    if isinstance(value, float) and 0 < value < 1:
        return max(1, round(value * total_steps))
    return value


def _fields(family: str) -> tuple[dataclasses.Field[Any], ...]:
    from lrkit.schedules import families

    return dataclasses.fields(families()[family])


@dataclasses.dataclass(frozen=True)
class Task:
    """A model, its optimizer, loss, data and training budget, as lrkit's verbs need them.

    Args:
        name: a short label used in reports.
        model: zero-argument factory returning a *fresh* ``torch.nn.Module`` each call.
        optimizer: ``(params or param groups, lr) -> torch.optim.Optimizer``.
        loss_fn: ``(output, target) -> scalar tensor`` (mean over the batch).
        train_data: a map-style Dataset of ``(input, target)`` items.
        val_data: the same, held out.
        batch_size: examples per update.
        epochs: the training budget of the real run.
        schedule: the shape of the real run's schedule as an lrkit spec (string or dict)
            without its LR (lrkit fills ``peak_lr``/``base_lr``/``init_lr`` and
            ``total_steps``); None means a constant LR.

    Raises:
        ConfigError: a field has the wrong type or value.
    """

    name: str
    model: Callable[[], Any]
    optimizer: Callable[[Any, float], Any]
    loss_fn: Callable[[Any, Any], Any]
    train_data: Any
    val_data: Any
    batch_size: int
    epochs: int
    schedule: str | dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"task.name = {self.name!r}: must be a non-empty string; "
                              "pass e.g. 'my-mlp'")
        for field in ("model", "optimizer", "loss_fn"):
            if not callable(getattr(self, field)):
                raise ConfigError(f"task.{field} = {getattr(self, field)!r}: must be callable; "
                                  f"pass a function (see the Task docs)")
        for field in ("train_data", "val_data"):
            data = getattr(self, field)
            if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
                raise ConfigError(f"task.{field} = {type(data).__name__}: must be a map-style "
                                  "Dataset (with __len__ and __getitem__); wrap it in a "
                                  "torch.utils.data.TensorDataset")
            if len(data) == 0:
                raise ConfigError(f"task.{field}: is empty; pass at least one example")
        for field in ("batch_size", "epochs"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"task.{field} = {value!r}: must be an integer >= 1; "
                                  "pass e.g. 32")
        # Fail now, not after an hour of training, if the schedule shape is unusable.
        self.lr_schedule(1.0)

    @property
    def steps_per_epoch(self) -> int:
        """Updates per epoch: full batches only (the last partial batch is dropped)."""
        return steps_per_epoch(len(self.train_data), self.batch_size)

    @property
    def total_steps(self) -> int:
        """Updates of the whole real run: ``epochs * steps_per_epoch``."""
        return self.epochs * self.steps_per_epoch

    def lr_schedule(self, peak_lr: float, total_steps: int | None = None) -> Schedule:
        """The real run's schedule with its LR parameter set to ``peak_lr``.

        Args:
            peak_lr: the height of the schedule (the constant LR for ``constant``).
            total_steps: run length in updates (default: ``self.total_steps``).
        """
        return fill_schedule(self.schedule, peak_lr,
                             self.total_steps if total_steps is None else total_steps)


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    """Full batches in one pass (at least 1: a set smaller than a batch is one batch).

    >>> steps_per_epoch(100, 32), steps_per_epoch(10, 32)
    (3, 1)
    """
    return max(1, n_examples // batch_size)
