"""The LR-selection methods the auto study compares, each ``(pair, seed) -> Selection``.

All of them call lrkit's public API or the baseline library itself:

- ``lrkit auto``: the shipped ``lrkit.auto`` (``DEFAULT_DESIGN`` or any ``Design``) with
  the on-disk run cache;
- ``previous auto``: the first design, ``src/lrkit/auto`` at commit 3a0a736 (main when v2
  started), read from git into ``cache/v1pkg`` as the package ``lrkit_auto_v1`` (only its
  own ``lrkit.auto.*`` imports renamed): the code as it shipped, not a re-implementation;
- ``lrkit find``, ``fastai valley`` (lrkit's re-implementation on a 1e-7..10, 100-update
  sweep), ``torch-lr-finder steepest`` (the library's ``LRFinder`` and its own rule);
- ``textbook default`` (the calculator's LR for the optimizer);
- ``random search`` (Optuna's RandomSampler, 4 trials) and ``successive halving``
  (``lrkit.auto.successive_halving``, 8 LRs then 3) over textbook x 10^-2..10^2, each
  spending what ``lrkit auto`` spent on the same (pair, seed);
- LR-free optimizers (Prodigy, D-Adaptation Adam, schedule-free AdamW) in ``lrfree.py``.
"""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from harness import CACHE, RUNS, Selection, select, zoo

import lrkit
from lrkit.auto import DEFAULT_DESIGN, Design, JsonlRunCache, Runner, successive_halving
from lrkit.rangetest import find

V1_COMMIT = "3a0a736"
_run_cache: JsonlRunCache | None = None


def run_cache() -> JsonlRunCache:
    """auto's trial runs, on disk (one process appends)."""
    global _run_cache
    if _run_cache is None:
        _run_cache = JsonlRunCache(RUNS)
    return _run_cache


def auto_method(design: Design = DEFAULT_DESIGN, budget: float = 1.0,
                max_budget: float | None = None) -> Callable[[str, int], Selection]:
    """``lrkit.auto`` with ``design`` as a method."""

    def method(pair: str, seed: int) -> Selection:
        rec = lrkit.auto(zoo.task(pair), budget=budget, max_budget=max_budget, seed=seed,
                         design=design, cache=run_cache())
        search = rec.stage("search")
        choice = rec.stage("choice")
        info: dict[str, Any] = {"notes": list(rec.notes)}
        if search is not None:
            info.update(blocks=search.data["blocks"], steps=search.data["steps"],
                        extensions=search.data["extensions"], curve=search.data["curve"])
        if choice is not None:
            info.update({k: choice.data.get(k) for k in (
                "fit_lr", "shift", "lean", "spread", "slope", "measured_slope", "capped_by",
                "k_low", "k_high", "fit_sd", "x", "best_x", "fraction", "horizon_sd")})
        return Selection(rec.lr, rec.cost_runs, rec.seconds, info)

    return method


def _v1() -> Any:
    """The previous auto package, extracted from git (once) and imported."""
    root = CACHE / "v1pkg"
    pkg = root / "lrkit_auto_v1"
    if not (pkg / "pipeline.py").exists():
        pkg.mkdir(parents=True, exist_ok=True)
        for name in ("__init__.py", "pipeline.py", "search.py", "prior.py", "measured.py",
                     "measured_regret.json"):
            text = subprocess.run(["git", "show", f"{V1_COMMIT}:src/lrkit/auto/{name}"],
                                  capture_output=True, text=True, check=True,
                                  cwd=CACHE.parent).stdout
            text = text.replace("from lrkit.auto.", "from lrkit_auto_v1.").replace(
                'resources.files("lrkit.auto")', 'resources.files("lrkit_auto_v1")')
            (pkg / name).write_text(text)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("lrkit_auto_v1")


def m_previous_auto(pair: str, seed: int) -> Selection:
    v1 = _v1()
    from lrkit.errors import ConfigError

    try:
        rec = v1.auto(zoo.task(pair), seed=seed)
    except ConfigError as err:  # the first design refused short runs
        return Selection(math.nan, 0.0, 0.0, {"refused": str(err)})
    return Selection(rec.lr, rec.cost_runs, 0.0, {})


def m_find(pair: str, seed: int) -> Selection:
    res = find(zoo.task(pair), seed=seed)
    lr = res.peak_lr if res.peak_lr is not None else res.suggestion
    return Selection(float(lr), float(res.cost_runs or 0.0), 0.0, {})


def m_valley(pair: str, seed: int) -> Selection:
    res = find(zoo.task(pair), seed=seed, rule="valley", extend=1.0)
    return Selection(float(res.suggestion), float(res.cost_runs or 0.0), 0.0, {})


