"""One unit of work: train one row of the comparison at one LR on one seed, fully.

The loop is ``lrkit.tasks.train``'s (same seeding, batch order, divergence rule and
per-epoch validation: a schedule row gives the same final loss as ``train``), with what a
comparison needs on top: the training loss and the LR of every update (averaged over
blocks when a run is longer than ``CURVE_POINTS`` updates), the task's metric after the
last epoch, and optimizers that own their LR (hypergradient, Prodigy, D-Adaptation:
their LR is left alone and read back) or need eval mode for validation (schedule-free).

>>> from lrkit.compare.entries import entries
>>> from lrkit.tasks import load_task
>>> task = load_task("breast-cancer-logreg")
>>> row = entries(["cosine"], [])[0]
>>> rec = run_unit(task, row, 0.05, seed=0, total_steps=30)
>>> rec["steps"], rec["diverged"], len(rec["curve"]["lr"])
(30, False, 30)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from lrkit._deps import require
from lrkit.compare.entries import Entry
from lrkit.tasks import Task, seeded_rng
from lrkit.tasks.data import (
    epoch_batches,
    evaluate,
    fixed_batches,
    model_device,
    task_loss,
    to_device,
)
from lrkit.tasks.task import steps_per_epoch

__all__ = ["CURVE_POINTS", "metric_of", "run_unit"]

CURVE_POINTS = 500
_EVAL_BATCH = 512

Progress = Callable[[int, int, float], None]  # (epochs done, epochs, val loss)


def metric_of(task: Task) -> tuple[str, Callable[[Any, Any], float]] | None:
    """The task's metric: ``task.metric`` if it has one, else accuracy for classification.

    Classification is recognised by the loss: ``cross_entropy`` (argmax of the logits) or
    ``binary_cross_entropy_with_logits`` (logit > 0). Returns None for anything else.
    """
    custom = getattr(task, "metric", None)
    if callable(custom):
        return getattr(custom, "__name__", "metric"), custom
    name = getattr(task.loss_fn, "__name__", "")
    if name == "cross_entropy":
        return "accuracy", lambda out, y: float((out.argmax(dim=-1) == y).float().mean())
    if name == "binary_cross_entropy_with_logits":
        return "accuracy", lambda out, y: float(((out > 0).float() == y).float().mean())
    return None


def _metric_value(model: Any, fn: Callable[[Any, Any], float], batches: list[Any],
                  device: Any) -> float:
    torch = require("torch", extra="torch")
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for inputs, targets in batches:
                inputs, targets = to_device(inputs, device), to_device(targets, device)
                n = len(targets)
                total += float(fn(model(inputs), targets)) * n
                count += n
    finally:
        model.train(was_training)
    return total / max(count, 1)


def run_unit(task: Task, entry: Entry, lr: float, seed: int, *,
             total_steps: int | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Train ``entry`` on ``task`` at peak ``lr`` with ``seed``; return a JSON-ready record.

    Args:
        task: the user's task (``entry.task_for`` is applied here).
        entry: the row.
        lr: the schedule's peak LR, or the adaptive optimizer's starting LR.
        seed: initialisation, dropout and batch order.
        total_steps: run length in updates (default: the task's).
        progress: called after each epoch as ``progress(epoch, epochs, val_loss)``.

    Returns:
        ``final_val_loss`` (``inf`` if diverged), ``val_losses`` and ``val_updates``
        (after each epoch), ``metric`` / ``metric_name`` (None without one), ``diverged``,
        ``steps``, ``seconds``, ``lr``, ``seed`` and ``curve`` (``update``, ``loss``, ``lr``).
    """
    torch = require("torch", extra="torch")
    shaped = entry.task_for(task)
    n_total = shaped.total_steps if total_steps is None else int(total_steps)
    per_epoch = steps_per_epoch(len(shaped.train_data), shaped.batch_size)
    n_epochs = math.ceil(n_total / per_epoch)
    owns_lr = entry.optimizer is not None and not entry.optimizer.searched
    lrs = shaped.lr_schedule(lr, n_total).values(n_total)
    val_batches = fixed_batches(shaped.val_data, _EVAL_BATCH)
    block = max(1, math.ceil(n_total / CURVE_POINTS))
    curve: dict[str, list[float]] = {"update": [], "loss": [], "lr": []}
    acc_loss, acc_lr, acc_n = 0.0, 0.0, 0
    val_losses: list[float] = []
    val_updates: list[int] = []
    diverged = False
    step = 0
    started = time.perf_counter()
    metric = metric_of(shaped)
    metric_value: float | None = None
    with seeded_rng(seed):
        model = shaped.model()
        device = model_device(model)
        optimizer = shaped.optimizer(model.parameters(), float(lr))
        ratios = [float(g["lr"]) / float(lr) for g in optimizer.param_groups]
        generator = torch.Generator().manual_seed(seed)
        model.train()
        if entry.optimizer is not None and entry.optimizer.eval_mode:
            optimizer.train()
        for epoch in range(n_epochs):
            for batch in epoch_batches(shaped.train_data, shaped.batch_size, generator):
                if step >= n_total:
                    break
                if not owns_lr:
                    for group, ratio in zip(optimizer.param_groups, ratios, strict=True):
                        group["lr"] = ratio * float(lrs[step])
                optimizer.zero_grad(set_to_none=True)
                loss = task_loss(shaped.loss_fn, shaped.forward, model, batch, device)
                value = float(loss.detach())
                if not math.isfinite(value):
                    diverged = True
                    break
                loss.backward()
                optimizer.step()
                # read after the step: the adaptive methods update their step size inside it
                used = (entry.optimizer.effective_lr(optimizer) if entry.optimizer is not None
                        else float(lrs[step]))
                step += 1
                acc_loss, acc_lr, acc_n = acc_loss + value, acc_lr + used, acc_n + 1
                if acc_n == block:
                    curve["update"].append(step)
                    curve["loss"].append(acc_loss / acc_n)
                    curve["lr"].append(acc_lr / acc_n)
                    acc_loss, acc_lr, acc_n = 0.0, 0.0, 0
            if entry.optimizer is not None and entry.optimizer.eval_mode:
                optimizer.eval()  # validate at the averaged iterate
            val = (math.inf if diverged else
                   evaluate(model, shaped.loss_fn, val_batches, device, shaped.forward))
            if not math.isfinite(val):
                diverged, val = True, math.inf
            val_losses.append(val)
            val_updates.append(step)
            last = diverged or epoch == n_epochs - 1
            if last and metric is not None and not diverged:
                metric_value = _metric_value(model, metric[1], val_batches, device)
            if entry.optimizer is not None and entry.optimizer.eval_mode:
                optimizer.train()
            if progress is not None:
                progress(epoch + 1, n_epochs, val)
            if diverged:
                break
    if acc_n:
        curve["update"].append(step)
        curve["loss"].append(acc_loss / acc_n)
        curve["lr"].append(acc_lr / acc_n)
    return {"final_val_loss": math.inf if diverged else val_losses[-1],
            "val_losses": val_losses, "val_updates": val_updates,
            "metric": metric_value, "metric_name": None if metric is None else metric[0],
            "diverged": diverged, "steps": step, "total_steps": n_total,
            "seconds": time.perf_counter() - started, "lr": float(lr), "seed": int(seed),
            "curve": curve}
