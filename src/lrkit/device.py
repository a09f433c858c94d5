"""Where a model lives, moving batches there, and its mean loss: the torch helpers every
model-driven part uses (the range test on a user's own objects, the curvature probes, a
task's training loop). torch is imported when first called, so importing this stays light.

It sits at the package root, beside ``errors``, so that the range test and the curvature
estimates reach it without importing the task machinery.

>>> import torch
>>> model = torch.nn.Linear(2, 1)
>>> model_device(model).type
'cpu'
>>> to_device({"x": [torch.zeros(1)]}, model_device(model))["x"][0].device.type
'cpu'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lrkit._deps import require

__all__ = ["batch_examples", "evaluate", "model_device", "to_device"]


def model_device(model: Any) -> Any:
    """The device of ``model``'s first parameter; None for a model without parameters."""
    return next((p.device for p in model.parameters()), None)


def to_device(value: Any, device: Any) -> Any:
    """``value`` with every tensor in it (nested in lists, tuples, dicts) on ``device``.

    Batches are drawn on the CPU; a task whose model lives on a GPU gets them there.
    ``device=None`` leaves ``value`` as it is.

    >>> import torch
    >>> to_device({"x": [torch.zeros(1)]}, "cpu")["x"][0].device.type
    'cpu'
    """
    torch = require("torch", extra="torch")
    if device is None:
        return value
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, list | tuple):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def batch_examples(batch: Any) -> int:
    """Examples in ``batch``: the leading size of its first tensor (nested or not).

    >>> import torch
    >>> batch_examples({"input_ids": torch.zeros(8, 5), "labels": torch.zeros(8)})
    8
    >>> batch_examples((torch.zeros(3, 2), torch.zeros(3)))
    3
    """
    if isinstance(batch, dict):
        return batch_examples(next(iter(batch.values()))) if batch else 0
    if isinstance(batch, list | tuple):
        return batch_examples(batch[0]) if batch else 0
    shape = getattr(batch, "shape", None)
    if shape is not None and len(shape):
        return int(shape[0])
    return 1


def evaluate(model: Any, loss_fn: Callable[[Any, Any], Any] | None, batches: Sequence[Any],
             device: Any = None, forward: Callable[[Any, Any], Any] | None = None) -> float:
    """Mean loss of ``model`` over ``(inputs, targets)`` batches (weighted by batch size),
    in eval mode, with the model's train/eval mode put back as it was.

    ``forward(model, batch) -> loss`` (a Task's hook) replaces ``loss_fn(model(inputs),
    targets)`` when given; its batches may be anything (dicts, triples).

    >>> import torch
    >>> model = torch.nn.Linear(1, 1, bias=False)
    >>> _ = torch.nn.init.zeros_(model.weight)
    >>> evaluate(model, torch.nn.functional.mse_loss, [(torch.ones(2, 1), torch.ones(2, 1))])
    1.0
    """
    torch = require("torch", extra="torch")
    was_training = [m.training for m in model.modules()]
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for batch in batches:
                if forward is not None:
                    n = batch_examples(batch)
                    total += float(forward(model, to_device(batch, device))) * n
                else:
                    assert loss_fn is not None  # callers pass loss_fn or forward
                    inputs, targets = batch
                    inputs, targets = to_device(inputs, device), to_device(targets, device)
                    n = len(targets)
                    total += float(loss_fn(model(inputs), targets)) * n
                count += n
    finally:
        for m, mode in zip(model.modules(), was_training, strict=True):
            m.training = mode
    return total / max(count, 1)
