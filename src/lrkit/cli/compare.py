"""``lrkit compare``: which schedule (or LR-free optimizer) is best for a task, measured."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from lrkit.cli._common import console, echo_json, err_console, task_option

RANK = 6
_DEFAULT_SCHEDULES = "constant,step,cosine,warmup+cosine,onecycle,wsd"


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def compare(
    task: str = task_option(),
    schedules: str = typer.Option(
        _DEFAULT_SCHEDULES, "--schedules",
        help="Comma-separated presets (constant, step, multistep, exponential, time, linear, "
             "cosine, onecycle, wsd, cyclic, cosine_restarts), warmup+NAME, or specs such "
             "as 'cosine(warmup_steps=0.1)'; '' for none."),
    # "\\[": a literal bracket in rich markup, which would otherwise drop "[compare]"
    optimizers: str = typer.Option(
        "", "--optimizers", help="Adaptive optimizers to add: adam-hd, sgd-hd, prodigy, "
        "dadaptation, schedule-free (the last three: pip install 'lrkit\\[compare]')."),
    seeds: int = typer.Option(3, "--seeds", help="Evaluation seeds per row (0..N-1)."),
    grid: str | None = typer.Option(
        None, "--grid", help="Select each row's LR on this grid of full runs: "
        "0.001,0.01,0.1 or LOW:HIGH (half-decade steps). Default: 5 LRs, 1/10x..10x the "
        "textbook LR."),
    budget: float | None = typer.Option(
        None, "--budget", help="Select each row's LR with 'lrkit auto' at this budget "
        "(training-run equivalents per row) instead of a grid."),
    select_seed: int = typer.Option(1000, "--select-seed",
                                    help="Seed of the selection runs (not an evaluation seed)."),
    epochs: int | None = typer.Option(None, "--epochs", help="Override the task's epochs."),
    workers: int = typer.Option(1, "--workers", help="Parallel local processes (with "
                                "--backend ray: Ray tasks in flight per CPU)."),
    backend: str = typer.Option("local", "--backend", help="local, or ray (ray.init; "
                                "RAY_ADDRESS for a cluster)."),
    store: Path | None = typer.Option(
        None, "--store", help="JSON-lines file of finished runs; rerun with the same file to "
        "continue (default: lrkit-compare/<task>.jsonl)."),
    storage: str | None = typer.Option(
        None, "--storage", help="An Optuna storage URL (postgresql://USER:PW@HOST/DB) shared "
        "by several 'lrkit compare' processes; replaces --store."),
    report: Path | None = typer.Option(Path("lrkit-report"), "--report",
                                       help="Folder of the HTML report (compare.html)."),
    no_report: bool = typer.Option(False, "--no-report", help="Write no report."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Train each schedule at its own best LR on several seeds, and rank them.

    Example: lrkit compare --task digits-mlp --schedules constant,cosine,wsd --seeds 3
    """
    from lrkit.compare import compare as run_compare
    from lrkit.compare.shapes import split_list
    from lrkit.errors import ConfigError

    if report is not None and not no_report and report.exists() and not report.is_dir():
        raise ConfigError(f"--report = '{report}': exists and is not a folder; "
                          "pass a folder path")
    schedule_list = split_list(schedules, "schedules") if schedules.strip() else []
    optimizer_list = split_list(optimizers, "optimizers") if optimizers.strip() else []
    if store is None and storage is None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in task.split(":")[-1])
        store = Path("lrkit-compare") / f"{safe}.jsonl"
    display = _Display()
    with display:
        result = run_compare(task, schedule_list, optimizer_list, seeds=seeds, grid=grid,
                             budget=budget, select_seed=select_seed, epochs=epochs,
                             workers=workers, backend=backend, store=store, storage=storage,
                             on_event=display.event)
    index = None
    if report is not None and not no_report:
        from lrkit.report.compare_report import write_report

        index = write_report(result, report)
    if as_json:
        doc = result.to_dict()
        doc["report"] = None if index is None else str(index)
        echo_json(doc)
        return
    _print_table(result)
    if index is not None:
        console.print(f"report written to [bold]{escape(str(index))}[/bold]")


def _fmt(value: float | None, spec: str = ".4g") -> str:
    if value is None:
        return "-"
    return "diverged" if math.isinf(value) else ("nan" if math.isnan(value)
                                                  else format(value, spec))


