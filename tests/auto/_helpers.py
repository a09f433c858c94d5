"""Tiny tasks for the auto tests: a few hundred examples, a few dozen updates."""

from __future__ import annotations

from typing import Any

import torch

from lrkit.tasks import Task


def regression_task(*, epochs: int = 6, batch_size: int = 16, n: int = 256,
                    schedule: str | None = "cosine", name: str = "tiny-regression",
                    optimizer: Any = None) -> Task:
    """A user's regression MLP in miniature: SGD with momentum (or ``optimizer(params,
    lr)``), cosine, MSE."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n + 128, 8, generator=gen)
    w = torch.randn(8, 1, generator=gen)
    y = torch.tanh(x @ w) + 0.1 * torch.randn(n + 128, 1, generator=gen)
    train = torch.utils.data.TensorDataset(x[:n], y[:n])
    val = torch.utils.data.TensorDataset(x[n:], y[n:])
    return Task(name=name,
                model=lambda: torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(),
                                                  torch.nn.Linear(32, 1)),
                optimizer=optimizer or (lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)),
                loss_fn=torch.nn.functional.mse_loss, train_data=train, val_data=val,
                batch_size=batch_size, epochs=epochs, schedule=schedule)
