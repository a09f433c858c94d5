"""How ``auto`` trains its candidates: an injectable trainer and an optional run cache.

A *trainer* is ``(task, lr, seed, total_steps) -> TrainResult`` (``lrkit.tasks.train``
by default): the run must depend on these four only, so the same seed gives every
candidate the same initial weights, data order and dropout masks (common random
numbers). A *cache* is anything with ``get(key) -> TrainResult | None`` and
``put(key, result)``; ``JsonlRunCache`` keeps one JSON line per run on disk, so a
benchmark that calls ``auto`` many times trains each distinct run once.

>>> cache = MemoryRunCache()
>>> runner = Runner(fake_trainer(lambda lr: (lr - 0.1) ** 2), cache)
>>> from lrkit.tasks import builtin_tasks
>>> task = builtin_tasks()["breast-cancer-logreg"]()
>>> r = runner.train(task, 0.3, seed=0, steps=26)
>>> round(r.final_val_loss, 4), runner.trained, runner.train(task, 0.3, 0, 26) is not None
(0.04, 1, True)
>>> runner.trained  # the second call came from the cache
1
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lrkit.tasks import Task, TrainResult, train

if TYPE_CHECKING:
    from lrkit.auto.executor import Executor

__all__ = ["JsonlRunCache", "MemoryRunCache", "RunCache", "Runner", "Trainer",
           "default_trainer", "fake_trainer", "run_key"]

Trainer = Callable[[Task, float, int, int], TrainResult]


class RunCache(Protocol):
    """Where finished runs are kept: ``get`` returns None for a run not seen yet."""

    def get(self, key: str) -> TrainResult | None:  # pragma: no cover - protocol
        """The cached result of ``key``, or None."""
        ...

    def put(self, key: str, result: TrainResult) -> None:  # pragma: no cover - protocol
        """Keep ``result`` under ``key``."""
        ...


def default_trainer(task: Task, lr: float, seed: int, total_steps: int) -> TrainResult:
    """``lrkit.tasks.train`` with the schedule compressed to ``total_steps`` updates."""
    return train(task, lr, seed, total_steps=total_steps)


def fake_trainer(curve: Callable[[float], float], *,
                 noise: Callable[[float, int], float] | None = None,
                 train_curve: Callable[[float], float] | None = None) -> Trainer:
    """A trainer that trains nothing: the final loss is ``curve(lr)`` (+ ``noise(lr, seed)``).

    For tests of the pick logic: a known loss-against-LR curve, exactly, in microseconds.
    A non-finite value is a diverged run. The training loss is ``train_curve(lr)`` (default:
    the validation loss).
    """

    def trainer(task: Task, lr: float, seed: int, total_steps: int) -> TrainResult:
        loss = float(curve(lr)) + (0.0 if noise is None else float(noise(lr, seed)))
        diverged = not math.isfinite(loss)
        final = math.inf if diverged else loss
        fit = final if train_curve is None else float(train_curve(lr))
        return TrainResult(val_losses=[final], train_losses=[fit], final_val_loss=final,
                           diverged=diverged, steps=int(total_steps), seconds=0.0,
                           lr=float(lr), seed=int(seed))

    return trainer


def run_key(task: Task, lr: float, seed: int, steps: int) -> str:
    """The cache key of one run: the task's name, schedule, batch size and length."""
    schedule = task.schedule if isinstance(task.schedule, str | type(None)) else \
        json.dumps(task.schedule, sort_keys=True)
    return json.dumps([task.name, schedule, task.batch_size, task.total_steps,
                       float.hex(float(lr)), int(seed), int(steps)])


class MemoryRunCache:
    """A cache in a dict (one process). Besides runs it keeps JSON documents (a range
    test's result, a curvature estimate) under their own keys: ``get_doc`` / ``put_doc``."""

    def __init__(self) -> None:
        self._runs: dict[str, TrainResult] = {}
        self._docs: dict[str, dict[str, Any]] = {}

    def get_doc(self, key: str) -> dict[str, Any] | None:
        """The cached document of ``key``, or None."""
        return self._docs.get(key)

    def put_doc(self, key: str, doc: dict[str, Any]) -> None:
        """Keep ``doc`` under ``key``."""
        self._docs[key] = doc

    def get(self, key: str) -> TrainResult | None:
        """The cached result of ``key``, or None."""
        return self._runs.get(key)

    def put(self, key: str, result: TrainResult) -> None:
        """Keep ``result`` under ``key``."""
        self._runs[key] = result


