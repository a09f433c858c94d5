"""The two entry points: ``find`` on an lrkit Task, ``range_test`` on the caller's objects.

>>> from lrkit.rangetest import find
>>> res = find("breast-cancer-logreg", start_lr=1e-4, end_lr=10.0, steps=30)
>>> res.suggestion > 0 and res.cost_runs < 0.5
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.rangetest.result import RangeTestResult
from lrkit.rangetest.runner import SweepRecord
from lrkit.rangetest.schedule_map import peak_lr_for
from lrkit.rangetest.settings import SweepSettings
from lrkit.rangetest.torch_adapter import sweep_torch
from lrkit.tasks.data import epoch_batches, fixed_batches, model_device, to_device
from lrkit.tasks.task import Task, fill_schedule
from lrkit.tasks.training import seeded_rng

__all__ = ["Progress", "find", "range_test"]

# progress(done, planned, lr, loss): called after each recorded update
Progress = Callable[[int, int, float, float], None]


class _TaskBatches:
    """Endless epochs of a task's training data in an order fixed by ``seed``."""

    def __init__(self, task: Task, seed: int) -> None:
        torch = require("torch", extra="torch")
        self._task = task
        self._generator = torch.Generator().manual_seed(seed)

    def __iter__(self) -> Iterator[Any]:
        return epoch_batches(self._task.train_data, self._task.batch_size, self._generator)


def _check_repeats(repeats: Any) -> None:
    if check.count("repeats", repeats, example="3", exact=True) > 100:
        raise check.fail("repeats", repeats, "must be <= 100", "pass e.g. 3")


def _settings(**kwargs: Any) -> dict[str, Any]:
    return {k: (v if isinstance(v, int | float | str | bool) or v is None else repr(v))
            for k, v in kwargs.items()}


def find(task: Task | str, settings: SweepSettings | None = None, *, repeats: int = 1,
         seed: int = 0, rule: str = "lrkit", progress: Progress | None = None,
         **sweep_settings: Any) -> RangeTestResult:
    """Run the LR range test on a task and suggest an LR.

    Each repeat builds the task's model with ``torch.manual_seed(seed)`` (the same
    initialisation) and draws a different batch order; the suggestion is the median over
    repeats. Torch's global RNG is forked, so the caller's random state is untouched.

    Args:
        task: an lrkit Task, a built-in task name or ``path/file.py:factory``.
        settings: the sweep (``SweepSettings``: ``start_lr``, ``end_lr``, ``steps``,
            ``mode``, ``accumulation_steps``, ``val_every``, ``val_batches``, ``diverge``,
            ``extend``, ``max_skipped``); each may also be given as a keyword
            (``steps=50``), which replaces the field of ``settings``.
        repeats: sweeps with different batch orders (median and spread reported).
        seed: the initialisation seed; repeat r uses batch-order seed ``seed + r``.
        rule: the suggestion rule (``lrkit.rangetest.RULES``).
        progress: callback ``(done, planned, lr, loss)`` after each update.
        sweep_settings: fields of ``SweepSettings``, as keywords.

    Returns:
        The RangeTestResult, with ``peak_lr`` for the task's schedule and ``cost_runs``.

    Raises:
        ConfigError: a bad argument or task reference.
    """
    if isinstance(task, str):
        from lrkit.tasks.loader import load_task

        task = load_task(task)
    if not isinstance(task, Task):
        raise ConfigError(f"task = {type(task).__name__}: must be an lrkit.Task or a task "
                          "name; pass e.g. 'digits-mlp'")
    cfg = SweepSettings.of(settings, **sweep_settings)
    steps, val_batches = cfg.steps, cfg.val_batches
    _check_repeats(repeats)
    check.count("seed", seed, minimum=0, example="0", exact=True)
    require("torch", extra="torch")  # fail early, with the install line
    records: list[SweepRecord] = []
    micro = 0
    ratios: list[float] = [1.0]
    val_data = (fixed_batches(task.val_data, task.batch_size, val_batches) if cfg.val_every
                else None)
    done_before = 0

    for r in range(repeats):
        def report(done: int, planned: int, lr: float, loss: float,
                   offset: int = done_before, left: int = (repeats - r - 1) * steps) -> None:
            if progress is not None:
                progress(offset + done, offset + planned + left, lr, loss)

        with seeded_rng(seed):
            model = task.model()
            optimizer = task.optimizer(model.parameters(), float(cfg.start_lr))
            record, ratios, used = sweep_torch(
                model, optimizer, task.loss_fn, _TaskBatches(task, seed + r), cfg,
                forward=_task_forward(task, model), val_data=val_data, verify=False,
                on_update=report)
        records.append(record)
        micro += used
        done_before += record.updates
    probes = sum(len(rec.val_losses) for rec in records) * val_batches
    cost = (micro + probes / 3.0) / (task.total_steps * cfg.accumulation_steps)
    result = _result(records, rule, ratios, micro, cost, task.schedule, task.total_steps,
                     _settings(task=task.name, start_lr=cfg.start_lr, end_lr=cfg.end_lr,
                               steps=steps, repeats=repeats, seed=seed, mode=cfg.mode,
                               accumulation_steps=cfg.accumulation_steps,
                               val_every=cfg.val_every))
    return result


def _task_forward(task: Task, model: Any) -> Callable[[Any, Any], Any] | None:
    """The task's ``forward`` hook with each batch moved to the model's device first."""
    hook = task.forward
    if hook is None:
        return None
    device = model_device(model)
    return lambda m, batch: hook(m, to_device(batch, device))


