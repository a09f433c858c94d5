"""Where ``auto``'s candidate runs train: here, on local processes, on Ray, or shared by
processes on many machines through an Optuna database.

A batch of candidates (a common-random-number block: independent runs) goes to
``Executor.run``. The backends are ``lrkit compare``'s (``lrkit.compare.execute``), so
auto and compare share one implementation of each:

- **in-process** (the default: one worker, no storage): the runs one after another.
- **local processes** (``workers=N``): forked workers, one torch thread each; the task and
  trainer are inherited, never pickled.
- **Ray** (``backend="ray"``): ``ray.init()`` (``RAY_ADDRESS`` for a cluster), ``workers``
  runs in flight per CPU as compare does; the task travels as its reference when auto was
  given one (a built-in name, ``file.py:factory``), else pickled by Ray.
- **Optuna storage** (``storage=URL``, PostgreSQL for many machines): every process that
  runs the same ``auto`` call with the same URL claims the candidates nobody has claimed
  (a claim is an Optuna trial, as ``lrkit compare --storage`` does), waits for the ones
  others train, and ends with the same recommendation. The range test and curvature are
  shared the same way (one process measures, the others read it). Combine it with
  ``workers`` or Ray to run several claimed candidates at once in each process.

A run depends only on (task, lr, seed, steps), so every backend returns the same losses
as the in-process path and auto picks the same LR at the same cost (gradient work);
what changes is the wall-clock (``Recommendation.seconds``). Bit-identical losses need
the same torch thread count per run: local workers use one thread, so run the
in-process path with ``OMP_NUM_THREADS=1`` (or ``torch.set_num_threads(1)``) to compare.

>>> Executor(workers=2).describe()
'2 local processes'
>>> Executor(workers=0)
Traceback (most recent call last):
...
lrkit.errors.ConfigError: workers = 0: must be >= 1; pass e.g. 2
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from lrkit._check import INPUT as check
from lrkit.errors import ConfigError
from lrkit.tasks import Task, TrainResult

__all__ = ["BACKENDS", "Executor", "as_executor"]

BACKENDS = ("local", "ray")

# (lr, seed, steps) of one candidate run
Spec = tuple[float, int, int]
TrainerFn = Callable[[Task, float, int, int], TrainResult]


@dataclasses.dataclass(frozen=True)
class _Candidate:
    """compare's ``work`` hook for one candidate: train it, return its record (picklable
    for Ray when the trainer is a module-level function)."""

    trainer: TrainerFn

    def __call__(self, task: Task, unit: Any) -> dict[str, Any]:
        return self.trainer(task, unit.lr, unit.seed, unit.steps).to_record()


@dataclasses.dataclass(frozen=True)
class _Doc:
    """compare's ``work`` hook for a shared document (range test, curvature)."""

    compute: Callable[[], dict[str, Any]]

    def __call__(self, task: Task, unit: Any) -> dict[str, Any]:
        return self.compute()


