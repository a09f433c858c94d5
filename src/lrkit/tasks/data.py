"""Deterministic batching and evaluation over a task's datasets (torch imported lazily).

One epoch is a permutation drawn from a ``torch.Generator`` and cut into full batches, so
a seed fixes the batch order without touching torch's global random state. Tensor datasets
are indexed directly (no per-item Python loop); any other map-style Dataset is collated
with torch's ``default_collate``.

>>> import torch
>>> from torch.utils.data import TensorDataset
>>> ds = TensorDataset(torch.arange(10.0), torch.arange(10.0))
>>> g = torch.Generator().manual_seed(0)
>>> [len(x) for x, _ in epoch_batches(ds, 4, g)]
[4, 4]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lrkit._deps import require

# the device helpers have their home in lrkit.device; re-exported here for older imports
from lrkit.device import batch_examples, evaluate, model_device, to_device
from lrkit.tasks.task import steps_per_epoch
from lrkit.usercode import scalar_loss

__all__ = ["Batch", "batch_examples", "epoch_batches", "evaluate", "fixed_batches",
           "loss_module", "model_device", "subset", "task_loss", "to_device"]

Batch = Any  # an (input, target) pair of tensors (or whatever the dataset's items collate to)


def _tensors(dataset: Any) -> Sequence[Any] | None:
    torch = require("torch", extra="torch")
    if isinstance(dataset, torch.utils.data.TensorDataset):
        return dataset.tensors
    return None


def collate(dataset: Any, items: list[Any]) -> Batch:
    """``items`` of ``dataset`` as one batch: the dataset's own ``collate(items)`` when it
    has one (e.g. a padding collator: ``Task.from_trainer`` wraps a Trainer's
    ``DataCollatorWithPadding`` so), else torch's ``default_collate``."""
    own = getattr(dataset, "collate", None)
    if callable(own):
        return own(items)
    torch = require("torch", extra="torch")
    return torch.utils.data.default_collate(items)


def take(dataset: Any, index: Any) -> Batch:
    """The batch of ``dataset`` at the integer tensor ``index``."""
    tensors = _tensors(dataset)
    if tensors is not None:
        return tuple(t[index] for t in tensors)
    return collate(dataset, [dataset[int(i)] for i in index])


def epoch_batches(dataset: Any, batch_size: int, generator: Any) -> Iterator[Batch]:
    """Yield one shuffled epoch of full batches; ``generator`` decides the order."""
    torch = require("torch", extra="torch")
    n = len(dataset)
    order = torch.randperm(n, generator=generator)
    size = min(batch_size, n)
    for k in range(steps_per_epoch(n, batch_size)):
        yield take(dataset, order[k * size:(k + 1) * size])


def fixed_batches(dataset: Any, batch_size: int, count: int | None = None) -> list[Batch]:
    """The first ``count`` batches of ``dataset`` in its own order (all of it by default)."""
    torch = require("torch", extra="torch")
    n = len(dataset)
    starts = list(range(0, n, batch_size))[:count]
    return [take(dataset, torch.arange(s, min(s + batch_size, n))) for s in starts]


def subset(dataset: Any, fraction: float) -> Any:
    """The same fixed ``fraction`` of ``dataset`` whatever the seed (for multi-fidelity runs).

    The examples are chosen by a permutation seeded with 0, so every LR and every training
    seed sees the same subset.
    """
    if fraction >= 1.0:
        return dataset
    torch = require("torch", extra="torch")
    n = len(dataset)
    keep = max(1, round(fraction * n))
    index = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:keep].sort().values
    tensors = _tensors(dataset)
    if tensors is not None:
        return torch.utils.data.TensorDataset(*(t[index] for t in tensors))
    return torch.utils.data.Subset(dataset, index.tolist())


def task_loss(loss_fn: Callable[[Any, Any], Any] | None,
              forward: Callable[[Any, Any], Any] | None, model: Any, batch: Batch,
              device: Any = None) -> Any:
    """The loss of ``model`` on one ``batch``: ``forward(model, batch)`` when the task
    has that hook, else ``loss_fn(model(inputs), targets)``. The batch is moved to
    ``device`` first (batches are drawn on the CPU).

    Raises:
        ConfigError: without ``forward``, a batch that is not an ``(inputs, targets)`` pair.

    >>> import torch
    >>> model = torch.nn.Linear(2, 1)
    >>> batch = {"x": torch.ones(4, 2), "y": torch.zeros(4, 1)}
    >>> loss = task_loss(None, lambda m, b: ((m(b["x"]) - b["y"]) ** 2).mean(), model, batch)
    >>> loss.ndim
    0
    """
    batch = to_device(batch, device)
    if forward is not None:
        return scalar_loss(forward(model, batch), "forward")
    if not (isinstance(batch, list | tuple) and len(batch) == 2) or loss_fn is None:
        from lrkit.errors import ConfigError

        raise ConfigError(f"batch = {type(batch).__name__}: the task has no forward= hook, "
                          "so each batch must be an (inputs, targets) pair; pass "
                          "forward=lambda model, batch: <loss> to the Task (see docs/task.md)")
    inputs, targets = batch
    return scalar_loss(loss_fn(model(inputs), targets), "loss_fn")



def loss_module(loss_fn: Callable[[Any, Any], Any] | None,
                forward: Callable[[Any, Any], Any] | None, model: Any,
                batches: Sequence[Batch]) -> tuple[Any, Callable[[Any, Any], Any], list[Any]]:
    """``(module, loss_fn, pairs)`` such that ``loss_fn(module(x), y)`` is the task's loss.

    The curvature code works on ``(inputs, targets)`` pairs and ``loss_fn(model(x), y)``.
    A task with a ``forward`` hook is put in that form: the module runs the hook on the
    whole batch and returns the loss (its parameters are the model's own objects), the
    pairs are ``(batch, None)`` and the loss function passes the loss through.
    """
    if forward is None:
        assert loss_fn is not None  # a Task without forward has a loss_fn (checked there)
        return model, loss_fn, list(batches)
    torch = require("torch", extra="torch")

    class _Step(torch.nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, batch: Any) -> Any:
            assert forward is not None
            return forward(self.model, batch)

    return _Step(), lambda loss, _: loss, [(batch, None) for batch in batches]

