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
from collections.abc import Callable
from typing import Any

from lrkit._check import INPUT as check
from lrkit.errors import ConfigError
from lrkit.schedules import Schedule, families

# filling a shape with an LR is the schedules' business; re-exported for older imports
from lrkit.schedules.fill import fill_schedule

# Family -> the parameter that sets its height, for older imports: each family declares
# it as ``lr_parameter`` and ``lrkit.schedules.lr_parameters()`` is the live table (aliases
# such as ``linear`` included). Families not listed (interpolate, piecewise, join, noam,
# ...) fix their LRs themselves, so there is nothing for lrkit to choose.
LR_PARAMETER: dict[str, str] = {name: cls.lr_parameter for name, cls in families().items()
                                if cls.lr_parameter}

__all__ = ["LR_PARAMETER", "Task", "fill_schedule"]

#: Where the framework builders behind ``Task.from_*`` live. They are looked up by name
#: when called, not imported: ``lrkit.integrations`` sits above ``lrkit.tasks`` (it builds
#: Tasks), so an import from here would close a cycle between the two layers.
FRAMEWORK_BUILDERS = "lrkit.integrations.tasks"


def _framework_builder(name: str) -> Callable[..., Task]:
    """The builder ``name`` of ``FRAMEWORK_BUILDERS`` (imported on first use)."""
    import importlib

    builder: Callable[..., Task] = getattr(importlib.import_module(FRAMEWORK_BUILDERS), name)
    return builder

@dataclasses.dataclass(frozen=True)
class Task:
    """A model, its optimizer, loss, data and training budget, as lrkit's verbs need them.

    Args:
        name: a short label used in reports.
        model: zero-argument factory returning a *fresh* ``torch.nn.Module`` each call.
        optimizer: ``(params or param groups, lr) -> torch.optim.Optimizer``.
        loss_fn: ``(output, target) -> scalar tensor`` (mean over the batch); None when
            ``forward`` computes the loss.
        train_data: a map-style Dataset of ``(input, target)`` items (any items, e.g.
            dicts, when ``forward`` is given: a batch is what torch's ``default_collate``
            makes of them).
        val_data: the same, held out.
        batch_size: examples per update.
        epochs: the training budget of the real run.
        schedule: the shape of the real run's schedule as an lrkit spec (string or dict)
            without its LR (lrkit fills ``peak_lr``/``base_lr``/``init_lr`` and
            ``total_steps``); None means a constant LR.
        forward: ``(model, batch) -> scalar loss``, the training step's forward pass for
            models that do not fit ``loss_fn(model(inputs), targets)`` (dict batches, a
            loss the model computes itself, several inputs). Every verb that trains uses
            it: ``train``, ``find``, ``sharpness``, ``tune`` and ``auto``. The batch is
            already on the model's device. See docs/task.md.

    Raises:
        ConfigError: a field has the wrong type or value.
    """

    name: str
    model: Callable[[], Any]
    optimizer: Callable[[Any, float], Any]
    loss_fn: Callable[[Any, Any], Any] | None
    train_data: Any
    val_data: Any
    batch_size: int
    epochs: int
    schedule: str | dict[str, Any] | None = None
    forward: Callable[[Any, Any], Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"task.name = {self.name!r}: must be a non-empty string; "
                              "pass e.g. 'my-mlp'")
        for field in ("model", "optimizer", "loss_fn", "forward"):
            value = getattr(self, field)
            if value is None and (field == "forward" or
                                  (field == "loss_fn" and self.forward is not None)):
                continue  # forward replaces loss_fn; without forward, loss_fn is needed
            if not callable(value):
                fix = ("pass loss_fn=..., or forward=lambda model, batch: <loss>"
                       if field == "loss_fn" else "pass a function (see docs/task.md)")
                raise ConfigError(f"task.{field} = {value!r}: must be callable; {fix}")
        for field in ("train_data", "val_data"):
            data = getattr(self, field)
            if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
                raise ConfigError(f"task.{field} = {type(data).__name__}: must be a map-style "
                                  "Dataset (with __len__ and __getitem__); wrap it in a "
                                  "torch.utils.data.TensorDataset")
            if len(data) == 0:
                raise ConfigError(f"task.{field}: is empty; pass at least one example")
        for field in ("batch_size", "epochs"):
            check.count(f"task.{field}", getattr(self, field), example="32", exact=True)
        # Fail now, not after an hour of training, if the schedule shape is unusable; the
        # schedule's own error names its parameter, this names the run it was filled for.
        try:
            self.lr_schedule(1.0)
        except ConfigError as err:
            raise ConfigError(f"{err} (task.schedule = {self.schedule!r} on a run of "
                              f"{self.total_steps} updates: {self.epochs} epochs x "
                              f"{self.steps_per_epoch} batches of {self.batch_size}; more "
                              "epochs, a smaller batch or another schedule)") from None

    # ----------------------------------------------------------- from a framework
    @classmethod
    def from_lightning(cls, module: Any, datamodule: Any = None, **options: Any) -> Task:
        """A Task from a LightningModule (``training_step``, ``configure_optimizers``).

        See ``lrkit.integrations.tasks.task_from_lightning`` (options: ``trainer``,
        ``epochs``, ``name``, ``schedule``). Needs ``pip install 'lrkit[lightning]'``.
        """
        return _framework_builder("task_from_lightning")(module, datamodule, **options)

    @classmethod
    def from_trainer(cls, trainer: Any, **options: Any) -> Task:
        """A Task from a Hugging Face Trainer (its model, ``compute_loss``, optimizer).

        See ``lrkit.integrations.tasks.task_from_trainer`` (options: ``epochs``, ``name``,
        ``schedule``). Needs ``pip install 'lrkit[transformers]'``.
        """
        return _framework_builder("task_from_trainer")(trainer, **options)

    @classmethod
    def from_keras(cls, model: Any, x: Any, y: Any, **options: Any) -> Task:
        """A Task from a compiled Keras model on the torch backend and its data.

        See ``lrkit.integrations.tasks.task_from_keras`` (options: ``validation_data``,
        ``batch_size``, ``epochs``, ``name``, ``schedule``). Needs
        ``pip install 'lrkit[keras]'``.
        """
        return _framework_builder("task_from_keras")(model, x, y, **options)

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
