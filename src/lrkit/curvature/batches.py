"""A fixed, reproducible set of batches drawn from a dataset, for curvature estimates."""

from __future__ import annotations

from typing import Any

from lrkit._check import INPUT
from lrkit._deps import require
from lrkit.errors import ConfigError

torch = require("torch", extra="torch")

__all__ = ["fixed_batches"]

# the CLI counts batches with --batches (``lrkit sharpness``)
check = INPUT.renamed(n_batches="--batches")


def fixed_batches(dataset: Any, batch_size: int, n_batches: int,
                  seed: int = 0) -> list[Any]:
    """Draw ``n_batches`` disjoint batches of ``batch_size`` examples without replacement.

    The examples are the first ``n_batches * batch_size`` of a seeded permutation (a private
    generator: the global RNG is untouched), collated with torch's default collate. When the
    dataset is smaller, the batches that fit are returned (at least one, possibly partial).

    Args:
        dataset: a map-style dataset of ``(input, target)`` items.
        batch_size: examples per batch (``>= 1``).
        n_batches: number of batches (``>= 1``).
        seed: permutation seed.

    Returns:
        A list of ``(inputs, targets)`` pairs (or of collated dicts, for dict items).

    Raises:
        ConfigError: ``batch_size`` or ``n_batches`` below 1, or an empty dataset.

    >>> import torch
    >>> data = torch.utils.data.TensorDataset(torch.arange(10.0), torch.arange(10))
    >>> [x.shape[0] for x, _ in fixed_batches(data, 4, 2)]
    [4, 4]
    >>> [x.shape[0] for x, _ in fixed_batches(data, 4, 5)]
    [4, 4, 2]
    """
    for name, value in (("batch_size", batch_size), ("n_batches", n_batches)):
        check.count(name, value, example="4", exact=True)
    n = len(dataset)
    if n == 0:
        raise ConfigError("dataset: is empty; pass at least one (input, target) example")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=gen)[: batch_size * n_batches].tolist()
    from lrkit.tasks.data import collate

    out = []
    for s in range(0, len(order), batch_size):
        # the dataset's own collate (a padding collator) when it has one
        batch = collate(dataset, [dataset[i] for i in order[s:s + batch_size]])
        # (x, y) items collate to a list: a pair; dict items (a Task with a forward hook)
        # stay a dict, whose keys tuple() would keep instead of the tensors
        out.append(tuple(batch) if isinstance(batch, list | tuple) else batch)
    return out
