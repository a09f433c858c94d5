"""The live doctor's cost per training step, on a small model (``digits-mlp``: 64-64-10 MLP,
batch 32, SGD), in a plain loop and as a Lightning callback.

Two measurements. **Direct** (robust on a loaded machine): the time spent inside the
doctor -- ``doctor.step(loss.item(), lr)``, ``loss.item()`` included; for Lightning the
``LRDoctor`` callback's ``on_train_batch_end`` -- per step, as the *median* over the steps
without a check (a mean would count the other jobs' preemptions that land in a 2 us
window) plus *all* the time of the steps that ran a check, over the median step time.
**Difference** (noisy when other jobs share the CPU): the per-step time of
the same run with and without the doctor, medians over alternating repeats. Plain loop:
12000 updates; Lightning: ``fit`` for 100 epochs (4200 updates). One torch thread. The
doctor's one-off set-up (``Doctor()`` warms the detectors: ~0.3-0.6 s, once per process)
is reported apart. Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/integrations/doctor_overhead.py
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

import lrkit
from lrkit.tasks import load_task

REPEATS = 3
STEPS = 12000


def plain(with_doctor: bool) -> tuple[float, int, float]:
    task = load_task("digits-mlp")
    assert task.loss_fn is not None  # built-in tasks have a loss_fn (no forward hook)
    torch.manual_seed(0)
    model = task.model()
    opt = task.optimizer(model.parameters(), 0.05)
    x, y = task.train_data.tensors
    n = len(x) // 32
    doctor = lrkit.Doctor() if with_doctor else None
    inside: list[float] = []
    checked = 0.0
    started = time.perf_counter()
    for t in range(STEPS):
        i = (t % n) * 32
        loss = task.loss_fn(model(x[i:i + 32]), y[i:i + 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if doctor is not None:
            before = doctor.checks
            t0 = time.perf_counter()
            doctor.step(loss.item(), lr=opt.param_groups[0]["lr"])
            spent = time.perf_counter() - t0
            if doctor.checks > before:
                checked += spent
            else:
                inside.append(spent)
    total = time.perf_counter() - started
    share = _share(inside, checked, total, STEPS)
    return total / STEPS, doctor.checks if doctor is not None else 0, share


def _share(hot: list[float], checked: float, total: float, steps: int) -> float:
    """Doctor time per step (median hot path + checks spread over the run) / step time."""
    if not hot:
        return 0.0
    per_step = statistics.median(hot) + checked / steps
    return per_step / (total / steps - per_step)


def lightning(with_doctor: bool) -> tuple[float, float]:
    import lightning.pytorch as L
    from torch.utils.data import DataLoader

    import lrkit.integrations.lightning as lrl

    task = load_task("digits-mlp")
    assert task.loss_fn is not None  # built-in tasks have a loss_fn (no forward hook)
    loss_fn: Callable[[Any, Any], Any] = task.loss_fn  # typed for the nested class

    class M(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = task.model()

        def training_step(self, batch, i):
            return loss_fn(self.net(batch[0]), batch[1])

        def configure_optimizers(self):
            return task.optimizer(self.parameters(), 0.05)

    torch.manual_seed(0)
    callbacks = [lrl.LRDoctor()] if with_doctor else []
    hot: list[float] = []
    checked = [0.0]
    for cb in callbacks:
        hook = cb.on_train_batch_end

        def timed(*args, _hook=hook, _cb=cb, **kwargs):
            before = _cb.doctor.checks
            t0 = time.perf_counter()
            _hook(*args, **kwargs)
            spent = time.perf_counter() - t0
            if _cb.doctor.checks > before:
                checked[0] += spent
            else:
                hot.append(spent)

        cb.on_train_batch_end = timed
    tr = L.Trainer(max_epochs=100, logger=False, enable_checkpointing=False,
                   enable_progress_bar=False, enable_model_summary=False, callbacks=callbacks)
    loader = DataLoader(task.train_data, batch_size=32, shuffle=True, drop_last=True)
    started = time.perf_counter()
    tr.fit(M(), train_dataloaders=loader)
    total = time.perf_counter() - started
    return total / tr.global_step, _share(hot, checked[0], total, tr.global_step)


def main() -> None:
    torch.set_num_threads(1)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    lrkit.Doctor()
    print(f"one-off: the first Doctor() in a process takes {time.perf_counter() - t0:.2f} s")
    base, doc, shares, checks = [], [], [], 0
    for _ in range(REPEATS):
        base.append(plain(False)[0])
        s, checks, share = plain(True)
        doc.append(s)
        shares.append(share)
    b, d = statistics.median(base), statistics.median(doc)
    print(f"plain loop ({b * 1e6:.0f} us/step, {checks} checks in {STEPS} steps): direct "
          f"{100 * statistics.median(shares):.2f}% (max over repeats "
          f"{100 * max(shares):.2f}%); difference {100 * (d - b) / b:+.2f}%")
    lb, ld, lshares = [], [], []
    for _ in range(2):
        lb.append(lightning(False)[0])
        s, share = lightning(True)
        ld.append(s)
        lshares.append(share)
    b, d = statistics.median(lb), statistics.median(ld)
    print(f"Lightning fit ({b * 1e6:.0f} us/step): direct "
          f"{100 * statistics.median(lshares):.2f}% (max {100 * max(lshares):.2f}%); "
          f"difference {100 * (d - b) / b:+.2f}%")


if __name__ == "__main__":
    main()