def m_torch_lr_finder(pair: str, seed: int) -> Selection:
    """torch-lr-finder itself: range_test(end_lr=10, num_iter=100, exp) + its steepest rule."""
    import torch
    from torch_lr_finder import LRFinder

    t = zoo.task(pair)
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
        # the library's own rule, as LRFinder.plot(suggest_lr=True) applies it
        lrs, losses = lrs[10:-5], losses[10:-5]
        lr = float(lrs[int(np.gradient(losses).argmin())]) if len(lrs) > 2 else math.nan
    return Selection(lr, len(finder.history["lr"]) / t.total_steps, 0.0, {})


def m_default(pair: str, seed: int) -> Selection:
    return Selection(zoo.textbook_lr(pair), 0.0, 0.0, {})


def _auto_cost(pair: str, seed: int) -> float:
    return select("lrkit auto", auto_method(), pair, seed,
                  tag=design_tag(DEFAULT_DESIGN)).cost_runs


def selection_tag(name: str, pair: str, seed: int) -> str:
    """The selection cache's tag for a baseline: an equal-cost method's selection is
    redone whenever the cost of the shipped auto it must match changes."""
    return f"cost={_auto_cost(pair, seed):.4f}" if name in EQUAL_COST else ""


def design_tag(design: Design) -> str:
    """The design's knobs and the pipeline's source: either changing re-runs a selection."""
    from pathlib import Path

    from harness import fingerprint

    here = Path(importlib.import_module("lrkit.auto.pipeline").__file__ or "").parent
    code = "".join(p.read_text() for p in sorted(here.glob("*.py")))
    return fingerprint([design.to_dict(), fingerprint(code)])


RANDOM_TRIALS = 4


def m_random_search(pair: str, seed: int) -> Selection:
    """Optuna's RandomSampler, log-uniform over textbook x 10^-2..10^2, RANDOM_TRIALS
    compressed runs splitting what auto spent on this (pair, seed)."""
    import optuna

    t = zoo.task(pair)
    centre = zoo.textbook_lr(pair)
    steps = max(4, round(_auto_cost(pair, seed) / RANDOM_TRIALS * t.total_steps))
    runner = Runner(cache=run_cache())
    spent = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal spent
        lr = trial.suggest_float("lr", centre / 100, centre * 100, log=True)
        result = runner.train(t, lr, seed, steps)
        spent += result.steps
        return result.final_val_loss if math.isfinite(result.final_val_loss) else math.inf

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=RANDOM_TRIALS)
    finite = [tr for tr in study.trials if tr.value is not None and math.isfinite(tr.value)]

    def value(tr: optuna.trial.FrozenTrial) -> float:
        assert tr.value is not None  # `finite` keeps only trials with a value
        return tr.value

    best = min(finite, key=value).params["lr"] if finite else math.nan
    return Selection(float(best), spent / t.total_steps, 0.0, {})


def m_successive_halving(pair: str, seed: int) -> Selection:
    """8 LRs over textbook x 10^-2..10^2 at b, the best 3 at 3b: 17b = what auto spent."""
    t = zoo.task(pair)
    centre = zoo.textbook_lr(pair)
    candidates = [centre * 10 ** x for x in np.linspace(-2, 2, 8)]
    b = _auto_cost(pair, seed) / 17
    trials = successive_halving(t, candidates, (b, 3 * b), (3,), seed=seed,
                                runner=Runner(cache=run_cache()))
    last = [tr for tr in trials if tr.rung == 1 and math.isfinite(tr.loss)] or \
        [tr for tr in trials if math.isfinite(tr.loss)]
    best = min(last, key=lambda tr: tr.loss).lr if last else math.nan
    return Selection(float(best), sum(tr.cost_runs for tr in trials), 0.0, {})


# methods whose budget is what the shipped auto spent on the same (pair, seed)
EQUAL_COST = frozenset({"random search (equal cost)", "successive halving (equal cost)"})

# name -> (method, deterministic: one selection per pair serves every seed)
METHODS: dict[str, tuple[Callable[[str, int], Selection], bool]] = {
    "lrkit auto": (auto_method(), False),
    "previous auto": (m_previous_auto, False),
    "lrkit find": (m_find, False),
    "textbook default": (m_default, True),
    "random search (equal cost)": (m_random_search, False),
    "successive halving (equal cost)": (m_successive_halving, False),
    "torch-lr-finder steepest": (m_torch_lr_finder, False),
    "fastai valley (re-impl.)": (m_valley, False),
}


def _lr_free() -> None:
    from lrfree import LR_FREE

    for name, fn in LR_FREE.items():
        METHODS[name] = (fn, True)


_lr_free()
