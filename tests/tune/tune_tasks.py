"""Task factories the search tests load by path ("tests/tune/tune_tasks.py:NAME").

``slow_logreg``: logistic regression on synthetic data (torch only, so a worker process
starts quickly) whose forward pass sleeps ``LRKIT_TEST_DELAY`` seconds per training batch:
a one-epoch trial lasts about a second while using almost no CPU, long enough to kill a
worker in the middle of a trial.

``sgd_linreg``: linear regression on the diabetes data with plain SGD, which goes to
infinity above an LR of about 0.4 and blows up (finite, 1000x per epoch) at 0.3.
"""

from __future__ import annotations

import dataclasses
import os
import time

import torch

from lrkit.tasks import Task, builtin_tasks


class _SlowLinear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = torch.nn.Linear(30, 1)
        self.delay = float(os.environ.get("LRKIT_TEST_DELAY", "0.04"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            time.sleep(self.delay)
        return self.inner(x)


def _synthetic(n: int, generator: torch.Generator) -> torch.utils.data.TensorDataset:
    x = torch.randn(n, 30, generator=generator)
    w = torch.linspace(-1.0, 1.0, 30)
    y = ((x @ w + 0.5 * torch.randn(n, generator=generator)) > 0).float().reshape(-1, 1)
    return torch.utils.data.TensorDataset(x, y)


def slow_logreg() -> Task:
    """Logistic regression, 26 batches of 16, one epoch: ~26 x delay seconds per trial."""
    generator = torch.Generator().manual_seed(0)
    return Task(name="slow-logreg", model=_SlowLinear, optimizer=_sgd,
                loss_fn=torch.nn.functional.binary_cross_entropy_with_logits,
                train_data=_synthetic(416, generator), val_data=_synthetic(128, generator),
                batch_size=16, epochs=1, schedule="constant")


def _sgd(params, lr):  # type: ignore[no-untyped-def]
    return torch.optim.SGD(params, lr=lr)


def sgd_linreg() -> Task:
    """Diabetes regression, a linear model and plain SGD at a constant LR, 5 epochs."""
    base = builtin_tasks()["diabetes-mlp"]()
    return dataclasses.replace(base, name="sgd-linreg", model=lambda: torch.nn.Linear(10, 1),
                               optimizer=_sgd, schedule="constant", epochs=5)
