"""``train``: one full, deterministic training run of a task at a given LR.

The run follows ``task.lr_schedule(lr)`` update by update, keeps the LR ratios of the
optimizer's parameter groups, evaluates the validation loss after every epoch, and stops
at the first non-finite loss (a diverged run has ``final_val_loss = inf``). Torch's global
random state is forked (``seeded_rng``), so the caller's RNG is untouched and the result
depends on ``(task, lr, seed)`` only. A model the task's factory puts on a GPU trains
there: the batches follow it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.device import evaluate, model_device
from lrkit.tasks.data import epoch_batches, fixed_batches, subset, task_loss
from lrkit.tasks.task import Task, steps_per_epoch

__all__ = ["TrainResult", "seeded_rng", "train"]

_EVAL_BATCH = 512


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """The outcome of one training run.

    Attributes:
        val_losses: validation loss after each epoch (``inf`` for the epoch that diverged).
        train_losses: mean training loss of each epoch.
        final_val_loss: the last validation loss, ``inf`` if the run diverged.
        diverged: True when a training or validation loss became NaN or infinite.
        steps: updates performed.
        seconds: wall-clock time of the run.
        lr: the peak LR the schedule was filled with.
        seed: the seed of the run.
    """

    val_losses: list[float]
    train_losses: list[float]
    final_val_loss: float
    diverged: bool
    steps: int
    seconds: float
    lr: float = math.nan
    seed: int = 0

    def to_record(self) -> dict[str, Any]:
        """This result as a dict of plain numbers (the one conversion to a record).

        A non-finite loss stays a float: each store writes it its own way (compare's
        stores as a string, auto's run cache as null), and ``from_record`` reads both.

        >>> r = TrainResult([0.5, math.inf], [0.4, 0.6], math.inf, True, 20, 0.1, 0.3, 1)
        >>> TrainResult.from_record(r.to_record()) == r
        True
        """
        return {"val_losses": [float(v) for v in self.val_losses],
                "train_losses": [float(v) for v in self.train_losses],
                "final_val_loss": float(self.final_val_loss), "diverged": bool(self.diverged),
                "steps": int(self.steps), "seconds": float(self.seconds),
                "lr": float(self.lr), "seed": int(self.seed)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TrainResult:
        """The result a record holds (``to_record``'s, or a JSON copy of it).

        A loss written as null or as a string (``"inf"``) is read back as a float (null:
        inf, how a JSON file without inf keeps a diverged loss); ``final`` is accepted
        for ``final_val_loss`` (auto's run-cache files name it so).

        >>> TrainResult.from_record({"val_losses": [None], "train_losses": [1.0],
        ...     "final": None, "diverged": True, "steps": 3, "seconds": 0.0}).final_val_loss
        inf
        """
        final = record["final_val_loss"] if "final_val_loss" in record else record["final"]
        return cls(val_losses=[_loss(v) for v in record["val_losses"]],
                   train_losses=[_loss(v) for v in record["train_losses"]],
                   final_val_loss=_loss(final), diverged=bool(record["diverged"]),
                   steps=int(record["steps"]), seconds=float(record["seconds"]),
                   lr=float(record.get("lr", math.nan)), seed=int(record.get("seed", 0)))


def _loss(value: Any) -> float:
    """A stored loss as a float; JSON has no inf, so null stands for it."""
    return math.inf if value is None else float(value)


def _check_args(lr: Any, seed: Any, epochs: Any, total_steps: Any, train_fraction: Any) -> None:
    check.positive("lr", lr, example="0.01")
    check.count("seed", seed, minimum=0, example="0", exact=True)
    for name, value in (("epochs", epochs), ("total_steps", total_steps)):
        if value is not None:
            check.count(name, value, example="10 or leave it out", exact=True)
    check.fraction("train_fraction", train_fraction, low_open=True, example="0.25")


@contextlib.contextmanager
def seeded_rng(seed: int) -> Iterator[None]:
    """Run the block with torch seeded to ``seed``; the caller's RNG states come back after.

    The CPU generator, and every CUDA generator when CUDA is in use: a task whose model
    lives on a GPU (its factory calls ``.cuda()``) draws its dropout from the seed, not
    from the caller's CUDA stream, and leaves that stream where it was.

    >>> import torch
    >>> before = torch.get_rng_state()
    >>> with seeded_rng(0):
    ...     a = torch.rand(1)
    >>> with seeded_rng(0):
    ...     b = torch.rand(1)
    >>> bool(a == b), torch.equal(before, torch.get_rng_state())
    (True, True)
    """
    torch = require("torch", extra="torch")
    in_use = torch.cuda.is_available() and torch.cuda.is_initialized()
    devices = list(range(torch.cuda.device_count())) if in_use else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def train(task: Task, lr: float, seed: int = 0, *, epochs: int | None = None,
          total_steps: int | None = None, train_fraction: float = 1.0,
          on_epoch: Callable[[int, float], bool | None] | None = None) -> TrainResult:
    """Train a fresh model of ``task`` with its schedule filled to peak ``lr``.

    Args:
        task: the task to train.
        lr: the schedule's LR parameter (the constant LR for a constant schedule). The
            optimizer is built with it, and parameter groups keep their ratios to it.
        seed: fixes the initialisation, dropout and the batch order.
        epochs: budget override (default ``task.epochs``).
        total_steps: budget in updates; overrides ``epochs``. The schedule spans exactly
            this many updates and the last epoch may be partial.
        train_fraction: train on this fixed fraction of the training set.
        on_epoch: called as ``on_epoch(epochs_completed, val_loss)`` after each epoch;
            returning True stops the run (e.g. a pruned trial).

    Returns:
        The TrainResult.

    Raises:
        ConfigError: an argument is out of range.

    >>> from lrkit.tasks import builtin_tasks
    >>> result = train(builtin_tasks()["breast-cancer-logreg"](), lr=0.05, epochs=2)
    >>> len(result.val_losses), result.diverged
    (2, False)
    """
    _check_args(lr, seed, epochs, total_steps, train_fraction)
    torch = require("torch", extra="torch")
    data = subset(task.train_data, float(train_fraction))
    per_epoch = steps_per_epoch(len(data), task.batch_size)
    if total_steps is None:
        n_epochs = task.epochs if epochs is None else epochs
        total_steps = n_epochs * per_epoch
    else:
        n_epochs = math.ceil(total_steps / per_epoch)
    lrs = task.lr_schedule(lr, total_steps).values(total_steps)
    val_batches = fixed_batches(task.val_data, _EVAL_BATCH)
    started = time.perf_counter()
    val_losses: list[float] = []
    train_losses: list[float] = []
    diverged = False
    step = 0
    with seeded_rng(seed):
        model = task.model()
        device = model_device(model)  # batches are drawn on the CPU
        optimizer = task.optimizer(model.parameters(), float(lr))
        ratios = [float(g["lr"]) / float(lr) for g in optimizer.param_groups]
        generator = torch.Generator().manual_seed(seed)
        model.train()
        for epoch in range(n_epochs):
            total, count = 0.0, 0
            for batch in epoch_batches(data, task.batch_size, generator):
                if step >= total_steps:
                    break
                for group, ratio in zip(optimizer.param_groups, ratios, strict=True):
                    group["lr"] = ratio * float(lrs[step])
                optimizer.zero_grad(set_to_none=True)
                loss = task_loss(task.loss_fn, task.forward, model, batch, device)
                value = float(loss.detach())
                if not math.isfinite(value):
                    if step == 0:
                        from lrkit.usercode import first_loss_error

                        raise first_loss_error(value, float(lrs[0]))
                    diverged = True
                    break
                loss.backward()
                optimizer.step()
                step += 1
                total += value
                count += 1
            train_losses.append(total / count if count else math.nan)
            val = (math.inf if diverged else
                   evaluate(model, task.loss_fn, val_batches, device, task.forward))
            if not math.isfinite(val):
                diverged, val = True, math.inf
            val_losses.append(val)
            if diverged or (on_epoch is not None and on_epoch(epoch + 1, val)):
                break
    return TrainResult(val_losses=val_losses, train_losses=train_losses,
                       final_val_loss=math.inf if diverged else val_losses[-1],
                       diverged=diverged, steps=step,
                       seconds=time.perf_counter() - started, lr=float(lr), seed=seed)
