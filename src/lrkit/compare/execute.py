"""Run units of work: serially, on local processes, or on Ray; skip what the store has.

A ``Unit`` is data (its key, row index, LR, seed, and for an ``auto`` search its budget),
so it travels to a worker process or a Ray node; the worker rebuilds the row from the
task and the entries it was given. Local workers are forked processes (the task, its
lambdas included, is inherited, not pickled); Ray workers get the task reference (a
built-in name or ``file.py:factory``, loaded there) or the Task pickled by Ray.

Progress comes back as events ``(kind, unit, info)``: ``cached`` (already in the store),
``queued`` (to be run), ``start``, ``epoch`` (``epoch``, ``epochs``, ``val_loss``),
``done`` (the record) and ``waiting`` (units another process has claimed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import multiprocessing
import queue as queue_module
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from lrkit._check import INPUT as check
from lrkit.compare.entries import Entry
from lrkit.compare.runner import run_unit
from lrkit.compare.store import Store
from lrkit.errors import ConfigError
from lrkit.tasks import Task

__all__ = ["BACKENDS", "Context", "Unit", "execute", "recommendation", "run_one"]

BACKENDS = ("local", "ray")

Event = Callable[[str, "Unit", dict[str, Any]], None]


@dataclasses.dataclass(frozen=True)
class Unit:
    """One unit of work.

    Attributes:
        key: its store key.
        entry: index of its row in the context's entries.
        lr: the peak LR (a run) or NaN (an ``auto`` search).
        seed: the training seed (a run) or the search's seed.
        budget: the ``auto`` budget for a search unit, None for a run.
        label: for progress displays (``"cosine lr=0.01 seed 1"``).
        steps: the run's length in updates when the context's ``work`` needs it (auto's
            compressed candidate runs), else None.
    """

    key: str
    entry: int
    lr: float
    seed: int
    budget: float | None = None
    label: str = ""
    steps: int | None = None

    @property
    def kind(self) -> str:
        return "run" if self.budget is None else "auto"


@dataclasses.dataclass(frozen=True)
class Context:
    """What every unit needs: the task (object and, if known, its reference) and the rows.

    ``work``, when given, runs every unit instead of compare's own run or search: it is
    ``(task, unit) -> record`` (a JSON-ready dict), so another verb's independent runs
    (``lrkit.auto.executor``: auto's candidates) use these same backends and stores. For
    Ray it must pickle (a module-level function or an instance of a module-level class).
    """

    task: Task
    entries: tuple[Entry, ...]
    task_ref: str | None = None
    work: Callable[[Task, Unit], dict[str, Any]] | None = None
    #: ``(task, budget=, seed=) -> Recommendation`` for an ``auto`` unit (compare passes
    #: ``lrkit.auto``): injected, so auto can run its candidates on these backends without
    #: an import cycle between lrkit.auto and this module
    search: Callable[..., Any] | None = None


def run_one(ctx: Context, unit: Unit,
            on_epoch: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """Execute ``unit`` in this process and return its record."""
    if ctx.work is not None:
        return ctx.work(ctx.task, unit)
    entry = ctx.entries[unit.entry]
    if unit.budget is None:
        return run_unit(ctx.task, entry, unit.lr, unit.seed, progress=on_epoch)
    if ctx.search is None:
        raise ConfigError("search = None: an auto unit needs a search function; pass "
                          "Context(..., search=lrkit.auto) as lrkit.compare does")
    started = time.perf_counter()
    rec = ctx.search(entry.task_for(ctx.task), budget=unit.budget, seed=unit.seed)
    _RECOMMENDATIONS[(id(ctx.task), entry.ident, unit.budget, unit.seed)] = (ctx.task, rec)
    return {"lr": float(rec.lr), "cost_runs": float(rec.cost_runs),
            "seconds": time.perf_counter() - started, "budget": unit.budget,
            "seed": unit.seed}


# auto's full Recommendations of this process, for ``pick_schedule`` (a store keeps only
# the LR and the cost); keyed by the task object, the row, the budget and the seed
_RECOMMENDATIONS: dict[tuple[int, str, float, int], tuple[Task, Any]] = {}


def recommendation(task: Task, entry: Entry, budget: float, seed: int) -> Any:
    """The Recommendation an ``auto`` unit computed in this process, or None."""
    # the task is kept beside the Recommendation: an id is unique only while its object lives
    found = _RECOMMENDATIONS.get((id(task), entry.ident, float(budget), int(seed)))
    return found[1] if found is not None and found[0] is task else None


# --- local processes -----------------------------------------------------------------------
# A forked worker inherits these: the task's lambdas never need pickling.
_CTX: Context | None = None
_EVENTS: Any = None


def _init_worker(threads: int) -> None:
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(threads)


def _pool_run(unit: Unit) -> dict[str, Any]:
    assert _CTX is not None  # set in the parent before the fork
    events = _EVENTS

    def on_epoch(epoch: int, epochs: int, val: float) -> None:
        if events is not None:
            events.put(("epoch", unit.key, {"epoch": epoch, "epochs": epochs, "val_loss": val}))

    return run_one(_CTX, unit, on_epoch)


def _ray_run(task_ref: Any, entries: tuple[Entry, ...], unit: Unit,
             work: Callable[[Task, Unit], dict[str, Any]] | None = None,
             search: Callable[..., Any] | None = None) -> dict[str, Any]:
    from lrkit.tasks import load_task

    task = load_task(task_ref) if isinstance(task_ref, str) else task_ref
    return run_one(Context(task, entries, work=work, search=search), unit)


def execute(ctx: Context, units: Sequence[Unit], store: Store, *, workers: int = 1,
            backend: str = "local", on_event: Event | None = None,
            poll_seconds: float = 2.0) -> dict[str, dict[str, Any]]:
    """Run every unit the store lacks; return the records of all ``units`` by key.

    Args:
        ctx: the task and rows.
        units: what to run (duplicates by key run once).
        store: finished units are read from and written to it.
        workers: local processes (1: in this process); with Ray, units in flight.
        backend: ``local`` or ``ray``.
        on_event: progress events (see the module docstring).
        poll_seconds: how often to look for units other processes are running.

    Raises:
        ConfigError: a bad ``workers`` or ``backend``.
    """
    check.count("workers", workers, example="2", exact=True)
    if backend not in BACKENDS:
        raise check.fail("backend", backend, "unknown", f"use one of {', '.join(BACKENDS)}")
    emit: Event = on_event or (lambda kind, unit, info: None)
    unique = list({u.key: u for u in units}.values())
    done = store.load()
    records = {u.key: done[u.key] for u in unique if u.key in done}
    for u in unique:
        if u.key in records:
            emit("cached", u, records[u.key])
    todo = [u for u in unique if u.key not in records]
    for u in todo:
        emit("queued", u, {})
    while todo:
        if backend == "ray":
            _run_ray(ctx, todo, store, workers, emit, records)
        elif workers == 1:
            _run_serial(ctx, todo, store, emit, records)
        else:
            _run_pool(ctx, todo, store, workers, emit, records)
        todo = [u for u in todo if u.key not in records]
        if todo:  # claimed by other processes sharing the store: wait for them
            for u in todo:
                emit("waiting", u, {})
            time.sleep(poll_seconds)
            done = store.load()
            for u in todo:
                if u.key in done:
                    records[u.key] = done[u.key]
                    emit("done", u, done[u.key])
            # still missing: the next pass claims those whose claimers died (OptunaStore)
            todo = [u for u in todo if u.key not in records]
    return records


def _finish(store: Store, unit: Unit, record: dict[str, Any], emit: Event,
            records: dict[str, dict[str, Any]]) -> None:
    store.put(unit.key, record)
    records[unit.key] = record
    emit("done", unit, record)


def _run_serial(ctx: Context, todo: Sequence[Unit], store: Store, emit: Event,
                records: dict[str, dict[str, Any]]) -> None:
    for unit in todo:
        if not store.claim(unit.key):
            continue
        emit("start", unit, {})
        try:
            record = run_one(ctx, unit, lambda e, n, v, u=unit: emit(  # type: ignore[misc]
                "epoch", u, {"epoch": e, "epochs": n, "val_loss": v}))
        except BaseException:
            store.release(unit.key)
            raise
        _finish(store, unit, record, emit, records)


def _drain(events: Any, by_key: dict[str, Unit], emit: Event, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            item = events.get(timeout=0.2)
        except (queue_module.Empty, EOFError, OSError):
            continue
        if item is None:  # the pool is done: stop now, not at the next timeout
            break
        kind, key, info = item
        if key in by_key:
            emit(kind, by_key[key], info)


def _run_pool(ctx: Context, todo: Sequence[Unit], store: Store, workers: int, emit: Event,
              records: dict[str, dict[str, Any]]) -> None:
    global _CTX, _EVENTS
    fork = multiprocessing.get_context("fork")
    events = fork.Queue()
    _CTX, _EVENTS = ctx, events
    by_key = {u.key: u for u in todo}
    stop = threading.Event()
    drainer = threading.Thread(target=_drain, args=(events, by_key, emit, stop), daemon=True)
    drainer.start()
    pending = list(todo)
    running: dict[Future[dict[str, Any]], Unit] = {}
    try:
        with ProcessPoolExecutor(workers, mp_context=fork, initializer=_init_worker,
                                 initargs=(1,)) as pool:
            while pending or running:
                while pending and len(running) < workers:
                    unit = pending.pop(0)
                    if store.claim(unit.key):
                        emit("start", unit, {})
                        running[pool.submit(_pool_run, unit)] = unit
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    unit = running.pop(future)
                    _finish(store, unit, future.result(), emit, records)
    except BaseException:
        for unit in running.values():
            store.release(unit.key)
        raise
    finally:
        stop.set()
        events.put(None)
        drainer.join(timeout=2)
        _CTX, _EVENTS = None, None


def _run_ray(ctx: Context, todo: Sequence[Unit], store: Store, workers: int, emit: Event,
             records: dict[str, dict[str, Any]]) -> None:
    from lrkit._deps import require
    from lrkit.tune.ray_backend import _init_ray

    ray = require("ray", extra="ray")
    _init_ray(ray, None)
    remote = ray.remote(num_cpus=1)(_ray_run)
    payload = ray.put(ctx.task_ref if ctx.task_ref is not None else ctx.task)
    pending = list(todo)
    running: dict[Any, Unit] = {}
    try:
        # at most `workers` in flight x 2, so a kill loses little and the store fills steadily
        limit = max(2, 2 * workers)
        while pending or running:
            while pending and len(running) < limit:
                unit = pending.pop(0)
                if store.claim(unit.key):
                    emit("start", unit, {})
                    running[remote.remote(payload, ctx.entries, unit, ctx.work,
                                         ctx.search)] = unit
            if not running:
                break
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                unit = running.pop(ref)
                _finish(store, unit, ray.get(ref), emit, records)
    except BaseException:
        for ref, unit in running.items():
            with contextlib.suppress(Exception):
                ray.cancel(ref)
            store.release(unit.key)
        raise


def is_finite(value: Any) -> bool:
    """True for a finite number."""
    return isinstance(value, int | float) and math.isfinite(value)
