"""LR-free optimizers as baselines: they replace the pair's optimizer and train directly.

Prodigy and D-Adaptation Adam run with ``lr=1`` shaped by the pair's own schedule (the
schedule's peak is 1, so the multiplier follows it); schedule-free AdamW runs with its
README defaults (lr 0.0025, 5% warmup) and no schedule, calling its ``train()`` /
``eval()`` as its README requires. Each is trained on the zoo's scoring seeds and scored
against the pair's L* like any picked LR: regret = (mean loss - L*) / scale, a run
diverging when its loss is non-finite or ends above the untrained loss L0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from harness import Selection, zoo

from lrkit.tasks import seeded_rng, train
from lrkit.tasks.data import epoch_batches, evaluate, fixed_batches

SEEDS = zoo.SCORE_SEEDS[:3]  # half the scoring seeds: 3 full runs per pair and method


def _score(pair: str, losses: list[float]) -> dict[str, Any]:
    o = zoo.oracle(pair)
    div = any(not math.isfinite(v) or v > float(o["L0"]) for v in losses)
    mean = math.inf if div else sum(losses) / len(losses)
    regret = math.inf if div else (mean - float(o["L_star"])) / float(o["scale"])
    return {"losses": losses, "diverged": div, "regret": regret, "seeds": list(SEEDS)}


def _shaped(make_opt: Callable[[Any, float], Any]) -> Callable[[str, int], Selection]:
    def method(pair: str, seed: int) -> Selection:
        task = dataclasses.replace(zoo.task(pair), optimizer=make_opt)
        losses = [train(task, 1.0, s).final_val_loss for s in SEEDS]
        return Selection(math.nan, 0.0, 0.0, _score(pair, losses))

    return method


def _prodigy(params: Any, lr: float) -> Any:
    from prodigyopt import Prodigy

    return Prodigy(params, lr=lr)


def _dadapt(params: Any, lr: float) -> Any:
    from dadaptation import DAdaptAdam

    return DAdaptAdam(params, lr=lr)


def m_schedulefree(pair: str, seed: int) -> Selection:
    import torch
    from schedulefree import AdamWScheduleFree

    task = zoo.task(pair)
    warm = max(1, round(0.05 * task.total_steps))
    val = fixed_batches(task.val_data, 512)
    losses = []
    for s in SEEDS:
        with seeded_rng(s):
            model = task.model()
            opt = AdamWScheduleFree(model.parameters(), lr=0.0025, warmup_steps=warm)
            gen = torch.Generator().manual_seed(s)
            loss = math.inf
            for _ in range(task.epochs):
                model.train()
                opt.train()
                for x, y in epoch_batches(task.train_data, task.batch_size, gen):
                    opt.zero_grad(set_to_none=True)
                    out = task.loss_fn(model(x), y)
                    if not torch.isfinite(out):
                        break
                    out.backward()
                    opt.step()
                model.eval()
                opt.eval()
                loss = evaluate(model, task.loss_fn, val)
        losses.append(loss if math.isfinite(loss) else math.inf)
    return Selection(math.nan, 0.0, 0.0, _score(pair, losses))


LR_FREE: dict[str, Callable[[str, int], Selection]] = {
    "Prodigy": _shaped(_prodigy),
    "D-Adaptation Adam": _shaped(_dadapt),
    "schedule-free AdamW": m_schedulefree,
}
