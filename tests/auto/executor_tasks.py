"""A task the distributed-executor tests load by path ("tests/auto/executor_tasks.py:NAME").

``slow_logreg``: logistic regression on synthetic data whose training forward pass sleeps
``LRKIT_TEST_DELAY`` seconds (default 0.004) per batch: a candidate run lasts a fraction
of a second while using almost no CPU, so two processes sharing a study both get work
on a 2-core machine.
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
        self.delay = float(os.environ.get("LRKIT_TEST_DELAY", "0.004"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.delay:
            time.sleep(self.delay)
        return self.inner(x)


def _data(n: int, generator: torch.Generator) -> torch.utils.data.TensorDataset:
    x = torch.randn(n, 10, generator=generator)
    y = ((x @ torch.linspace(-1.0, 1.0, 10)) > 0).float().reshape(-1, 1)
    return torch.utils.data.TensorDataset(x, y)


def slow_logreg() -> Task:
    """40 batches of 16 an epoch, 4 epochs: 160 updates, a cosine schedule."""
    generator = torch.Generator().manual_seed(0)
    return Task(name="slow-logreg-auto", model=_SlowLinear,
                optimizer=lambda params, lr: torch.optim.SGD(params, lr=lr),
                loss_fn=torch.nn.functional.binary_cross_entropy_with_logits,
                train_data=_data(640, generator), val_data=_data(128, generator),
                batch_size=16, epochs=4, schedule="cosine")
