"""``lrkit find``: run the LR range test on a task and print the suggestion."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from lrkit.cli._common import (
    MAX_SEED,
    bounded,
    check_outputs,
    console,
    echo_json,
    err_console,
    task_option,
)

RANK = 30


def register(app: typer.Typer) -> None:
    app.command("find")(find)


def find(
    task: str = task_option(),
    start_lr: float = typer.Option(1e-7, "--start-lr", help="First LR of the sweep."),
    end_lr: float = typer.Option(10.0, "--end-lr", help="Last LR of the sweep (auto-extended "
                                 "up to 100x when the loss has not diverged by then)."),
    steps: int = typer.Option(100, "--steps", help="Optimizer updates from start to end LR.",
                              callback=bounded(2, 1_000_000, example="100")),
    repeats: int = typer.Option(1, "--repeats", help="Sweeps with different batch orders; "
                                "the median and the spread are reported.",
                                callback=bounded(1, 1_000, example="3")),
    seed: int = typer.Option(0, "--seed", help="Initialisation seed.",
                             callback=bounded(0, MAX_SEED, example="0")),
    mode: str = typer.Option("exp", "--mode", help="exp (geometric) or linear sweep."),
    rule: str = typer.Option("lrkit", "--rule", help="Suggestion rule: lrkit, steepest, "
                             "minimum, or the re-implemented valley, slide, torch_lr_finder."),
    val_every: int = typer.Option(0, "--val-every", help="Probe the validation loss on fixed "
                                  "held-out batches every N updates (0 = off).",
                                  callback=bounded(0, 1_000_000, example="10")),
    plot: Path | None = typer.Option(None, "--plot", help="Write the plot (.png, .svg, .pdf)."),
    save: Path | None = typer.Option(None, "--save", help="Write the full result as JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Sweep the LR on a task's model and suggest an LR, a range and the schedule's peak.

    Example: lrkit find --task digits-mlp --repeats 3 --plot find.png
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from lrkit import rangetest
    from lrkit.tasks import load_task

    check_outputs(plot=plot, save=save)  # before the run, not after it
    loaded = load_task(task)
    with Progress(TextColumn("[bold]range test[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} updates"), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        job = bar.add_task(loaded.name, total=steps * repeats)

        def progress(done: int, planned: int, lr: float, loss: float) -> None:
            bar.update(job, completed=done, total=max(planned, done),
                       description=f"{loaded.name}  lr {lr:.2e}  loss {loss:.4g}")

        result = rangetest.find(loaded, start_lr=start_lr, end_lr=end_lr, steps=steps,
                                repeats=repeats, seed=seed, mode=mode, rule=rule,
                                val_every=val_every, progress=progress)
    if plot is not None:
        result.plot(plot)
    if save is not None:
        result.save(save)
    if as_json:
        doc = result.to_dict()
        doc["task"] = loaded.name
        echo_json(doc)
        return
    _print(result, loaded.name)
    if plot is not None:
        console.print(f"plot written to [bold]{escape(str(plot))}[/bold]")
    if save is not None:
        console.print(f"result written to [bold]{escape(str(save))}[/bold]")


def _print(result: object, name: str) -> None:
    from lrkit.rangetest import RangeTestResult

    assert isinstance(result, RangeTestResult)
    note = result.low_confidence_note()
    if note:  # lead with it: the number below is not to be trusted as it stands
        console.print(f"[bold yellow]{escape(note)}[/bold yellow]")
    table = Table(title=f"LR range test: {name}", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    suggested = f"{result.suggestion:.3g}"
    table.add_row("suggested LR (constant schedule)" + (" (rough guess)" if note else ""),
                  suggested if note else f"[bold]{suggested}[/bold]")
    table.add_row("range", f"{result.range[0]:.3g} .. {result.range[1]:.3g}")
    if result.peak_lr is not None and result.schedule is not None:
        table.add_row(f"peak LR for the task's {result.schedule.get('family')} schedule",
                      f"[bold]{result.peak_lr:.3g}[/bold]")
    if len(result.repeat_suggestions) > 1:
        table.add_row(f"spread over {len(result.repeat_suggestions)} repeats",
                      f"{result.spread_decades:.2f} decades")
    table.add_row("confidence", f"{result.confidence:.2f}")
    if result.cost_runs is not None:
        table.add_row("cost", f"{result.cost_runs:.2f} training runs ({result.updates} updates)")
    others = ", ".join(f"{k} {v:.2g}" for k, v in result.rules.items() if k != result.rule)
    table.add_row("other rules (same curves)", others)
    console.print(table)
    for flag in result.flags:
        if flag not in note:  # already named in the low-confidence line
            console.print(f"[yellow]warning:[/yellow] {escape(flag)}")