def _print_table(result: Any) -> None:
    how = (f"LR by auto at budget {result.budget:g} per row" if result.mode == "auto"
           else "LR by a grid of full runs")
    table = Table(title=f"lrkit compare: {result.task} ({how}, seed {result.select_seed}; "
                  f"scored on seeds {', '.join(map(str, result.seeds))})", title_justify="left")
    for col, just in (("#", "right"), ("entry", "left"), ("LR", "right"),
                      ("val loss", "right"), ("sd", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    metric = result.best.metric_name
    if metric:
        table.add_column(metric, justify="right")
    # "vs best": verdict and seeds lost; Δ: mean paired difference; p: paired t, sign test
    for col in ("vs best", "Δ", "p t", "p sign", "cost"):
        table.add_column(col, justify="left" if col == "vs best" else "right")
    for rank, row in enumerate(result.rows, 1):
        lr = f"{row.lr:.3g}" + ("*" if row.edge else "") + (
            " (own)" if row.lr_source == "default" else "")
        cells = [str(rank), escape(row.name), lr, _fmt(row.mean), _fmt(row.std, ".2g")]
        if metric:
            cells.append(_fmt(row.metric_mean, ".4f"))
        cmp = row.vs_best
        if cmp is None:
            cells += ["best", "", "", ""]
        else:
            cells += [("worse " if cmp.worse else "≈ ") + f"{cmp.losses}/{cmp.n}",
                      _fmt(cmp.mean_diff, "+.2g"), _fmt(cmp.t_p, ".2g"),
                      _fmt(cmp.sign_p, ".2g")]
        cells.append(f"{row.selection_cost_runs + row.eval_cost_runs:.2f}")
        table.add_row(*cells)
    console.print(table)
    tied = result.tied_with_best()
    console.print("vs best: paired over seeds (seeds worse / seeds); Δ: mean loss difference; "
                  "p: paired t-test, sign test")
    console.print(f"[bold]best: {escape(result.best.name)}[/bold] at LR {result.best.lr:.3g}"
                  + (f"; within seed noise of it: {escape(', '.join(tied))}" if tied else
                     "; every other row is worse beyond seed noise"))
    if any(r.edge for r in result.rows):
        console.print("* the chosen LR is at an end of its grid: widen --grid")
    if len(result.seeds) < 6:
        console.print(f"note: with {len(result.seeds)} seeds the sign test cannot reach "
                      f"p < {result.alpha:g}; the verdict rests on the paired t-test")
    console.print(f"cost: {result.cost_runs:.2f} training runs, {result.compute_seconds:.1f} s "
                  f"of compute, {result.wall_seconds:.1f} s wall; runs stored in "
                  f"{escape(str(result.store))}")


class _Display:
    """A rich progress display: one bar per running unit and an overall bar with ETA."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeRemainingColumn(),
                                 console=err_console, transient=True)
        self.overall: Any = None
        self.bars: dict[str, Any] = {}
        self.started = time.perf_counter()

    def __enter__(self) -> _Display:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.overall is not None:
            self.progress.__exit__(*exc)

    def event(self, kind: str, unit: Any, info: dict[str, Any]) -> None:
        p = self.progress
        if self.overall is None:  # started at the first unit: a bad option prints one line
            p.__enter__()
            self.overall = p.add_task("[bold]all runs[/bold]", total=0)
        if kind in ("cached", "queued", "start", "waiting") and unit.key not in self.bars:
            total = p.tasks[self.overall].total or 0
            p.update(self.overall, total=total + 1)
            self.bars[unit.key] = None
            if kind == "cached":
                p.advance(self.overall)
        if kind == "start":
            self.bars[unit.key] = p.add_task(f"  {unit.label}", total=None)
        elif kind == "epoch" and self.bars.get(unit.key) is not None:
            p.update(self.bars[unit.key], total=info["epochs"], completed=info["epoch"],
                     description=f"  {unit.label}: val {info['val_loss']:.4g}")
        elif kind == "done":
            bar = self.bars.get(unit.key)
            if bar is not None:
                p.remove_task(bar)
                self.bars[unit.key] = None
            p.advance(self.overall)


def choose_shape(task: Any, schedule: str, *, budget: float, seed: int,
                 quiet: bool = False) -> Any:
    """``lrkit auto --schedule``: None for ``task`` (keep the task's shape), else the
    ``lrkit.compare.ShapeChoice`` of ``pick_schedule``, its cost stated before and after.

    Raises:
        ConfigError: ``schedule`` is neither ``task`` nor ``auto``.
    """
    from lrkit.compare.pick import SHAPE_CANDIDATES, expected_extra_cost, pick_schedule
    from lrkit.errors import ConfigError

    if schedule == "task":
        return None
    if schedule != "auto":
        raise ConfigError(f"--schedule = {schedule!r}: use 'task' (the task's own shape) or "
                          "'auto' (pick the shape too, at an extra cost)")
    n = len(SHAPE_CANDIDATES)
    # the winner's search is repeated by auto itself afterwards, with the user's options
    extra = expected_extra_cost(budget, n, seeds=2) + budget
    names = ", ".join(SHAPE_CANDIDATES)
    err_console.print(f"--schedule auto: auto on each of {n} shapes ({names}) "
                      f"at budget {budget:g}, then 2 full runs each: about {extra:.1f} extra "
                      "training runs")
    with _Display() as display:
        choice = pick_schedule(task, budget=budget, seed=seed, on_event=display.event)
    if not quiet:
        _print_table(choice.comparison)
        console.print(f"[bold]shape: {escape(choice.shape)}[/bold] (choosing it cost "
                      f"{choice.comparison.cost_runs:.2f} training runs)")
    return choice
