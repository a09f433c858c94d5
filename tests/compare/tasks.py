"""Task factories the compare tests load by path ("tests/compare/tasks.py:NAME").

``slow_logreg``: logistic regression on synthetic data whose training forward pass sleeps
``LRKIT_TEST_DELAY`` seconds (default 0.02) per batch, so a run lasts about half a second
while using almost no CPU: long enough to kill ``lrkit compare`` between units.
"""

from __future__ import annotations

import os
import time

import torch

from lrkit.tasks import Task


class _SlowLinear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = torch.nn.Linear(10, 1)
        self.delay = float(os.environ.get("LRKIT_TEST_DELAY", "0.02"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            time.sleep(self.delay)
        return self.inner(x)


def _data(n: int, generator: torch.Generator) -> torch.utils.data.TensorDataset:
    x = torch.randn(n, 10, generator=generator)
    y = ((x @ torch.linspace(-1.0, 1.0, 10)) > 0).float().reshape(-1, 1)
    return torch.utils.data.TensorDataset(x, y)


def slow_logreg() -> Task:
    """20 batches of 16, one epoch."""
    generator = torch.Generator().manual_seed(0)
    return Task(name="slow-logreg", model=_SlowLinear,
                optimizer=lambda params, lr: torch.optim.SGD(params, lr=lr),
                loss_fn=torch.nn.functional.binary_cross_entropy_with_logits,
                train_data=_data(320, generator), val_data=_data(64, generator),
                batch_size=16, epochs=1, schedule="constant")
