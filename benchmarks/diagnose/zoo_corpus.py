"""A labelled corpus for ``lrkit diagnose`` v2: many tasks, real loggers, measured labels.

Every task of the zoo (``lrkit.tasks.zoo.ZOO``; the built-in tasks when the zoo is not
installed) is trained at LRs from 0.01x to 1000x its oracle LR, under the task's own
schedule family, update by update. Each run's raw trace (per-update loss and LR, the
validation loss after every epoch) is cached on disk, then written out through real
loggers at realistic intervals:

* Lightning ``CSVLogger`` and ``TensorBoardLogger`` (their ``log_metrics``, with the
  ``lr-<Optimizer>`` column of ``LearningRateMonitor`` or without it, ``_step`` /
  ``_epoch`` names, every update, every 10 or 50 updates, or per epoch only);
* torch's ``SummaryWriter``;
* Hugging Face ``TrainerState.save_to_json`` (``log_history`` averaged over
  ``logging_steps``, ``eval_loss`` entries per epoch);
* Keras' ``CSVLogger`` callback (per epoch, ``learning_rate`` column or not);
* plain CSV and JSON lines.

Each view drops the LR and/or the validation loss in turn. Labels come from the measured
outcome only: the zoo harness's regret ``R = (L - L*) / max(L*, 0.05 L0)`` of the run's
final validation loss ``L`` against the oracle's ``L*`` (``L0``: the untrained validation
loss). ``too_high``: diverged, or LR above the oracle and R >= 0.25; ``too_low``: LR below
the oracle and R >= 0.25; ``healthy``: R <= 0.10; anything else ``ambiguous`` (reported,
not scored). The oracle is the zoo's ``oracle.json`` when it has the task, else a half-decade
grid on seed 0 (corpus runs use seed 1, so the oracle LR's own seed noise shows).

Dev/test is the zoo's own split by family (recorded in ``labels.json``); for the
built-in tasks, the split below.

Usage (restartable; traces are cached)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diagnose/zoo_corpus.py --out /tmp/lrkit-diag2
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle_labels import oracle_label

#: LR multipliers of the corpus runs: half decades from 0.01x to 100x, 1000x, 0.5x and 2x.
MULTIPLIERS = [0.01, 0.031623, 0.1, 0.316228, 0.5, 1.0, 2.0, 3.162278, 10.0, 31.622777, 100.0,
               1000.0]
#: The oracle grid (absolute LRs, half decades) when the zoo's oracle has no entry.
GRID = [10.0 ** (k / 2) for k in range(-10, 3)]  # 1e-5 ... 10
#: Built-in tasks as a stand-in zoo: (family, split).
BUILTIN_SPLIT = {"digits-mlp": ("mlp-classification", "dev"),
                 "diabetes-mlp": ("mlp-regression", "dev"),
                 "digits-cnn": ("cnn", "test"),
                 "breast-cancer-logreg": ("linear", "test")}
#: Regret bands: healthy at most 10% worse than the oracle, a problem at least 25% worse.
HEALTHY_MAX, BAD_MIN = 0.10, 0.25
#: Views: (logger, logging interval in updates or "epoch").
LOGGERS = ("lightning_csv", "lightning_tb", "tensorboard", "hf", "keras", "csv", "jsonl")


@dataclass(frozen=True)
class Pair:
    """One task of the corpus (a zoo pair, or a built-in task)."""

    name: str
    family: str
    split: str
    make: Callable[[], Any]


def pairs() -> tuple[list[Pair], str]:
    """The zoo's pairs when ``lrkit.tasks.zoo`` exists, else the built-in tasks."""
    try:
        from lrkit.tasks.zoo import ZOO  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from lrkit.tasks import builtin_tasks

        return [Pair(n, *BUILTIN_SPLIT[n], f) for n, f in sorted(builtin_tasks().items())], \
            "builtin"
    found = [Pair(p.name, p.family, p.split, p.make) for p in ZOO.values()]
    # dev and test pairs in turn, so a corpus cut short by its time budget has both
    dev = [p for p in found if p.split == "dev"]
    test = [p for p in found if p.split != "dev"]
    mixed = [p for pair in zip(dev, test, strict=False) for p in pair]
    mixed += dev[len(test):] + test[len(dev):]
    return mixed, "zoo"


