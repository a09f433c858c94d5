"""Put a model in evaluation mode for a measurement and restore it exactly afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from lrkit._deps import require

torch = require("torch", extra="torch")

__all__ = ["measurement_mode"]


@contextlib.contextmanager
def measurement_mode(model: Any) -> Iterator[None]:
    """Run the block with ``model`` in eval mode; restore it exactly, even on error.

    Eval mode makes every forward pass deterministic (dropout off, BatchNorm on its
    running statistics), which Lanczos and power iteration need: they assume the same
    operator at every product. Restored afterwards: each module's own train/eval flag
    (not a blanket ``model.train()``, which would flip modules the user froze), every
    buffer's values, every parameter's ``.grad`` object, and torch's RNG state on the CPU
    and on the parameters' CUDA devices. Parameters are never written by the measurement.

    >>> import torch
    >>> m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5)).train()
    >>> with measurement_mode(m):
    ...     m.training
    False
    >>> m.training, m[1].training
    (True, True)
    """
    modes = [(module, module.training) for module in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    grads = [(p, p.grad) for p in model.parameters()]
    devices = sorted({p.device.index or 0 for p in model.parameters() if p.device.type == "cuda"})
    try:
        with torch.random.fork_rng(devices=devices):
            model.eval()
            yield
    finally:
        for module, training in modes:
            module.training = training
        with torch.no_grad():
            for buf, saved in buffers:
                buf.copy_(saved)
        for param, grad in grads:
            param.grad = grad
