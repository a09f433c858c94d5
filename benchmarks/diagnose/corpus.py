"""Build the labelled evaluation corpus for ``lrkit diagnose``: real runs, real loggers.

Every run trains one of lrkit's built-in tasks (``lrkit.tasks``) update by update and logs
the per-step loss and LR, and the per-epoch validation loss, through a real logger:
torch's ``SummaryWriter`` (TensorBoard event files), a CSV file or a JSON-lines file, in
turn. A Keras sub-corpus trains a Keras MLP on the same digits data and logs through
``keras.callbacks.CSVLogger`` (per-epoch rows only).

Each run is labelled by how it was made:

* ``lr_class`` — from its LR relative to the task's oracle LR (the grid point with the best
  validation loss, found first with ``lrkit.tasks.train``) *and* from its outcome: the
  normalised regret ``R = (best val loss - oracle's) / (initial val loss - oracle's)``.
  ``too_high``: LR above the oracle and (R >= 0.15 or diverged); ``too_low``: LR below the
  oracle and R >= 0.15; ``healthy``: R <= 0.05 and the LR within 10x of the oracle;
  everything else is ``ambiguous`` and left out of the three-class scores (reported).
* ``defect`` — a schedule bug injected on purpose with real torch schedulers: a cosine
  whose length is 40% of the run (``floor_early``), ``CosineAnnealingLR(T_max=epochs)``
  stepped every batch (``unit_mixup``), a resume that restored the model and optimizer but
  rebuilt the scheduler (``restart``), and training on 10% of the data for many epochs
  (``overfit``). ``none`` for the LR-grid runs.

Usage (about 10 minutes on the 2-core VM)::

    .venv/bin/python benchmarks/diagnose/corpus.py --out /tmp/lrkit-diag-corpus

It writes ``<out>/runs/<id>/`` (the logs) and ``<out>/labels.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from pathlib import Path
from typing import Any

GRID = [10.0 ** (k / 2) for k in range(-10, 3)]  # 1e-5 ... 10, half-decade steps
MULTIPLIERS = [1e-3, 1e-2, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 10.0, 100.0, 1000.0]
LOGGERS = ("tensorboard", "csv", "jsonl")


def oracle(task_name: str, schedule: str | None, cache: dict[str, Any]) -> dict[str, Any]:
    """The task's best LR on the grid (by best validation loss), cached in ``cache``."""
    from lrkit.tasks import builtin_tasks, train

    key = f"{task_name}|{schedule}"
    if key in cache:
        return cache[key]
    task = builtin_tasks()[task_name]()
    if schedule is not None:
        task = _with_schedule(task, schedule)
    scores = {}
    for lr in GRID:
        res = train(task, lr, seed=0)
        best = min(res.val_losses) if res.val_losses else math.inf
        scores[lr] = best if math.isfinite(best) and not res.diverged else math.inf
    lr_star = min(scores, key=lambda k: scores[k])
    cache[key] = {"lr": lr_star, "best_val": scores[lr_star],
                  "grid": {f"{k:.3g}": v for k, v in scores.items()}}
    return cache[key]


def _with_schedule(task: Any, schedule: str | None) -> Any:
    import dataclasses

    return dataclasses.replace(task, schedule=schedule)