def zoo_oracle(root: Path) -> dict[str, dict[str, float]]:
    """{pair: {"lr": eta*, "loss": L*}} from benchmarks/zoo/oracle.json, when it exists."""
    f = root / "benchmarks" / "zoo" / "oracle.json"
    if not f.exists():
        return {}
    raw = json.loads(f.read_text())
    items = raw.get("pairs", raw) if isinstance(raw, dict) else {}
    out = {}
    for name, rec in items.items():
        if not isinstance(rec, dict):
            continue
        lr = rec.get("eta_star", rec.get("lr"))
        loss = rec.get("L_star", rec.get("loss", rec.get("best_loss")))
        if isinstance(lr, int | float) and isinstance(loss, int | float):
            out[name] = {"lr": float(lr), "loss": float(loss)}
    return out


# ----------------------------------------------------------------------------- training
def trace_run(task: Any, lr: float, seed: int) -> dict[str, Any]:
    """Train ``task`` at peak ``lr`` like ``lrkit.tasks.train``, recording every update.

    Returns the per-update loss and LR, the validation loss before training and after
    every epoch. A non-finite loss is logged (as a real run would log it) for up to three
    updates, then the run stops, as its owner would stop it.
    """
    import torch

    from lrkit.tasks.data import epoch_batches, evaluate, fixed_batches
    from lrkit.tasks.task import steps_per_epoch
    from lrkit.tasks.training import seeded_rng

    per_epoch = steps_per_epoch(len(task.train_data), task.batch_size)
    total = task.epochs * per_epoch
    lrs = task.lr_schedule(lr, total).values(total)
    val_batches = fixed_batches(task.val_data, 512)
    losses: list[float] = []
    used: list[float] = []
    vals: list[float] = []
    bad = 0
    with seeded_rng(seed):
        model = task.model()
        opt = task.optimizer(model.parameters(), float(lr))
        ratios = [float(g["lr"]) / float(lr) for g in opt.param_groups]
        init_val = evaluate(model, task.loss_fn, val_batches)
        gen = torch.Generator().manual_seed(seed)
        model.train()
        step = 0
        for _epoch in range(task.epochs):
            for inputs, targets in epoch_batches(task.train_data, task.batch_size, gen):
                if step >= total:
                    break
                for g, r in zip(opt.param_groups, ratios, strict=True):
                    g["lr"] = r * float(lrs[step])
                opt.zero_grad(set_to_none=True)
                loss = task.loss_fn(model(inputs), targets)
                value = float(loss.detach())
                losses.append(value)
                used.append(float(lrs[step]))
                step += 1
                if not math.isfinite(value):
                    bad += 1
                    if bad >= 3:
                        break
                    continue
                loss.backward()
                opt.step()
            if bad >= 3:
                break
            val = evaluate(model, task.loss_fn, val_batches) if bad == 0 else math.nan
            vals.append(val if math.isfinite(val) else math.nan)
            if bad:
                break
    finite = [v for v in vals if math.isfinite(v)]
    diverged = bad > 0 or not vals or not math.isfinite(vals[-1])
    return {"loss": losses, "lr": used, "val": vals, "init_val": init_val,
            "steps_per_epoch": per_epoch, "epochs": task.epochs, "diverged": diverged,
            "final_val": math.inf if diverged else finite[-1],
            "optimizer": type(opt).__name__, "schedule": str(task.schedule)}


class TraceCache:
    """Traces on disk under ``<out>/traces/<task>/lr<lr>-s<seed>.json`` (restartable)."""

    def __init__(self, out: Path) -> None:
        self.root = out / "traces"

    def get(self, pair: Pair, task: Any, lr: float, seed: int) -> dict[str, Any]:
        f = self.root / pair.name / f"lr{lr:.6g}-s{seed}.json"
        if f.exists():
            rec: dict[str, Any] = json.loads(f.read_text())
            return rec
        rec = trace_run(task, lr, seed)
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(rec, default=float))
        return rec


