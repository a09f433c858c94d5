"""Hypergradient descent on the built-in tasks: SGD-HD / Adam-HD against fixed LRs.

For every built-in task, with the task's own optimizer family and hyperparameters
(momentum, betas, weight decay):

* **default**: the same optimizer at the textbook default LR — SGD 0.01 (Keras's ``SGD``
  default; torch's own ``SGD`` default is 1e-3), Adam/AdamW 1e-3 (torch's and Keras's
  default) — with a constant LR and with the task's own schedule;
* **oracle**: the best LR of a factor-2 grid (2**-20 .. 2**5) for the constant schedule
  and for the task's own schedule, read from the range-test engineer's cached grid
  ``benchmarks/rangetest/oracle.json`` (same ``lrkit.tasks.train``, seeds 0-2; the
  oracle is chosen on those same seeds, so it is optimistic by the winner's curse);
* **HD**: SGD-HD / Adam-HD started from the default LR, constant base, additive rule with
  the hyper-LR Baydin et al. used (1e-3 for SGD, 1e-7 for Adam), a 100x larger one (also
  with the safeguard ``lr_range=(0, ceiling)``, the ceiling being ``lrkit sharpness``'s
  ``max_stable_lr`` at initialisation for the task's optimizer), and the multiplicative
  rule (0.02).

HD runs use ``train_with`` below, the same loop as ``lrkit.tasks.train`` (same seeds,
initialisation, batch order and evaluation; checked against it at start-up) but letting
the optimizer own its LR. The score is the final validation loss (mean over seeds 0-2)
and the normalised regret ``R = (L - L*) / (L_med - L*)`` against the constant-schedule
oracle (``L*`` best grid mean, ``L_med`` median of the finite grid means): 0 is the
oracle, 1 a typical grid point.

Usage:
    .venv/bin/python benchmarks/optim/bench_hd.py [--tasks digits-mlp,...] [--seeds 3]

Writes ``benchmarks/optim/hd_results.json`` and ``hd_lr_traces.png`` (the LR traces of
seed 0) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lrkit._io import write_atomic
from lrkit.optim import SGDHD, AdamHD
from lrkit.tasks import Task, builtin_tasks, train
from lrkit.tasks.data import epoch_batches, evaluate, fixed_batches

HERE = Path(__file__).resolve().parent
ORACLE = HERE.parent / "rangetest" / "oracle.json"
DEFAULT_LR = {"SGD": 0.01, "Adam": 1e-3, "AdamW": 1e-3}
FALLBACK_GRID = [2.0 ** k for k in range(-16, 3)]


def family(task: Task) -> tuple[str, dict[str, Any]]:
    """The task optimizer's class name and hyperparameters."""
    probe = task.optimizer([torch.nn.Parameter(torch.zeros(1))], 1e-3)
    group = {k: v for k, v in probe.param_groups[0].items() if k != "params"}
    return type(probe).__name__, group


def hd_factory(name: str, group: dict[str, Any], lr: float, hyper: float,
               multiplicative: bool, high: float = math.inf) -> Callable[[Any], Any]:
    """An HD optimizer with the same hyperparameters as the task's optimizer."""
    if name == "SGD":
        return lambda params: SGDHD(params, lr=lr, momentum=group["momentum"],
                                    dampening=group["dampening"],
                                    weight_decay=group["weight_decay"],
                                    nesterov=group["nesterov"], hypergrad_lr=hyper,
                                    multiplicative=multiplicative, lr_range=(0.0, high))
    return lambda params: AdamHD(params, lr=lr, betas=group["betas"], eps=group["eps"],
                                 weight_decay=group["weight_decay"],
                                 decoupled_weight_decay=name == "AdamW",
                                 hypergrad_lr=hyper, multiplicative=multiplicative,
                                 lr_range=(0.0, high))


def ceiling(task: Task) -> float:
    """The curvature ceiling of the task at initialisation (``lrkit sharpness`` defaults)."""
    from lrkit.curvature.report import measure_task

    return measure_task(task).bounds.max_stable_lr


