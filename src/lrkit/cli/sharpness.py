"""``lrkit sharpness``: the largest Hessian eigenvalue of a task and the LR ceiling it implies."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lrkit._check import INPUT as check
from lrkit.cli._common import MAX_SEED, bounded, console, echo_json, err_console, task_option
from lrkit.errors import ConfigError

RANK = 40


def register(app: typer.Typer) -> None:
    app.command("sharpness")(sharpness)


def sharpness(
    task: str = task_option(),
    batches: int = typer.Option(8, "--batches", help="Batches in the fixed Hessian batch set."),
    batch_size: int | None = typer.Option(None, "--batch-size",
                                          help="Their size (default: the task's)."),
    method: str = typer.Option("lanczos", "--method", help="lanczos or power."),
    max_hvps: int = typer.Option(30, "--max-hvps", help="Hessian-vector products at most."),
    tol: float = typer.Option(1e-3, "--tol", help="Relative stopping tolerance."),
    warm_steps: int = typer.Option(0, "--warm-steps",
                                   help="Train this many steps first (default: measure at "
                                        "initialisation).",
                                   callback=bounded(0, 1_000_000, example="100")),
    warm_lr: float | None = typer.Option(None, "--warm-lr",
                                         help="LR of the warm steps (default: --lr-suggestion)."),
    lr_suggestion: float | None = typer.Option(None, "--lr-suggestion",
                                               help="An LR to compare with the ceiling, e.g. "
                                                    "a range-test suggestion."),
    rangetest: Path | None = typer.Option(None, "--rangetest",
                                          help="Compare with the suggestion of a range test "
                                               "saved by 'lrkit find --save'."),
    seed: int = typer.Option(0, "--seed", help="Seed of the model, batches and start vector.",
                             callback=bounded(0, MAX_SEED, example="0")),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Estimate the sharpness L of a task's loss and the learning-rate bounds it implies.

    Example: lrkit sharpness --task digits-mlp --lr-suggestion 3e-3
    """
    if lr_suggestion is not None and rangetest is not None:
        raise ConfigError("--rangetest: given together with --lr-suggestion; pass only one")
    if rangetest is not None:
        lr_suggestion = _suggestion_from(rangetest)
    from lrkit.curvature.report import measure_task
    from lrkit.tasks import load_task

    loaded = load_task(task)
    if as_json:
        report = _measure(measure_task, loaded, batches, batch_size, warm_steps, warm_lr,
                          lr_suggestion, method, max_hvps, tol, seed)
        echo_json(report.to_dict())
        return
    with err_console.status(f"estimating the sharpness of {loaded.name}..."):
        report = _measure(measure_task, loaded, batches, batch_size, warm_steps, warm_lr,
                          lr_suggestion, method, max_hvps, tol, seed)
    _print(report)


def _measure(measure_task: Any, task: Any, batches: int, batch_size: int | None,
             warm_steps: int, warm_lr: float | None, lr_suggestion: float | None, method: str,
             max_hvps: int, tol: float, seed: int) -> Any:
    check.count("batches", batches, example="8")
    if batch_size is not None:
        check.count("batch_size", batch_size, example="64")
    return measure_task(task, n_batches=batches, batch_size=batch_size, warm_steps=warm_steps,
                        warm_lr=warm_lr, lr_suggestion=lr_suggestion, method=method,
                        max_hvps=max_hvps, tol=tol, seed=seed)


def _suggestion_from(path: Path) -> float:
    if not path.is_file():
        raise ConfigError(f"--rangetest = '{path}': file does not exist; save one with "
                          "'lrkit find --save FILE'")
    from lrkit.rangetest import RangeTestResult

    suggestion = RangeTestResult.load(path).suggestion
    if suggestion is None or not math.isfinite(suggestion):
        raise ConfigError(f"--rangetest = '{path}': the range test made no suggestion; "
                          "pass --lr-suggestion instead")
    return float(suggestion)


def _optimum(b: Any) -> str:
    low, high = b.optimal_range
    if low == high:
        return f"{high:.4g}"
    return f"{high:.4g} (best rate for any LR in [{low:.3g}, {high:.4g}])"


def _print(report: Any) -> None:
    est = report.sharpness
    table = Table(title=f"Sharpness of {report.task} ({report.optimizer}) at {report.point}",
                  title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("L = lambda_max(H)", f"{est.value:.6g} ± {est.error:.2g}")
    table.add_row(f"  {est.method}", f"{est.hvps} HVPs, "
                  f"{'converged' if est.converged else 'not converged'}")
    b = report.sgd
    label = f"SGD{' momentum ' + format(b.momentum, 'g') if b.momentum else ''}"
    table.add_row(f"{label} max stable LR ({b.formula})", f"{b.max_stable_lr:.4g}")
    table.add_row(f"{label} quadratic optimum", _optimum(b))
    if report.preconditioned is not None and report.adam is not None:
        pre, a = report.preconditioned, report.adam
        table.add_row("lambda_max(P^-1 H) (Adam)", f"{pre.value:.6g} ± {pre.error:.2g}")
        table.add_row(f"Adam max stable LR (beta1 {a.momentum:g})", f"{a.max_stable_lr:.4g}")
        table.add_row("Adam quadratic optimum", _optimum(a))
    table.add_row("cost", f"{report.cost_grad_equivalents:g} gradient-equivalents on "
                  f"{report.examples} examples = {report.cost_runs:.2%} of a training run")
    console.print(table)
    if report.comparison is not None:
        c = report.comparison
        console.print(f"suggested LR {c['lr']:.4g} is {c['ratio_to_max_stable']:.3g}x the "
                      f"{report.applies.upper()} ceiling {report.bounds.max_stable_lr:.4g}: "
                      f"[bold]{c['verdict']}[/bold]")
    console.print("The ceiling is local to this point: sharpness adapts to the LR during "
                  "training. Minibatch estimates are biased upward (safe side).")
