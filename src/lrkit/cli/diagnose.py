"""``lrkit diagnose``: read a run's logs and say whether the learning rate is the problem."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from lrkit.cli._common import check_outputs, console, echo_json

if TYPE_CHECKING:
    from lrkit.diagnose import Diagnosis

RANK = 70

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def register(app: typer.Typer) -> None:
    app.command("diagnose", no_args_is_help=True)(diagnose)


def diagnose(
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH", help="A log file or folder: TensorBoard event files, "
        "Lightning metrics.csv, trainer_state.json, Keras CSVLogger, W&B CSV export, "
        "mlruns/ or mlflow.db, CSV, JSON lines. Several: a sweep, each run judged against "
        "the others."),
    metric: str | None = typer.Option(
        None, "--metric", help="The curve to diagnose, by name or kind (e.g. val_loss); "
                               "default: the training loss."),
    run: str | None = typer.Option(None, "--run", help="Which run, when the log holds several."),
    lr: float | None = typer.Option(
        None, "--lr", help="The run's peak LR, when the log does not record it."),
    model_kind: str | None = typer.Option(
        None, "--model-kind", help="e.g. transformer (enables the warmup check)."),
    fmt: str | None = typer.Option(None, "--format", help="Force a reader: csv, jsonl, "
                                   "tensorboard, lightning, huggingface, keras, wandb, mlflow."),
    sweep: bool = typer.Option(
        False, "--sweep", help="Judge every run in the log against the others (a log or "
                               "folder that holds a sweep: runs of one model at different "
                               "LRs, e.g. mlruns/ or lightning_logs/)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the annotated curves "
                                     "(.png, .svg, .pdf)."),
) -> None:
    """Diagnose a training run from its logs: findings, evidence, a corrected LR.

    Several logs (or --sweep): runs of one model at different LRs, each judged against
    the best of them, and the LR to use.

    Exits 0 whenever the diagnosis ran, whatever it found; 2 when a log can't be read.

    Example: lrkit diagnose runs/exp1 --metric val_loss --plot diag.png

    Example: lrkit diagnose runs/lr0.01 runs/lr0.1 runs/lr1 --metric val_loss
    """
    from lrkit.diagnose import diagnose as run_diagnosis

    if sweep or len(paths) > 1:
        _sweep(paths, metric, run=run, lr=lr, model_kind=model_kind, fmt=fmt,
               as_json=as_json, plot=plot)
        return
    check_outputs(plot=plot)
    result = run_diagnosis(paths[0], metric, run=run, lr=lr, model_kind=model_kind,
                           format=fmt)
    if plot is not None:
        from lrkit.report.diagnose_plot import plot_diagnosis

        plot_diagnosis(result, plot)
    if as_json:
        echo_json(result.to_dict())
        return
    _print_report(result, plot, paths[0])


def _print_report(result: Diagnosis, plot: Path | None, log: Path) -> None:
    from lrkit.diagnose.advice import fmt_lr

    where = f" (run {result.run!r})" if result.run else ""
    console.print(f"[bold]{escape(result.format)}[/bold] log{escape(where)}: diagnosed "
                  f"[bold]{escape(result.metric)}[/bold], peak LR {fmt_lr(result.base_lr)}")
    colour = "green" if result.verdict == "ok" and not any(
        f.severity != "info" for f in result.findings) else "red" \
        if result.verdict != "ok" else "yellow"
    console.print(f"[bold {colour}]{escape(result.summary)}[/bold {colour}]")
    if result.probability is not None:
        each = ", ".join(f"{k} {100 * v:.0f}%" for k, v in result.probabilities.items())
        console.print(f"confidence {100 * result.probability:.0f}% ({each}); why: "
                      + escape("; ".join(result.reasons)))
    if result.findings:
        table = Table(show_lines=True, title="findings", title_justify="left")
        table.add_column("severity")
        table.add_column("finding")
        table.add_column("cause / action")
        table.add_column("suggested LR", justify="right")
        for f in result.findings:
            style = _STYLE[f.severity]
            action = f"{escape(f.cause)}\n[bold]→ {escape(f.action)}[/bold]"
            what = escape(f"{f.kind}\n{f.title}")
            table.add_row(f"[{style}]{f.severity}[/{style}]", what, action,
                          fmt_lr(f.suggested_lr) if f.suggested_lr is not None else "-")
        console.print(table)
    console.print(f"convergence: {result.convergence_summary}", markup=False)
    if result.check_lr is not None:
        # one curve says less than two: a second run settles most of what one cannot
        console.print(f"to check this verdict: train once more at LR {fmt_lr(result.check_lr)}"
                      f" and pass both logs (lrkit diagnose {log} NEW_LOG); a run judged "
                      "beside one a decade away is right far more often than alone",
                      markup=False)
    for note in result.notes:
        console.print(f"[dim]note: {escape(note)}[/dim]")
    if plot is not None:
        console.print(f"plot written to [bold]{escape(str(plot))}[/bold]")


def _sweep(paths: list[Path], metric: str | None, *, run: str | None, lr: float | None,
           model_kind: str | None, fmt: str | None, as_json: bool,
           plot: Path | None) -> None:
    from lrkit.diagnose.advice import fmt_lr
    from lrkit.diagnose.sweep import diagnose_runs
    from lrkit.errors import ConfigError

    for flag, value, why in (("--run", run, "every run of the logs is compared"),
                             ("--lr", lr, "each run's LR must be in its log"),
                             ("--plot", plot, "it draws one run")):
        if value is not None:
            raise ConfigError(f"{flag} = {value}: not with a sweep ({why}); diagnose one "
                              f"run alone to use {flag}")
    result = diagnose_runs(paths, metric, model_kind=model_kind, format=fmt)
    if as_json:
        echo_json(result.to_dict())
        return
    colour = "yellow" if result.edge else "green"  # an edge: the sweep may miss the best
    console.print(f"[bold]sweep[/bold] of {len(result.runs)} runs: compared "
                  f"[bold]{escape(result.metric)}[/bold] at the end of each run")
    console.print(f"[bold {colour}]{escape(result.summary)}[/bold {colour}]")
    table = Table(title="runs, by LR", title_justify="left")
    table.add_column("run", overflow="fold")  # a path: folded, never cut
    for col in ("LR", "final", "vs best", "verdict", "judged by"):
        table.add_column(col, justify="right" if col in ("LR", "final", "vs best") else "left")
    for r in result.runs:
        gap = "best" if r.lr == result.best_lr else (
            f"+{100 * r.gap:.0f}%" if math.isfinite(r.gap) else "diverged")
        table.add_row(escape(r.name), fmt_lr(r.lr), f"{r.final:.4g}", gap,
                      r.verdict.replace("_", " "), r.basis)
    console.print(table)
    for note in result.notes:
        console.print(f"[dim]note: {escape(note)}[/dim]")