def own_oracle(pair: Pair, task: Any, cache: TraceCache) -> dict[str, float]:
    """The best final validation loss on the half-decade grid (seed 0), widened at a wall."""
    scores: dict[float, float] = {}

    def score(lr: float) -> float:
        if lr not in scores:
            t = cache.get(pair, task, lr, 0)
            scores[lr] = t["final_val"] if math.isfinite(t["final_val"]) else math.inf
        return scores[lr]

    for lr in GRID[3:10]:  # 3e-4 ... 0.3, then widened while the best is at an end
        score(lr)
    while True:
        best = min(scores, key=lambda k: scores[k])
        j = GRID.index(best)
        nxt = [GRID[k] for k in (j - 1, j + 1) if 0 <= k < len(GRID) and GRID[k] not in scores]
        if not nxt:
            break
        for lr in nxt:
            score(lr)
    best = min(scores, key=lambda k: scores[k])
    return {"lr": best, "loss": scores[best]}


def zoo_entries(root: Path) -> dict[str, dict[str, Any]]:
    """The zoo oracle's full entries (grid losses, noise floor), when it exists."""
    f = root / "benchmarks" / "zoo" / "oracle.json"
    if not f.exists():
        return {}
    pairs_: dict[str, dict[str, Any]] = json.loads(f.read_text()).get("pairs", {})
    return pairs_


