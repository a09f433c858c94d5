"""torch.distributed helpers shared by the integrations: rank, world and loss averaging.

Every helper is a no-op in a single process, so the integrations call them unconditionally.

>>> rank(), world_size(), mean_over_ranks(2.5)
(0, 1, 2.5)
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_distributed", "mean_over_ranks", "rank", "world_size"]


def _dist() -> Any:
    # a process group exists only if torch.distributed was imported: never import torch
    # (seconds) just to learn that there is none
    dist = sys.modules.get("torch.distributed")
    if dist is None:
        return None
    return dist if dist.is_available() and dist.is_initialized() else None


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return world_size() > 1


def rank() -> int:
    """This process's global rank (0 without a process group)."""
    dist = _dist()
    return int(dist.get_rank()) if dist is not None else 0


def world_size() -> int:
    """The number of processes (1 without a process group)."""
    dist = _dist()
    return int(dist.get_world_size()) if dist is not None else 1


def mean_over_ranks(value: float) -> float:
    """The mean of ``value`` over all ranks (NaN on any rank makes it NaN on all).

    Every rank must call it the same number of times, in the same order.
    """
    dist = _dist()
    if dist is None or dist.get_world_size() == 1:
        return float(value)
    import torch

    # gloo and NCCL both reduce float64 CPU/GPU tensors; NCCL needs the tensor on the GPU
    device = "cpu"
    if dist.get_backend() == "nccl":
        device = f"cuda:{torch.cuda.current_device()}"
    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t.item()) / dist.get_world_size()
