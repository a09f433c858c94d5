"""A resumable cache of full training runs for the auto benchmark.

Every run is keyed by (task, shape, lr, seed, steps) and appended as one JSON line to
``cache/runs.jsonl`` as soon as it finishes, so an interrupted benchmark resumes where it
stopped and every method is scored on exactly the same runs.

``SHAPES`` are the two schedules of the benchmark: a constant LR, and a 5% linear warmup
followed by cosine decay to zero (the LR is the schedule's peak).
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lrkit.tasks import Task, builtin_tasks, train

# These models are tiny: one thread per process is faster than two fighting for the cores.
torch.set_num_threads(1)

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache" / "runs.jsonl"
SHAPES = {"constant": "constant", "warmup-cosine": "cosine(warmup_steps=0.05)"}
_LOCK = threading.Lock()
_MEMO: dict[str, dict[str, Any]] | None = None


def make_task(name: str, shape: str, optimizer: Any = None) -> Task:
    """The built-in task ``name`` with the benchmark's schedule ``shape``."""
    task = builtin_tasks()[name]()
    task = dataclasses.replace(task, schedule=SHAPES[shape])
    if optimizer is not None:
        task = dataclasses.replace(task, optimizer=optimizer)
    return task


def _key(task: str, shape: str, lr: float, seed: int, steps: int | None, tag: str) -> str:
    return json.dumps([task, shape, float.hex(float(lr)), seed, steps, tag])


def _load() -> dict[str, dict[str, Any]]:
    global _MEMO
    if _MEMO is None:
        _MEMO = {}
        if CACHE.exists():
            for line in CACHE.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    _MEMO[row["key"]] = row
    return _MEMO


def run(task_name: str, shape: str, lr: float, seed: int, *, steps: int | None = None,
        tag: str = "", task: Task | None = None) -> dict[str, Any]:
    """Train (or fetch from the cache) one run; ``steps`` compresses the schedule.

    ``tag`` names a variant of the task (e.g. another optimizer); pass the matching
    ``task`` for it.
    """
    key = _key(task_name, shape, lr, seed, steps, tag)
    memo = _load()
    if key in memo:
        return memo[key]
    task = task or make_task(task_name, shape)
    result = train(task, lr, seed, total_steps=steps)
    row = {"key": key, "task": task_name, "shape": shape, "lr": lr, "seed": seed,
           "steps_budget": steps, "tag": tag, "val_losses": [_finite(v) for v in result.val_losses],
           "final": _finite(result.final_val_loss), "diverged": result.diverged,
           "steps": result.steps, "seconds": result.seconds}
    with _LOCK:
        CACHE.parent.mkdir(exist_ok=True)
        with CACHE.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        memo[key] = row
    return row


def seed_mean(losses: Iterable[float]) -> float:
    """The mean of final losses over seeds; inf when any seed diverged (inf).

    >>> seed_mean([0.5, 0.7]), seed_mean([0.5, math.inf])
    (0.6, inf)
    """
    values = list(losses)
    return float(np.mean(values)) if all(map(math.isfinite, values)) else math.inf


def loss_of(row: dict[str, Any]) -> float:
    """The final validation loss of a cached run (inf if it diverged)."""
    return math.inf if row["final"] is None else float(row["final"])


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