class Logger:
    """Writes one run's scalars through a real logger (TensorBoard, CSV or JSON lines)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        if kind == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(folder))
        elif kind == "csv":
            self.fh = open(folder / "log.csv", "w", newline="")  # noqa: SIM115
            self.csv = csv.writer(self.fh)
            self.csv.writerow(["step", "epoch", "loss", "lr", "val_loss"])
        else:
            self.fh = open(folder / "log.jsonl", "w")  # noqa: SIM115

    def step(self, step: int, epoch: int, loss: float, lr: float) -> None:
        if self.kind == "tensorboard":
            self.writer.add_scalar("train/loss", loss, step)
            self.writer.add_scalar("train/lr", lr, step)
        elif self.kind == "csv":
            self.csv.writerow([step, epoch, repr(loss), repr(lr), ""])
        else:
            self.fh.write(json.dumps({"step": step, "epoch": epoch, "loss": loss,
                                      "lr": lr}) + "\n")

    def val(self, step: int, epoch: int, value: float) -> None:
        if self.kind == "tensorboard":
            self.writer.add_scalar("val/loss", value, step)
        elif self.kind == "csv":
            self.csv.writerow([step, epoch, "", "", repr(value)])
        else:
            self.fh.write(json.dumps({"step": step, "epoch": epoch, "val_loss": value}) + "\n")

    def close(self) -> None:
        if self.kind == "tensorboard":
            self.writer.close()
        else:
            self.fh.close()


def run_logged(task: Any, lr: float, seed: int, logger: Logger, *, defect: str = "none",
               epochs: int | None = None, train_fraction: float = 1.0) -> dict[str, Any]:
    """Train ``task`` at peak ``lr`` step by step, logging every update; inject ``defect``."""
    import torch

    from lrkit.tasks.data import epoch_batches, evaluate, fixed_batches, subset

    data = subset(task.train_data, train_fraction)
    spe = max(1, len(data) // task.batch_size)
    n_epochs = epochs or task.epochs
    total = n_epochs * spe
    val_batches = fixed_batches(task.val_data, 512)
    if defect == "floor_early":
        lrs = task.lr_schedule(lr, int(0.4 * total)).values(total)
    else:
        lrs = task.lr_schedule(lr, total).values(total)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = task.model()
        opt = task.optimizer(model.parameters(), float(lr))
        torch_sched = None
        if defect == "unit_mixup":
            # The bug: T_max counted in epochs, scheduler stepped every batch.
            torch_sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_epochs)
        init_val = evaluate(model, task.loss_fn, val_batches)
        gen = torch.Generator().manual_seed(seed)
        val_losses, diverged, step, bad = [], False, 0, 0
        restart_at = total // 2
        for epoch in range(n_epochs):
            for inputs, targets in epoch_batches(data, task.batch_size, gen):
                if torch_sched is not None:
                    cur = opt.param_groups[0]["lr"]
                else:
                    # A resume that rebuilt the scheduler: it starts again from update 0.
                    idx = step - restart_at if (defect == "restart" and step >= restart_at) \
                        else step
                    cur = float(lrs[idx])
                    for g in opt.param_groups:
                        g["lr"] = cur
                opt.zero_grad(set_to_none=True)
                loss = task.loss_fn(model(inputs), targets)
                value = float(loss.detach())
                logger.step(step, epoch, value, cur)
                step += 1
                if not math.isfinite(value):
                    bad += 1
                    diverged = True
                    if bad >= 3:  # a real run logs a few NaNs, then someone stops it
                        break
                    continue
                loss.backward()
                opt.step()
                if torch_sched is not None:
                    torch_sched.step()
            if diverged and bad >= 3:
                break
            val = evaluate(model, task.loss_fn, val_batches)
            if not math.isfinite(val):
                diverged = True
            logger.val(step - 1, epoch, val if math.isfinite(val) else float("nan"))
            val_losses.append(val)
    logger.close()
    finite = [v for v in val_losses if math.isfinite(v)]
    return {"init_val": init_val, "val_losses": val_losses,
            "best_val": min(finite) if finite and not diverged else math.inf,
            "diverged": diverged, "steps": step, "steps_per_epoch": spe,
            "epochs": n_epochs}


def label(m: float, outcome: dict[str, Any], best_star: float) -> tuple[str, float]:
    """(lr_class, normalised regret) from the LR multiplier and the outcome."""
    init = outcome["init_val"]
    if outcome["diverged"] or not math.isfinite(outcome["best_val"]):
        return ("too_high" if m > 1 else "ambiguous"), math.inf
    r = (outcome["best_val"] - best_star) / max(init - best_star, 1e-12)
    if r <= 0.05 and 0.1 <= m <= 10:
        return "healthy", r
    if r >= 0.15:
        return ("too_high" if m > 1 else "too_low" if m < 1 else "ambiguous"), r
    return "ambiguous", r


def keras_corpus(out: Path, labels: list[dict[str, Any]]) -> None:
    """Keras MLP on digits, logged by keras.callbacks.CSVLogger (one row per epoch)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from lrkit.tasks.builtin import _split

    x_tr, y_tr, x_va, y_va = _split("digits")

    def fit(lr: float, folder: Path | None) -> tuple[list[float], float, bool]:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        init = float(model.evaluate(x_va, y_va, verbose=0))
        cbs = [keras.callbacks.LearningRateScheduler(lambda e, cur: cur)]
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            cbs.append(keras.callbacks.CSVLogger(str(folder / "training.log")))
        hist = model.fit(x_tr, y_tr, batch_size=32, epochs=15, verbose=0,
                         validation_data=(x_va, y_va), callbacks=cbs)
        vals = [float(v) for v in hist.history["val_loss"]]
        diverged = not all(math.isfinite(v) for v in vals) or not all(
            math.isfinite(v) for v in hist.history["loss"])
        return vals, init, diverged

    grid = {}
    for lr in GRID:
        vals, _init, div = fit(lr, None)
        grid[lr] = math.inf if div else min(vals)
    lr_star = min(grid, key=lambda k: grid[k])
    for m in (1e-3, 1e-2, 0.1, 0.5, 1.0, 2.0, 30.0, 100.0, 1000.0):
        rid = f"keras-digits-mlp-m{m:g}"
        vals, init, div = fit(lr_star * m, out / "runs" / rid)
        outcome = {"init_val": init, "best_val": math.inf if div else min(vals),
                   "diverged": div}
        cls, r = label(m, outcome, grid[lr_star])
        labels.append({"id": rid, "task": "keras-digits-mlp", "logger": "keras",
                       "schedule": "constant", "lr": lr_star * m, "oracle_lr": lr_star,
                       "multiplier": m, "seed": 0, "defect": "none", "lr_class": cls,
                       "regret": r, "diverged": div, "epochs": 15,
                       "val_losses": vals})
        print(f"{rid:40s} {cls:10s} R={r:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/lrkit-diag-corpus"))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="e.g. 1 for a held-out corpus with other seeds")
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args()
    from lrkit.tasks import builtin_tasks

    args.out.mkdir(parents=True, exist_ok=True)
    cache_file = args.out / "oracle.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    import torch

    torch.set_num_threads(1)  # tiny models: threads only add contention on a shared VM
    # Resumable: runs already labelled in labels.partial.jsonl are kept, not re-trained.
    partial = args.out / "labels.partial.jsonl"
    done = {}
    if partial.exists():
        for line in partial.read_text().splitlines():
            rec = json.loads(line)
            done[rec["id"]] = rec
    labels: list[dict[str, Any]] = []

    def record(rec: dict[str, Any]) -> None:
        labels.append(rec)
        if rec["id"] not in done:
            with partial.open("a") as fh:
                fh.write(json.dumps(rec, default=float) + "\n")

    started = time.perf_counter()
    k = 0
    for task_name in sorted(builtin_tasks()):
        base = builtin_tasks()[task_name]()
        assert isinstance(base.schedule, str)  # the built-in tasks name their schedule
        for schedule in (base.schedule, "constant") if base.schedule != "constant" else \
                (base.schedule, "cosine"):
            task = _with_schedule(base, schedule)
            orc = oracle(task_name, schedule, cache)
            cache_file.write_text(json.dumps(cache, indent=1))
            for m in MULTIPLIERS:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    logger_kind = LOGGERS[k % len(LOGGERS)]
                    k += 1
                    rid = f"{task_name}-{schedule}-m{m:g}-s{seed}"
                    if rid in done:
                        record(done[rid])
                        continue
                    lr = orc["lr"] * m
                    outcome = run_logged(task, lr, seed, Logger(logger_kind,
                                                                args.out / "runs" / rid))
                    cls, r = label(m, outcome, orc["best_val"])
                    record({"id": rid, "task": task_name, "logger": logger_kind,
                                   "schedule": schedule, "lr": lr, "oracle_lr": orc["lr"],
                                   "multiplier": m, "seed": seed, "defect": "none",
                                   "lr_class": cls, "regret": r,
                                   "diverged": outcome["diverged"],
                                   "epochs": outcome["epochs"],
                                   "steps_per_epoch": outcome["steps_per_epoch"],
                                   "val_losses": outcome["val_losses"]})
                    print(f"{rid:45s} {logger_kind:11s} {cls:10s} R={r:.3f}", flush=True)
    # Schedule defects and overfitting, at the oracle LR of each task's own schedule.
    for task_name in sorted(builtin_tasks()):
        base = builtin_tasks()[task_name]()
        assert isinstance(base.schedule, str)  # the built-in tasks name their schedule
        orc = oracle(task_name, base.schedule, cache)
        plans: list[tuple[str, str, dict[str, Any]]] = [
            ("floor_early", "cosine", {}), ("unit_mixup", "constant", {}),
            ("restart", "cosine", {}), ("none", "cosine", {"epochs": 40})]
        if task_name == "digits-mlp":
            plans.append(("overfit", "constant", {"epochs": 60, "train_fraction": 0.1}))
        for defect, schedule, extra in plans:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                logger_kind = LOGGERS[k % len(LOGGERS)]
                k += 1
                tag = defect if defect != "none" else "long"
                rid = f"{task_name}-{tag}-s{seed}"
                if rid in done:
                    record(done[rid])
                    continue
                task = _with_schedule(base, schedule)
                lr = orc["lr"]
                outcome = run_logged(task, lr, seed, Logger(logger_kind, args.out / "runs" / rid),
                                     defect=defect, **extra)
                record({"id": rid, "task": task_name, "logger": logger_kind,
                               "schedule": schedule, "lr": lr, "oracle_lr": orc["lr"],
                               "multiplier": 1.0, "seed": seed, "defect": defect,
                               "lr_class": "defect" if defect != "none" else "long",
                               "regret": None, "diverged": outcome["diverged"],
                               "epochs": outcome["epochs"],
                               "steps_per_epoch": outcome["steps_per_epoch"],
                               "val_losses": outcome["val_losses"]})
                print(f"{rid:45s} {logger_kind:11s} {defect}", flush=True)
    if not args.no_keras:
        keras_corpus(args.out, labels)
    (args.out / "labels.json").write_text(json.dumps(labels, indent=1, default=float))
    print(f"{len(labels)} runs in {time.perf_counter() - started:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