def _result(records: list[SweepRecord], rule: str, ratios: list[float], micro: int,
            cost: float | None, schedule: Any, total_steps: int | None,
            settings: dict[str, Any]) -> RangeTestResult:
    peak = spec = None
    result = RangeTestResult.from_curves(
        [(rec.lrs, rec.losses) for rec in records],
        stop_reasons=[rec.stop_reason for rec in records], rule=rule,
        group_ratios=tuple(ratios), val_lrs=records[0].val_lrs,
        val_losses=records[0].val_losses, updates=sum(rec.updates for rec in records),
        skipped=sum(rec.skipped for rec in records), micro_batches=micro,
        cost_runs=None if cost is None else round(cost, 6), settings=settings)
    if schedule is not None and total_steps and math.isfinite(result.suggestion):
        peak = peak_lr_for(schedule, result.suggestion, total_steps)
        spec = fill_schedule(schedule, peak, total_steps).to_spec()
        import dataclasses

        result = dataclasses.replace(result, peak_lr=peak, schedule=spec)
    return result


def range_test(model: Any, optimizer: Any, loss_fn: Callable[[Any, Any], Any] | None,
               train_loader: Iterable[Any], settings: SweepSettings | None = None, *,
               scaler: Any = None, autocast_dtype: Any = None, scheduler: Any = None,
               forward: Callable[[Any, Any], Any] | None = None,
               val_loader: Iterable[Any] | None = None, rule: str = "lrkit",
               schedule: str | dict[str, Any] | None = None, total_steps: int | None = None,
               verify: bool = True, progress: Progress | None = None,
               reduce_loss: Callable[[float], float] | None = None,
               **sweep_settings: Any) -> RangeTestResult:
    """LR range test on your own model, optimizer and data; everything is restored after.

    The LR sweeps as a common multiplier of the optimizer's parameter groups (group 0's LR
    is reported; the others keep their ratio to it). Parameters, buffers, gradients,
    ``requires_grad``, train/eval modes, optimizer state and hyperparameters, the
    ``scaler`` and ``scheduler`` state, the Python/NumPy/torch (and CUDA) RNG states and
    the loaders' generators are restored exactly, also on an exception or
    KeyboardInterrupt; with ``verify`` a checksum proves it.

    Args:
        model: the ``torch.nn.Module``.
        optimizer: its optimizer (any parameter groups).
        loss_fn: ``(output, target) -> loss``; unused when ``forward`` is given.
        train_loader: an iterable of batches, re-iterated when exhausted.
        settings: the sweep of group 0's LR (``SweepSettings``: ``start_lr``, ``end_lr``,
            ``steps``, ``mode``, ``accumulation_steps``, ``val_every``, ``val_batches``,
            ``diverge``, ``extend``, ``max_skipped``); each may also be given as a keyword
            (``steps=50``), which replaces the field of ``settings``. With
            ``accumulation_steps`` the LR advances once per update and the recorded loss
            is the window's mean.
        scaler: a ``torch.amp.GradScaler``; updates it skips (inf/NaN gradients) do not
            advance the LR and are not recorded.
        autocast_dtype: run forward passes under ``torch.autocast`` with this dtype
            (e.g. ``torch.bfloat16``).
        scheduler: an LR scheduler attached to ``optimizer``; it is not stepped, and its
            state is restored.
        forward: ``(model, batch) -> loss`` for batches that are not ``(inputs, targets)``.
        val_loader: held-out batches for the validation probe (``val_every``).
        rule: the suggestion rule.
        schedule, total_steps: the real run's schedule shape and length, to get
            ``peak_lr`` for it.
        verify: compare checksums before and after (raises RuntimeError on a mismatch).
        progress: callback ``(done, planned, lr, loss)``.
        reduce_loss: maps each update's loss to the recorded one (e.g. the mean over DDP
            ranks; ``lrkit.integrations.torch.find`` passes it under DDP).
        sweep_settings: fields of ``SweepSettings``, as keywords.

    Returns:
        The RangeTestResult (``cost_runs`` is None: there is no task to compare with).

    Raises:
        ConfigError: a bad argument.

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> x = torch.randn(256, 4); y = x @ torch.ones(4, 1)
        >>> model = torch.nn.Linear(4, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> before = model.weight.clone()
        >>> res = range_test(model, opt, torch.nn.functional.mse_loss,
        ...                  DataLoader(TensorDataset(x, y), batch_size=32), steps=40,
        ...                  start_lr=1e-4, end_lr=10)
        >>> torch.equal(model.weight, before), opt.param_groups[0]["lr"]
        (True, 0.1)
    """
    cfg = SweepSettings.of(settings, **sweep_settings)
    if (schedule is not None) and (total_steps is None or total_steps < 1):
        raise ConfigError(f"total_steps = {total_steps!r}: needed with schedule=; pass the "
                          "number of updates of the real run")
    record, ratios, micro = sweep_torch(
        model, optimizer, loss_fn, train_loader, cfg, scaler=scaler,
        autocast_dtype=autocast_dtype, scheduler=scheduler, forward=forward,
        val_data=val_loader, verify=verify, on_update=progress, reduce_loss=reduce_loss)
    return _result([record], rule, ratios, micro, None, schedule, total_steps,
                   _settings(start_lr=cfg.start_lr, end_lr=cfg.end_lr, steps=cfg.steps,
                             mode=cfg.mode, accumulation_steps=cfg.accumulation_steps))