@dataclasses.dataclass(eq=False)
class Executor:
    """How auto trains a batch of independent candidate runs.

    Args:
        workers: runs at once in this process's pool (1: one after another here); with
            Ray, runs in flight per CPU.
        backend: ``local`` (this machine) or ``ray``.
        storage: an Optuna storage URL (``postgresql://USER:PW@HOST/DB``) shared by every
            process running the same auto call; None: this process alone.
        study: the study's name in ``storage`` (default: derived from the task, so the
            processes of one call meet without being told).
        task_ref: the task's reference (built-in name or ``file.py:factory``), which Ray
            workers load instead of unpickling the task; ``auto`` fills it when given one.
        poll_seconds: how often a storage process looks for runs others are training
            (auto's batches are short and follow each other, so more often than
            compare's 2 s).

    Raises:
        ConfigError: bad ``workers``, ``backend``, ``storage`` or ``poll_seconds``.
    """

    workers: int = 1
    backend: str = "local"
    storage: str | None = None
    study: str | None = None
    task_ref: str | None = None
    poll_seconds: float = 0.5
    _stores: dict[str, Any] = dataclasses.field(default_factory=dict, init=False,
                                                repr=False)

    def __post_init__(self) -> None:
        # the same checks as compare's backends (lrkit.compare.execute), named per surface
        check.count("workers", self.workers, example="2", exact=True)
        if self.backend not in BACKENDS:
            raise check.fail("backend", self.backend, "unknown",
                             f"use one of {', '.join(BACKENDS)}")
        if self.storage is not None and (not isinstance(self.storage, str) or
                                         self.storage.strip() in ("", "memory", ":memory:")):
            raise check.fail("storage", self.storage, "an in-memory study is not shared with "
                             "other processes", "pass postgresql://USER:PW@HOST/DB (many "
                             "machines) or sqlite:///auto.db (this one)")
        check.positive("poll_seconds", self.poll_seconds, example="2.0")

    @property
    def in_process(self) -> bool:
        """True when runs train here, one after another (nothing to hand out)."""
        return self.workers == 1 and self.backend == "local" and self.storage is None

    def describe(self) -> str:
        """One line for people: where the runs train."""
        if self.backend == "ray":
            where = f"Ray ({self.workers} in flight per CPU)"
        elif self.workers > 1:
            where = f"{self.workers} local processes"
        else:
            where = "this process"
        if self.storage is not None:
            from lrkit.tune.storage import redact

            where += f", shared through {redact(self.storage)}"
        return where

    def _store(self, task: Task) -> Any:
        from lrkit.compare.store import OptunaStore

        assert self.storage is not None  # callers check
        study = self.study or _study_name(task)
        if study not in self._stores:
            self._stores[study] = OptunaStore(self.storage, study)
        return self._stores[study]

    def _execute(self, task: Task, work: Any, units: list[Any], workers: int,
                 backend: str) -> dict[str, dict[str, Any]]:
        from lrkit.compare.execute import Context, execute
        from lrkit.compare.store import MemoryStore

        store = self._store(task) if self.storage is not None else MemoryStore()
        ctx = Context(task, (), task_ref=self.task_ref, work=work)
        return execute(ctx, units, store, workers=workers, backend=backend,
                       poll_seconds=self.poll_seconds)

    def run(self, trainer: TrainerFn, task: Task, specs: Sequence[Spec],
            keys: Sequence[str]) -> list[TrainResult]:
        """Train every ``specs[i]`` (stored under ``keys[i]``); results in that order."""
        if self.in_process:
            return [trainer(task, float(lr), int(seed), int(steps))
                    for lr, seed, steps in specs]
        if len(specs) == 1 and self.backend == "local" and self.storage is None:
            # one run (a ladder extension): a pool would only add its start-up; trained
            # here with the one thread a local worker uses, so the result is the same
            return [_one_thread(trainer, task, specs[0])]
        from lrkit.compare.execute import Unit

        units = [Unit(key=key, entry=0, lr=float(lr), seed=int(seed), steps=int(steps),
                      label=f"lr={lr:.4g} seed {seed} ({steps} updates)")
                 for key, (lr, seed, steps) in zip(keys, specs, strict=True)]
        records = self._execute(task, _Candidate(trainer), units, self.workers, self.backend)
        return [TrainResult.from_record(records[key]) for key in keys]

    def memo(self, task: Task, key: str, compute: Callable[[], dict[str, Any]]
             ) -> dict[str, Any]:
        """``compute()`` once among the processes sharing ``storage`` (the others wait
        and read it); without storage, simply ``compute()`` here."""
        if self.storage is None:
            return compute()
        from lrkit.compare.execute import Unit

        unit = Unit(key=key, entry=0, lr=math.nan, seed=0, label=key)
        # in this process: the document's closure need not travel
        doc = self._execute(task, _Doc(compute), [unit], 1, "local")[key]
        # every process (the one that computed it too) continues from the stored copy
        return _stored_copy(doc)


def _one_thread(trainer: TrainerFn, task: Task, spec: Spec) -> TrainResult:
    """``trainer`` on ``spec`` with one torch thread, as in a local worker process."""
    from lrkit._deps import require

    torch = require("torch", extra="torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lr, seed, steps = spec
        return trainer(task, float(lr), int(seed), int(steps))
    finally:
        torch.set_num_threads(threads)


def _stored_copy(doc: Any) -> Any:
    """``doc`` as a process reading it back from the store sees it (lists for tuples)."""
    from lrkit.compare.store import _clean, _restore

    return _restore(json.loads(json.dumps(_clean(doc))))


def _study_name(task: Task) -> str:
    schedule = task.schedule if isinstance(task.schedule, str | type(None)) else \
        json.dumps(task.schedule, sort_keys=True)
    ident = json.dumps([task.name, schedule, task.batch_size, task.total_steps])
    return "auto-" + hashlib.sha1(ident.encode()).hexdigest()[:12]


def as_executor(executor: Executor | None, task_ref: str | None = None) -> Executor:
    """``executor`` (None: in-process), with ``task_ref`` filled in when it has none.

    Raises:
        ConfigError: ``executor`` is not an Executor.

    >>> as_executor(None).in_process
    True
    """
    if executor is None:
        executor = Executor()
    if not isinstance(executor, Executor):
        raise ConfigError(f"executor = {type(executor).__name__}: must be an "
                          "lrkit.auto.Executor; pass e.g. Executor(workers=2)")
    if task_ref is not None and executor.task_ref is None:
        executor = dataclasses.replace(executor, task_ref=task_ref)  # the caller's is kept
    return executor
