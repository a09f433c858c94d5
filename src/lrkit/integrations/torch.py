"""The range test and the LR doctor for a training loop of your own (plain PyTorch).

``find`` is ``lrkit.rangetest.range_test`` made DDP-aware: under ``torchrun`` (a process
group of several ranks) each update's loss is averaged over the ranks before the sweep
sees it, so every rank records the same curve, stops at the same update, restores its own
state, and gets the same result; only rank 0 logs it. ``Doctor`` watches the loss and LR
your loop produces (see ``lrkit.integrations.doctor``).

>>> import torch
>>> from torch.utils.data import DataLoader, TensorDataset
>>> x = torch.randn(256, 4); y = x @ torch.ones(4, 1)
>>> model = torch.nn.Linear(4, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> res = find(model, opt, torch.nn.functional.mse_loss,
...            DataLoader(TensorDataset(x, y), batch_size=32), start_lr=1e-4, end_lr=10)
>>> res.suggestion > 0, opt.param_groups[0]["lr"]
(True, 0.1)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from lrkit._deps import require
from lrkit.integrations._dist import is_distributed, mean_over_ranks, rank
from lrkit.integrations.doctor import Doctor
from lrkit.rangetest.api import range_test
from lrkit.rangetest.result import RangeTestResult

__all__ = ["Doctor", "find"]

log = logging.getLogger("lrkit.integrations")


def find(model: Any, optimizer: Any, loss_fn: Callable[[Any, Any], Any] | None,
         loader: Iterable[Any], **options: Any) -> RangeTestResult:
    """Range test on your model, optimizer, loss and loader; all of it is restored after.

    Args:
        model: the ``torch.nn.Module`` (DDP-wrapped under torchrun is fine).
        optimizer: its optimizer.
        loss_fn: ``(output, target) -> loss`` (None with ``forward=``).
        loader: the training batches (a DataLoader, with a ``DistributedSampler`` under DDP).
        **options: any ``lrkit.rangetest.range_test`` option (``start_lr``, ``end_lr``,
            ``steps``, ``accumulation_steps``, ``scaler``, ``autocast_dtype``,
            ``scheduler``, ``forward``, ``schedule``/``total_steps``, ...).

    Returns:
        The RangeTestResult (the same object on every rank under DDP).

    Raises:
        ConfigError: a bad argument (one line naming it and the fix).
    """
    require("torch", extra="torch")
    reduce = mean_over_ranks if is_distributed() else None
    result = range_test(model, optimizer, loss_fn, loader, reduce_loss=reduce, **options)
    if rank() == 0:
        log.info("lrkit range test: suggested LR %.3g (range %.3g-%.3g, confidence %.2f)",
                 result.suggestion, *result.range, result.confidence)
    return result
