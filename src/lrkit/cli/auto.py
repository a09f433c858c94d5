"""``lrkit auto``: one LR recommendation for a task, with its cost, and an HTML report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from lrkit.cli._common import (
    MAX_SEED,
    bounded,
    compact_spec,
    console,
    echo_json,
    err_console,
    task_option,
)

RANK = 5


def register(app: typer.Typer) -> None:
    app.command("auto")(auto)


def auto(
    task: str = task_option(),
    budget: float = typer.Option(1.0, "--budget", help="What to spend when the estimate is "
                                 "tight, in training-run equivalents (gradient work of one "
                                 "full run). Any value > 0 runs: a short task or budget gets "
                                 "a smaller design, and the output says what it dropped."),
    max_budget: float | None = typer.Option(None, "--max-budget", help="The most it may "
                                            "spend when a miss would be costly (default: "
                                            "twice --budget)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every run of the pipeline.",
                             callback=bounded(0, MAX_SEED, example="0")),
    curvature: bool | None = typer.Option(
        None, "--curvature/--no-curvature",
        help="Measure the sharpness ceiling (off unless asked: it cost up to a third of a "
             "run and bounded no pick on the zoo's dev tasks)."),
    report: Path | None = typer.Option(Path("lrkit-report"), "--report",
                                       help="Folder of the HTML report."),
    no_report: bool = typer.Option(False, "--no-report", help="Write no report."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
    schedule: str = typer.Option(
        "task", "--schedule", help="'task': search the LR of the task's schedule. 'auto': "
        "also pick the shape (constant, step, cosine, warmup+cosine, onecycle, wsd) with "
        "lrkit compare's machinery, at a stated extra cost of about 6 x budget + 12 runs."),
    workers: int = typer.Option(1, "--workers", help="Train each batch of candidate runs "
                                "on this many local processes (with --backend ray: runs in "
                                "flight per CPU). Same runs, pick and cost; less wall-clock."),
    backend: str = typer.Option("local", "--backend", help="local, or ray (ray.init; "
                                "RAY_ADDRESS for a cluster)."),
    design: list[str] = typer.Option(
        [], "--design", help="Set a knob of the pipeline's design, KNOB=VALUE (repeat it), "
        "e.g. confirm_edge=true: docs/auto.md lists the knobs and what each measured."),
    storage: str | None = typer.Option(
        None, "--storage", help="An Optuna storage URL (postgresql://USER:PW@HOST/DB) shared "
        "by 'lrkit auto' processes started with the same options on several machines: each "
        "trains the candidates nobody has claimed; all print the same recommendation."),
) -> None:
    """Recommend the LR (with the task's schedule and warmup) at a stated cost.

    Example: lrkit auto --task digits-mlp
    """
    from rich.progress import BarColumn, Progress, TextColumn

    from lrkit.auto import auto as run_auto
    from lrkit.auto.design import design_from_knobs
    from lrkit.auto.executor import Executor
    from lrkit.auto.measured import best_measured_budget
    from lrkit.auto.pipeline import check_budget
    from lrkit.errors import ConfigError
    from lrkit.tasks import load_task

    knobs = design_from_knobs(design)  # before anything runs: a typo fails in a second
    executor = Executor(workers=workers, backend=backend, storage=storage, task_ref=task)
    if schedule == "auto" and not executor.in_process:
        raise ConfigError("--schedule auto with --workers/--backend/--storage: the shape "
                          "selection trains in this process only; use --schedule task "
                          "with them, or drop them")

    if report is not None and not no_report:
        from lrkit.cli._common import check_outputs

        check_outputs(report=report)  # before the runs: a bad folder fails in a second
    loaded = load_task(task)
    check_budget(loaded, budget, max_budget)  # before the progress display: one line
    top = 2.0 * budget if max_budget is None else max_budget
    # --schedule auto (issue 18): lrkit.compare picks the shape; auto then runs on it as usual
    from lrkit.cli.compare import choose_shape

    shape_choice = choose_shape(loaded, schedule, budget=budget, seed=seed, quiet=as_json)
    if shape_choice is not None:
        loaded = shape_choice.task
    with Progress(TextColumn("[bold]auto[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed:.2f}/{task.total:.2f} runs"),
                  console=err_console, transient=True) as bar:
        job = bar.add_task(f"{loaded.name}: prior", total=top)

        def progress(stage: str, cost: float) -> None:
            bar.update(job, completed=min(cost, top), description=f"{loaded.name}: {stage}")

        rec = run_auto(loaded, budget=budget, max_budget=max_budget, seed=seed,
                       curvature=curvature, progress=progress, executor=executor,
                       design=knobs)
    index = None
    if report is not None and not no_report:
        from lrkit.report.auto_report import write_report

        index = write_report(rec, report, loaded)
    if as_json:
        doc = rec.to_dict()
        doc["report"] = None if index is None else str(index)
        doc["schedule_selection"] = None if shape_choice is None else shape_choice.to_dict()
        doc["executor"] = executor.describe()
        echo_json(doc)
        return
    table = Table(title=f"lrkit auto: {rec.task}", title_justify="left")
    table.add_column("stage")
    table.add_column("finding")
    table.add_column("cost (runs)", justify="right")
    for stage in rec.stages:
        table.add_row(escape(stage.name), escape(stage.summary), f"{stage.cost_runs:.3f}")
    console.print(table)
    console.print(f"[bold]recommended peak LR: {rec.lr:.4g}[/bold]  "
                  f"(warmup {rec.warmup_steps} updates; cost {rec.cost_runs:.2f} "
                  f"training runs, {rec.seconds:.0f} s"
                  + ("" if executor.in_process else f" on {executor.describe()}") + ")")
    for note in rec.notes:
        console.print(f"note: {escape(note)}")
    console.print("how close: " + ("not measured (every candidate diverged)"
                                   if rec.measured is None else escape(rec.measured.summary())))
    best = best_measured_budget()
    if rec.measured is not None and best.budget > rec.measured.budget:
        console.print(f"for a closer LR: --budget {best.budget:g} measured regret median "
                      f"{best.median:.1%}, 90th percentile {best.p90:.1%}")
    # the compact spec, one line, no markup: it is meant to be pasted into `lrkit schedule`
    console.print(f"schedule: {compact_spec(rec.schedule)}", markup=False, soft_wrap=True)
    if index is not None:
        console.print(f"report written to [bold]{escape(str(index))}[/bold]")
