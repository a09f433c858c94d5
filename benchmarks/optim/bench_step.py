"""Per-step time of SGD-HD / Adam-HD against torch's SGD / Adam on two built-in models.

One batch of 32 examples, 20 warm-up steps, then the mean of 300 steps (forward, backward
and optimizer step), one thread.

Usage:
    .venv/bin/python benchmarks/optim/bench_step.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from lrkit.optim import SGDHD, AdamHD
from lrkit.tasks import load_task

OPTIMIZERS: dict[str, Callable[[Any], Any]] = {
    "torch Adam": lambda p: torch.optim.Adam(p, lr=1e-3),
    "AdamHD": lambda p: AdamHD(p, lr=1e-3),
    "torch SGD momentum": lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9),
    "SGDHD momentum": lambda p: SGDHD(p, lr=1e-3, momentum=0.9),
}


def _step(model: Any, opt: Any, loss_fn: Any, x: Any, y: Any) -> None:
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()


def main() -> None:
    torch.set_num_threads(1)
    print("| model | optimizer | ms / step |\n|---|---|---|")
    for name in ("diabetes-mlp", "digits-mlp"):
        task = load_task(name)
        x, y = (t[:32] for t in task.train_data.tensors)
        for label, make in OPTIMIZERS.items():
            torch.manual_seed(0)
            model = task.model()
            opt = make(model.parameters())

            for _ in range(20):
                _step(model, opt, task.loss_fn, x, y)
            started = time.perf_counter()
            for _ in range(300):
                _step(model, opt, task.loss_fn, x, y)
            print(f"| {name} | {label} | {(time.perf_counter() - started) / 300 * 1e3:.3f} |")


if __name__ == "__main__":
    main()
