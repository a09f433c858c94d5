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

from collections.abc import Iterator, Sequence
from typing import Any

from lrkit._deps import require

# the device helpers have their home in lrkit.device; re-exported here for older imports
from lrkit.device import evaluate, model_device, to_device
from lrkit.tasks.task import steps_per_epoch

__all__ = ["Batch", "epoch_batches", "evaluate", "fixed_batches", "model_device", "subset",
           "to_device"]

Batch = Any  # an (input, target) pair of tensors (or whatever the dataset's items collate to)


def _tensors(dataset: Any) -> Sequence[Any] | None:
    torch = require("torch", extra="torch")
    if isinstance(dataset, torch.utils.data.TensorDataset):
        return dataset.tensors
    return None


def take(dataset: Any, index: Any) -> Batch:
    """The batch of ``dataset`` at the integer tensor ``index``."""
    tensors = _tensors(dataset)
    if tensors is not None:
        return tuple(t[index] for t in tensors)
    torch = require("torch", extra="torch")
    return torch.utils.data.default_collate([dataset[int(i)] for i in index])


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