def _row(key: str, result: TrainResult) -> dict[str, Any]:
    """The run cache's line for ``result``: its record (``TrainResult.to_record``) with
    null for a non-finite loss (JSON has no inf), the short key ``final`` the cache files
    have always used, and seconds to 0.1 ms."""
    record = result.to_record()
    final = record.pop("final_val_loss")
    record["seconds"] = round(record["seconds"], 4)
    return {"key": key, **record, "final": _finite(final),
            "val_losses": [_finite(v) for v in record["val_losses"]],
            "train_losses": [_finite(v) for v in record["train_losses"]]}


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


class JsonlRunCache(MemoryRunCache):
    """A cache in a JSON-lines file: each run is appended as soon as it finishes.

    An interrupted benchmark resumes where it stopped. Diverged losses are stored as null.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._lock = threading.Lock()
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                if "doc" in row:
                    self._docs[row["key"]] = row["doc"]
                    continue
                self._runs[row["key"]] = TrainResult.from_record(row)

    def put(self, key: str, result: TrainResult) -> None:
        """Keep ``result`` under ``key`` and append it to the file."""
        row = _row(key, result)
        self._append(row)
        super().put(key, result)

    def put_doc(self, key: str, doc: dict[str, Any]) -> None:
        """Keep ``doc`` under ``key`` and append it to the file."""
        self._append({"key": key, "doc": doc})
        super().put_doc(key, doc)

    def _append(self, row: dict[str, Any]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")


@dataclasses.dataclass
class Runner:
    """Trains through ``trainer``, looks runs up in ``cache`` first, counts what it trained.

    Attributes:
        trainer: the trainer.
        cache: the run cache (None: none).
        trained: runs actually trained (not found in the cache).
        seconds: wall-clock seconds of the runs as they were trained (cached runs count
            the seconds they took when they were trained), summed: what one process
            would take; with parallel workers the call's own wall-clock is less.
        executor: where a batch of runs trains (``lrkit.auto.executor.Executor``; None:
            here, one after another).
    """

    trainer: Trainer = default_trainer
    cache: RunCache | None = None
    trained: int = 0
    seconds: float = 0.0
    executor: Executor | None = None

    def train(self, task: Task, lr: float, seed: int, steps: int) -> TrainResult:
        """One run of ``task`` at peak ``lr``, compressed to ``steps`` updates."""
        return self.train_many(task, [(lr, seed, steps)])[0]

    def train_many(self, task: Task, specs: Sequence[tuple[float, int, int]],
                   on_result: Callable[[int, TrainResult], None] | None = None
                   ) -> list[TrainResult]:
        """Independent runs ``(lr, seed, steps)`` of ``task``, in that order.

        Cached runs come from the cache; the rest go to the executor as one batch (so
        parallel workers can train them at once) and then into the cache. A run asked
        for twice trains once. ``on_result(i, result)`` is called as each result is
        known (progress displays): cached ones first, then as they train.
        """
        keys = [run_key(task, lr, seed, steps) for lr, seed, steps in specs]
        found: dict[str, TrainResult] = {}
        todo: dict[str, tuple[float, int, int]] = {}
        for key, (lr, seed, steps) in zip(keys, specs, strict=True):
            hit = None if self.cache is None or key in found else self.cache.get(key)
            if hit is not None:
                self.seconds += hit.seconds
                found[key] = hit
            elif key not in found:
                todo[key] = (float(lr), int(seed), int(steps))
        announced: set[int] = set()

        def announce() -> None:
            for i, key in enumerate(keys):
                if i not in announced and key in found:
                    announced.add(i)
                    if on_result is not None:
                        on_result(i, found[key])

        def keep(key: str, result: TrainResult) -> None:
            self.trained += 1
            self.seconds += result.seconds
            if self.cache is not None:
                self.cache.put(key, result)
            found[key] = result
            announce()

        announce()
        if todo and (self.executor is None or self.executor.in_process):
            for key, spec in todo.items():  # one at a time: progress after each run
                keep(key, self.trainer(task, *spec))
        elif todo:
            assert self.executor is not None  # the branch above takes None
            batch = list(todo.values())
            results = self.executor.run(self.trainer, task, batch, list(todo))
            for key, result in zip(todo, results, strict=True):
                keep(key, result)
        return [found[key] for key in keys]

    def memo(self, key: str, compute: Callable[[], dict[str, Any]],
             task: Task | None = None) -> dict[str, Any]:
        """``compute()``, or its earlier result under ``key`` when the cache keeps
        documents (``get_doc`` / ``put_doc``); the range test and curvature go through here.
        With an executor on shared storage (and ``task`` given) one process computes it
        and the others read it."""
        get = getattr(self.cache, "get_doc", None)
        hit = get(key) if get is not None else None
        if hit is not None:
            return hit
        doc = (self.executor.memo(task, key, compute)
               if self.executor is not None and task is not None else compute())
        put = getattr(self.cache, "put_doc", None)
        if put is not None:
            put(key, doc)
        return doc