def pair_version(pair: Pair) -> str:
    """The zoo harness's fingerprint of the pair's definition ("" for a built-in task)."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from zoo import harness  # type: ignore[import-not-found,unused-ignore]

        return str(harness.version(pair.name))
    except (ImportError, KeyError, ValueError):
        return ""


def centre(pair: Pair, task: Any, cache: TraceCache, zoo: dict[str, dict[str, float]],
           entries: dict[str, dict[str, Any]]) -> tuple[dict[str, float], str]:
    """({"lr", "loss"}, where from) the LR the corpus multiplies, recorded per pair.

    The first corpus (before the zoo's oracle existed) centred on a seed-0 half-decade
    grid; its traces stay valid as long as the pair's definition is unchanged, so the
    centre is kept in ``traces/<pair>/centre.json`` with the pair's version. A pair
    whose definition changed is re-traced (its old traces and views are moved aside).
    """
    folder = cache.root / pair.name
    f = folder / "centre.json"
    version = pair_version(pair)
    if f.exists():
        rec = json.loads(f.read_text())
        if rec.get("version", version) == version:
            return {"lr": rec["lr"], "loss": rec["loss"]}, rec["from"]
        stale = folder.with_name(folder.name + f".stale-{rec.get('version')}")
        folder.rename(stale)
        for view in (cache.root.parent / "runs").glob(f"{pair.name}-m*"):
            view.rename(stale / view.name)
    if pair.name in zoo:
        orc, src = zoo[pair.name], "zoo"
    else:
        orc, src = own_oracle(pair, task, cache), "grid"
    folder.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps({"lr": orc["lr"], "loss": orc["loss"], "from": src,
                             "version": version}))
    _ = entries
    return orc, src


# ----------------------------------------------------------------------------- labels
def label(m: float, t: dict[str, Any], loss_star: float) -> tuple[str, float]:
    """(class, regret) from the measured outcome of a run at m x the oracle LR.

    The regret is the zoo harness's: ``(L - L*) / max(L*, 0.05 * L0)``, i.e. ``L/L* - 1``
    for every zoo pair (L: the run's final validation loss, L0: untrained).
    """
    if t["diverged"] or not math.isfinite(t["final_val"]):
        return ("too_high" if m > 1 else "ambiguous"), math.inf
    r = (t["final_val"] - loss_star) / max(loss_star, 0.05 * t["init_val"], 1e-12)
    if r <= HEALTHY_MAX:
        return "healthy", r
    if r >= BAD_MIN and m != 1:
        return ("too_high" if m > 1 else "too_low"), r
    return "ambiguous", r


# ----------------------------------------------------------------------------- views
@dataclass(frozen=True)
class View:
    """How one run is logged: the writer, the interval, and what it records."""

    logger: str
    every: int | str  # updates, or "epoch"
    with_lr: bool
    with_val: bool

    @property
    def tag(self) -> str:
        return f"{self.logger}-{self.every}-{'lr' if self.with_lr else 'nolr'}-" \
            f"{'val' if self.with_val else 'noval'}"


def views_for(run_id: str, total_steps: int, k: int = 2) -> list[View]:
    """``k`` views of one run, chosen deterministically from its id (varied across runs)."""
    long_every = 50 if total_steps >= 600 else 10
    options = []
    for logger in LOGGERS:
        everies: list[int | str]
        if logger == "keras":
            everies = ["epoch"]
        elif logger == "hf":
            everies = [1, 10, long_every]
        else:
            everies = [1, long_every, "epoch"] if logger.startswith("lightning") else \
                [1, long_every]
        for every in everies:
            for with_lr in (True, False):
                if logger == "hf" and not with_lr:
                    continue  # the Trainer always logs learning_rate
                for with_val in (True, False):
                    options.append(View(logger, every, with_lr, with_val))
    h = int(hashlib.sha256(run_id.encode()).hexdigest(), 16)
    picked: list[View] = []
    for j in range(len(options)):
        v = options[(h + j * 7919) % len(options)]
        if v not in picked and (not picked or v.logger != picked[-1].logger):
            picked.append(v)
        if len(picked) == k:
            break
    return picked


def _windows(n: int, every: int) -> list[tuple[int, int]]:
    """[(first, last)] update index windows of ``every`` updates (the last one may be short)."""
    return [(a, min(a + every, n) - 1) for a in range(0, n, every)]


def write_view(t: dict[str, Any], view: View, folder: Path, hparams: dict[str, Any]) -> None:
    """Write trace ``t`` through the view's real logger into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    loss = np.asarray(t["loss"], dtype=np.float64)
    lr = np.asarray(t["lr"], dtype=np.float64)
    spe = int(t["steps_per_epoch"])
    n = len(loss)
    vals = t["val"] if view.with_val else []
    epoch_of = (np.arange(n) // spe).astype(int)
    # Per-epoch training means over the updates of each epoch, as on_epoch=True logs them.
    epoch_rows = []
    for e in range(int(epoch_of[-1]) + 1 if n else 0):
        sel = loss[epoch_of == e]
        last = int(np.flatnonzero(epoch_of == e)[-1])
        epoch_rows.append((e, last, float(np.mean(sel)), float(lr[last])))
    opt = t.get("optimizer", "SGD")
    if view.logger in ("lightning_csv", "lightning_tb"):
        _lightning(view, folder, loss, lr, vals, epoch_of, epoch_rows, spe, opt, hparams)
    elif view.logger == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        w = SummaryWriter(log_dir=str(folder))
        for _a, b in _windows(n, int(view.every)):
            w.add_scalar("train/loss", float(loss[b]), b)
            if view.with_lr:
                w.add_scalar("train/lr", float(lr[b]), b)
        for e, v in enumerate(vals):
            w.add_scalar("val/loss", v, min((e + 1) * spe, n) - 1)
        w.close()
    elif view.logger == "hf":
        _hf(view, folder, loss, lr, vals, spe, t)
    elif view.logger == "keras":
        _keras(view, folder, epoch_rows, vals)
    elif view.logger == "csv":
        # One file, sparse rows (a validation row at each epoch's end), as people write it.
        with (folder / "log.csv").open("w", newline="") as fh:
            wr = csv.writer(fh)
            wr.writerow(["step", "epoch", "loss"] + (["lr"] if view.with_lr else []) +
                        (["val_loss"] if vals else []))
            val_at = {min((e + 1) * spe, n) - 1: (e, v) for e, v in enumerate(vals)}
            for _a, b in _windows(n, int(view.every)):
                wr.writerow([b, int(epoch_of[b]), repr(float(loss[b]))] +
                            ([repr(float(lr[b]))] if view.with_lr else []) +
                            ([""] if vals else []))
                for s in sorted(k for k in val_at if k <= b):
                    e, v = val_at.pop(s)
                    wr.writerow([s, e, ""] + ([""] if view.with_lr else []) + [repr(v)])
    else:
        with (folder / "log.jsonl").open("w") as fh:
            rows: list[tuple[int, dict[str, Any]]] = []
            for _a, b in _windows(n, int(view.every)):
                d: dict[str, Any] = {"step": b, "epoch": int(epoch_of[b]),
                                     "train_loss": float(loss[b])}
                if view.with_lr:
                    d["lr"] = float(lr[b])
                rows.append((b, d))
            for e, v in enumerate(vals):
                rows.append((min((e + 1) * spe, n) - 1, {"step": min((e + 1) * spe, n) - 1,
                                                         "epoch": e, "val_loss": v}))
            for _, d in sorted(rows, key=lambda r: r[0]):
                fh.write(json.dumps(d) + "\n")


def _lightning(view: View, folder: Path, loss: np.ndarray, lr: np.ndarray, vals: list[float],
               epoch_of: np.ndarray, epoch_rows: list[tuple[int, int, float, float]],
               spe: int, opt: str, hparams: dict[str, Any]) -> None:
    if view.logger == "lightning_csv":
        from lightning.pytorch.loggers import CSVLogger

        logger: Any = CSVLogger(str(folder), name="lightning_logs", version=0)
    else:
        from lightning.pytorch.loggers import TensorBoardLogger

        logger = TensorBoardLogger(str(folder), name="lightning_logs", version=0,
                                   default_hp_metric=False)
    logger.log_hyperparams(hparams)
    n = len(loss)
    per_step = view.every != "epoch"
    # Lightning names a metric logged with on_step and on_epoch `<name>_step`/`_epoch`.
    step_name = "train_loss_step" if per_step else None
    if per_step:
        for _a, b in _windows(n, int(view.every)):
            if view.with_lr:
                logger.log_metrics({f"lr-{opt}": float(lr[b])}, step=b)
            logger.log_metrics({step_name: float(loss[b]), "epoch": int(epoch_of[b])}, step=b)
    for e, last, mean, lr_e in epoch_rows:
        if not per_step and view.with_lr:
            logger.log_metrics({f"lr-{opt}": lr_e}, step=last)
        if e < len(vals):
            logger.log_metrics({"val_loss": vals[e], "epoch": e}, step=last)
        name = "train_loss_epoch" if per_step else "train_loss"
        logger.log_metrics({name: mean, "epoch": e}, step=last)
    logger.save()
    logger.finalize("success")


def _hf(view: View, folder: Path, loss: np.ndarray, lr: np.ndarray, vals: list[float],
        spe: int, t: dict[str, Any]) -> None:
    from transformers import TrainerState

    n = len(loss)
    every = 1 if view.every == "epoch" else int(view.every)
    state = TrainerState(max_steps=int(t["epochs"]) * spe, num_train_epochs=int(t["epochs"]),
                         logging_steps=every, global_step=n, epoch=n / spe)
    history: list[dict[str, Any]] = []
    val_at = {min((e + 1) * spe, n): v for e, v in enumerate(vals)}
    # The Trainer logs at global steps every, 2*every, ...: the mean loss of the window and
    # the LR the scheduler gives for the next update.
    for a, b in _windows(n, every):
        step = b + 1
        history.append({"epoch": round(step / spe, 4), "learning_rate": float(lr[b]),
                        "loss": round(float(np.mean(loss[a:b + 1])), 4), "step": step})
        for s in [s for s in val_at if a < s <= step]:
            history.append({"epoch": round(s / spe, 4), "eval_loss": val_at.pop(s),
                            "step": s})
    state.log_history = history
    state.save_to_json(str(folder / "trainer_state.json"))


_KERAS: Any = None


def _keras(view: View, folder: Path, epoch_rows: list[tuple[int, int, float, float]],
           vals: list[float]) -> None:
    global _KERAS
    if _KERAS is None:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        _KERAS = keras
    keras = _KERAS
    cb = keras.callbacks.CSVLogger(str(folder / "training.log"))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    cb.set_model(model)
    cb.on_train_begin()
    for e, _last, mean, lr_e in epoch_rows:
        logs: dict[str, float] = {"loss": mean}
        if view.with_lr:
            logs["learning_rate"] = lr_e
        if view.with_val and e < len(vals):
            logs["val_loss"] = vals[e]
        cb.on_epoch_end(e, logs)
    cb.on_train_end()


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/lrkit-diag2"))
    parser.add_argument("--seed", type=int, default=1, help="seed of the corpus runs")
    parser.add_argument("--views", type=int, default=2, help="loggers per run")
    parser.add_argument("--only", nargs="*", help="task names to include")
    parser.add_argument("--max-seconds", type=float, default=3000.0,
                        help="stop starting new tasks after this long (rerun to continue)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    root = Path(__file__).resolve().parents[2]
    found, source = pairs()
    if args.only:
        found = [p for p in found if p.name in set(args.only)]
    zoo = zoo_oracle(root)
    entries = zoo_entries(root)
    cache = TraceCache(args.out)
    labels: list[dict[str, Any]] = []
    started = time.perf_counter()
    for pair in found:
        if time.perf_counter() - started > args.max_seconds:
            print(f"time budget spent; stopped before {pair.name}", flush=True)
            break
        task = pair.make()
        orc, oracle_from = centre(pair, task, cache, zoo, entries)
        for m in MULTIPLIERS:
            lr = orc["lr"] * m
            t = cache.get(pair, task, lr, args.seed)
            if pair.name in entries:  # the zoo oracle's multi-seed regret curve
                blew = t["diverged"] or t["final_val"] > t["init_val"]
                cls, r = oracle_label(entries[pair.name], lr, blew)
            else:
                cls, r = label(m, t, orc["loss"])
            rid = f"{pair.name}-m{m:g}-s{args.seed}"
            total = len(t["loss"])
            for view in views_for(rid, int(t["epochs"]) * int(t["steps_per_epoch"]),
                                  args.views):
                vid = f"{rid}-{view.tag}"
                folder = args.out / "runs" / vid
                if not folder.exists():
                    write_view(t, view, folder, {"lr": lr})
                labels.append({
                    "id": vid, "run": rid, "task": pair.name, "family": pair.family,
                    "split": pair.split, "source": source, "schedule": t["schedule"],
                    "optimizer": t["optimizer"], "lr": lr, "oracle_lr": orc["lr"],
                    "oracle_loss": orc["loss"], "oracle_from": oracle_from,
                    "eta_star": entries.get(pair.name, {}).get("eta_star", orc["lr"]),
                    "multiplier": m, "seed": args.seed, "lr_class": cls, "regret": r,
                    "diverged": t["diverged"], "steps": total,
                    "steps_per_epoch": t["steps_per_epoch"], "epochs": t["epochs"],
                    "logger": view.logger, "every": view.every, "with_lr": view.with_lr,
                    "with_val": view.with_val, "final_val": t["final_val"],
                    "init_val": t["init_val"]})
            print(f"{rid:40s} {cls:10s} R={r:.3f}", flush=True)
    split = sorted({(r["family"], r["split"]) for r in labels})
    (args.out / "labels.json").write_text(json.dumps(
        {"source": source, "split": [{"family": f, "split": s} for f, s in split],
         "runs": labels}, indent=1, default=float))
    print(f"{len(labels)} logs of {len({r['run'] for r in labels})} runs in "
          f"{time.perf_counter() - started:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