def train_with(task: Task, make_optimizer: Callable[[Any], Any], seed: int) -> dict[str, Any]:
    """``lrkit.tasks.train`` with a constant schedule, but the optimizer owns the LR."""
    assert task.loss_fn is not None  # the built-in tasks used here have one (no forward hook)
    val_batches = fixed_batches(task.val_data, 512)
    started = time.perf_counter()
    val_losses: list[float] = []
    diverged = False
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = task.model()
        optimizer = make_optimizer(model.parameters())
        generator = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(task.epochs):
            for inputs, targets in epoch_batches(task.train_data, task.batch_size, generator):
                optimizer.zero_grad(set_to_none=True)
                loss = task.loss_fn(model(inputs), targets)
                if not math.isfinite(float(loss.detach())):
                    diverged = True
                    break
                loss.backward()
                optimizer.step()
            val = math.inf if diverged else evaluate(model, task.loss_fn, val_batches)
            diverged = diverged or not math.isfinite(val)
            val_losses.append(math.inf if diverged else val)
            if diverged:
                break
    trace = list(getattr(optimizer, "lr_trace", []))
    return {"final": val_losses[-1], "diverged": diverged, "val_losses": val_losses,
            "seconds": time.perf_counter() - started,
            "final_lr": trace[-1] if trace else None,
            "lr_trace": trace[:: max(1, len(trace) // 50)]}


def oracle_for(name: str, task: Task, shape: str, seeds: list[int]) -> dict[str, Any]:
    """Best LR and loss of the grid for a schedule shape: cached, else computed here."""
    if ORACLE.exists():
        doc = json.loads(ORACLE.read_text())
        entry = doc.get("tasks", {}).get(name, {}).get("shapes", {}).get(shape)
        if entry is not None:
            return {"best_lr": entry["best_lr"], "best_loss": entry["best_loss"],
                    "median_loss": entry["median_loss"], "source": str(ORACLE.name)}
    shaped = dataclasses.replace(task, schedule=shape)
    means = []
    for lr in FALLBACK_GRID:
        means.append(statistics.mean(train(shaped, lr, s).final_val_loss for s in seeds))
    finite = [m for m in means if math.isfinite(m)]
    best = min(range(len(means)), key=lambda i: means[i])
    return {"best_lr": FALLBACK_GRID[best], "best_loss": means[best],
            "median_loss": statistics.median(finite), "source": "own grid 2**-16..2**2"}


def summarise(runs: list[dict[str, Any]], oracle: dict[str, Any]) -> dict[str, Any]:
    finals = [r["final"] for r in runs]
    mean = statistics.mean(finals)
    span = oracle["median_loss"] - oracle["best_loss"]
    out = {"mean_final_val_loss": mean, "finals": finals,
           "diverged": sum(r["diverged"] for r in runs),
           "regret": (mean - oracle["best_loss"]) / span if span > 0 else math.nan,
           "seconds_per_run": statistics.mean(r["seconds"] for r in runs)}
    lrs = [r["final_lr"] for r in runs if r.get("final_lr") is not None]
    if lrs:
        out["final_lr_median"] = statistics.median(lrs)
        out["lr_trace_seed0"] = runs[0]["lr_trace"]
    return out


def bench_task(name: str, seeds: list[int]) -> dict[str, Any]:
    task = builtin_tasks()[name]()
    opt_name, group = family(task)
    lr0 = DEFAULT_LR[opt_name]
    constant = dataclasses.replace(task, schedule="constant")
    # The HD loop must be lrkit.tasks.train for a fixed LR: check it once per task.
    ref = train(constant, lr0, 0).final_val_loss
    mine = train_with(constant, lambda p: task.optimizer(p, lr0), 0)["final"]
    assert math.isclose(ref, mine, rel_tol=1e-6), (name, ref, mine)
    own = str(task.schedule)
    oracle_c = oracle_for(name, task, "constant", seeds)
    oracle_o = oracle_for(name, task, own, seeds)
    rows: dict[str, Any] = {}

    def fixed(label: str, t: Task, lr: float) -> None:
        runs = []
        for s in seeds:
            r = train(t, lr, s)
            runs.append({"final": r.final_val_loss, "diverged": r.diverged,
                         "seconds": r.seconds})
        rows[label] = {"lr": lr, **summarise(runs, oracle_c)}

    fixed(f"{opt_name} default {lr0:g}, constant", constant, lr0)
    if own != "constant":
        fixed(f"{opt_name} default {lr0:g}, {own}", task, lr0)
    fixed(f"{opt_name} oracle {oracle_c['best_lr']:.3g}, constant", constant,
          oracle_c["best_lr"])
    if own != "constant":
        fixed(f"{opt_name} oracle {oracle_o['best_lr']:.3g}, {own}", task, oracle_o["best_lr"])
    paper = 1e-3 if opt_name == "SGD" else 1e-7
    top = ceiling(task)
    configs = [(f"additive beta={paper:g} (paper)", paper, False, math.inf),
               (f"additive beta={paper * 100:g}", paper * 100, False, math.inf),
               (f"additive beta={paper * 100:g}, lr_range=(0, ceiling {top:.3g})", paper * 100,
                False, top),
               ("multiplicative beta=0.02", 0.02, True, math.inf)]
    hd_name = "SGD-HD" if opt_name == "SGD" else "Adam-HD"
    for label, hyper, mult, high in configs:
        make = hd_factory(opt_name, group, lr0, hyper, mult, high)
        runs = [train_with(task, make, s) for s in seeds]
        rows[f"{hd_name} from {lr0:g}, {label}"] = {"lr": lr0, **summarise(runs, oracle_c)}
    return {"task": name, "optimizer": opt_name, "hyperparameters": _jsonable(group),
            "own_schedule": own, "oracle_constant": oracle_c, "oracle_own": oracle_o,
            "total_steps": task.total_steps, "rows": rows}


def _jsonable(group: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, int | float | str | bool | None) else repr(v))
            for k, v in group.items()}


def markdown(results: list[dict[str, Any]]) -> str:
    lines = []
    for res in results:
        oc = res["oracle_constant"]
        lines.append(f"\n#### {res['task']} ({res['optimizer']}, {res['total_steps']} steps; "
                     f"oracle constant: lr {oc['best_lr']:.3g}, loss {oc['best_loss']:.4f}, "
                     f"grid median {oc['median_loss']:.4f}, from {oc['source']})\n")
        lines.append("| run | final val loss (mean of seeds) | regret R | diverged | "
                     "final LR (median) |")
        lines.append("|---|---|---|---|---|")
        for label, row in res["rows"].items():
            lr = row.get("final_lr_median")
            lines.append(f"| {label} | {row['mean_final_val_loss']:.4f} | "
                         f"{row['regret']:.3f} | {row['diverged']} | "
                         f"{'' if lr is None else format(lr, '.3g')} |")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """LR traces (seed 0) of every HD run, with the default and the constant oracle LR."""
    from lrkit.report._mpl import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        steps = res["total_steps"]
        for label, row in res["rows"].items():
            trace = row.get("lr_trace_seed0")
            if trace:
                stride = max(1, steps // 50)
                ax.plot([i * stride for i in range(len(trace))], trace,
                        label=label.split(", ", 1)[1])
        ax.axhline(res["oracle_constant"]["best_lr"], color="k", ls="--", lw=1,
                   label="oracle (constant)")
        ax.set_yscale("log")
        ax.set_title(res["task"])
        ax.set_xlabel("step")
        ax.legend(fontsize=5, loc="best")
    axes[0][0].set_ylabel("learning rate")
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(sorted(builtin_tasks())))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw hd_lr_traces.png from hd_results.json")
    args = parser.parse_args()
    if args.plot_only:
        plot(json.loads((HERE / "hd_results.json").read_text())["results"],
             HERE / "hd_lr_traces.png")
        return
    torch.set_num_threads(1)  # tiny models; one thread is steadier on a shared CPU
    seeds = list(range(args.seeds))
    results = []
    for name in args.tasks.split(","):
        started = time.perf_counter()
        results.append(bench_task(name, seeds))
        print(f"done: {name} ({time.perf_counter() - started:.0f}s)", flush=True)
    doc = {"created": str(datetime.date.today()), "machine": platform.machine(),
           "torch": torch.__version__, "seeds": seeds, "default_lr": DEFAULT_LR,
           "results": results}
    write_atomic(HERE / "hd_results.json", json.dumps(doc, indent=1))
    plot(results, HERE / "hd_lr_traces.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
