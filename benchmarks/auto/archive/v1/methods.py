"""The LR-selection methods compared by the auto benchmark.

Each method maps (task name, shape, seed) to a Choice: the peak LR it would train with
(or, for LR-free optimizers, a ready training run) and its selection cost in
training-run equivalents (updates spent choosing / updates of one real run).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle import SEEDS_B
from runs import make_task

from lrkit.auto import optimizer_prior, successive_halving
from lrkit.auto.pipeline import auto
from lrkit.rangetest import find
from lrkit.tasks.data import epoch_batches, evaluate, fixed_batches


@dataclasses.dataclass(frozen=True)
class Choice:
    """A method's answer: the LR to train with, or the final losses of its own runs."""

    lr: float
    cost_runs: float
    finals: tuple[float, ...] | None = None  # LR-free methods: their own runs' losses


def m_auto(task: str, shape: str, seed: int) -> Choice:
    rec = auto(make_task(task, shape), seed=seed)
    return Choice(rec.lr, rec.cost_runs)


def m_find(task: str, shape: str, seed: int) -> Choice:
    t = make_task(task, shape)
    res = find(t, seed=seed)
    lr = res.peak_lr if res.peak_lr is not None else res.suggestion
    return Choice(lr, float(res.cost_runs or 0.0))


def m_valley(task: str, shape: str, seed: int) -> Choice:
    """fastai's valley rule (lrkit's faithful re-implementation) on a 1e-7..10, 100-step sweep."""
    t = make_task(task, shape)
    res = find(t, seed=seed, rule="valley", extend=1.0)
    return Choice(res.suggestion, float(res.cost_runs or 0.0))


def m_torch_lr_finder(task: str, shape: str, seed: int) -> Choice:
    """torch-lr-finder 0.2.2 itself: range_test(end_lr=10, num_iter=100, exp) + steepest."""
    import torch
    from torch_lr_finder import LRFinder

    t = make_task(task, shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = t.model()
        optimizer = t.optimizer(model.parameters(), 1e-7)
        gen = torch.Generator().manual_seed(seed)
        loader = torch.utils.data.DataLoader(t.train_data, batch_size=t.batch_size,
                                             shuffle=True, generator=gen, drop_last=True)
        finder = LRFinder(model, optimizer, t.loss_fn, device="cpu")
        finder.range_test(loader, end_lr=10, num_iter=100, step_mode="exp")
        lrs = np.asarray(finder.history["lr"])
        losses = np.asarray(finder.history["loss"])
        # the library's own suggestion rule, as in LRFinder.plot(suggest_lr=True)
        skip_start, skip_end = 10, 5
        lrs, losses = lrs[skip_start:-skip_end], losses[skip_start:-skip_end]
        lr = float(lrs[int(np.gradient(losses).argmin())]) if len(lrs) > 2 else math.nan
    updates = len(finder.history["lr"])
    return Choice(lr, updates / t.total_steps)


def m_default(task: str, shape: str, seed: int) -> Choice:
    return Choice(optimizer_prior(make_task(task, shape)).lr, 0.0)


def m_successive_halving(task: str, shape: str, seed: int) -> Choice:
    """Plain successive halving over the optimizer's textbook range, at auto's budget."""
    t = make_task(task, shape)
    prior = optimizer_prior(t)
    lo, hi = math.log2(prior.low), math.log2(prior.high)
    candidates = [2.0 ** x for x in np.linspace(lo, hi, 6)]
    b0 = 1.0 / (len(candidates) + 4 * 2)
    trials = successive_halving(t, candidates, (b0, 4 * b0), (2,), seed=seed)
    last = [tr for tr in trials if tr.rung == 1 and math.isfinite(tr.loss)] or trials
    best = min(last, key=lambda tr: tr.loss)
    return Choice(best.lr, sum(tr.cost_runs for tr in trials))


RANDOM_TRIALS = 4


def m_random_search(task: str, shape: str, seed: int) -> Choice:
    """Random search at auto's budget: Optuna's RandomSampler, log-uniform over the
    optimizer's textbook range, RANDOM_TRIALS runs each compressed to 1/RANDOM_TRIALS of
    a run (the whole schedule in it); the lowest final validation loss wins."""
    import optuna

    from lrkit.tasks import train

    t = make_task(task, shape)
    prior = optimizer_prior(t)
    steps = max(1, round(t.total_steps / RANDOM_TRIALS))
    spent = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal spent
        result = train(t, trial.suggest_float("lr", prior.low, prior.high, log=True), seed,
                       total_steps=steps)
        spent += result.steps
        return result.final_val_loss if math.isfinite(result.final_val_loss) else math.inf

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=RANDOM_TRIALS)
    finite = [tr for tr in study.trials if tr.value is not None and math.isfinite(tr.value)]
    best = min(finite, key=lambda tr: tr.value).params["lr"] if finite else math.nan
    return Choice(float(best), spent / t.total_steps)


def _lr_free(task: str, shape: str, seed: int, make_opt: Callable[[Any], Any],
             *, schedule_free: bool = False) -> Choice:
    """Train with an LR-free optimizer on the scoring seeds B; return its final losses."""
    import torch

    from lrkit.tasks import train

    finals = []
    for s in SEEDS_B:
        t = make_task(task, shape, optimizer=lambda params, lr: make_opt(params))
        if not schedule_free:
            finals.append(train(t, 1.0, s).final_val_loss)
            continue
        with torch.random.fork_rng(devices=[]):  # schedule-free needs train()/eval() calls
            torch.manual_seed(s)
            model = t.model()
            opt = make_opt(model.parameters())
            gen = torch.Generator().manual_seed(s)
            val = fixed_batches(t.val_data, 512)
            loss = math.inf
            for _ in range(t.epochs):
                model.train()
                opt.train()
                for x, y in epoch_batches(t.train_data, t.batch_size, gen):
                    opt.zero_grad(set_to_none=True)
                    out = t.loss_fn(model(x), y)
                    if not torch.isfinite(out):
                        break
                    out.backward()
                    opt.step()
                model.eval()
                opt.eval()
                loss = evaluate(model, t.loss_fn, val)
            finals.append(loss if math.isfinite(loss) else math.inf)
    return Choice(math.nan, 0.0, tuple(finals))


def m_prodigy(task: str, shape: str, seed: int) -> Choice:
    from prodigyopt import Prodigy

    return _lr_free(task, shape, seed, lambda p: Prodigy(p, lr=1.0))


def m_dadapt(task: str, shape: str, seed: int) -> Choice:
    from dadaptation import DAdaptAdam

    return _lr_free(task, shape, seed, lambda p: DAdaptAdam(p, lr=1.0))


def m_schedulefree(task: str, shape: str, seed: int) -> Choice:
    from schedulefree import AdamWScheduleFree

    t = make_task(task, shape)
    warm = max(1, round(0.05 * t.total_steps))
    return _lr_free(task, shape, seed, lambda p: AdamWScheduleFree(p, lr=0.0025,
                                                                   warmup_steps=warm),
                    schedule_free=True)


METHODS: dict[str, Callable[[str, str, int], Choice]] = {
    "lrkit auto": m_auto,
    "lrkit find": m_find,
    "torch-lr-finder steepest": m_torch_lr_finder,
    "fastai valley (re-impl.)": m_valley,
    "textbook default": m_default,
    "successive halving (same budget)": m_successive_halving,
    "random search (same budget)": m_random_search,
    "Prodigy": m_prodigy,
    "D-Adaptation Adam": m_dadapt,
    "schedule-free AdamW": m_schedulefree,
}
