"""``lrkit calc``: the rule-based LR calculator (no model, no training)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from lrkit.cli._common import check_outputs, console, echo_json
from lrkit.rules import EVIDENCE, CalcInput, Recommendation, calculate
from lrkit.rules.fields import FormField, input_fields

RANK = 20
_TABLE_ROWS = 13


def register(app: typer.Typer) -> None:
    app.command("calc")(calc)


#: Python type of each input kind on the command line (``pairs``: a loss-history file).
_CLI_TYPES: dict[str, Any] = {"int": int, "float": float, "bool": bool, "text": str,
                              "choice": str, "pairs": Path}


def _input_option(field: FormField) -> inspect.Parameter:
    """The ``lrkit calc`` option of one calculator input, from its one description."""
    kind = _CLI_TYPES[field.kind]
    annotation = kind if field.default is not None or kind is bool else kind | None
    option = typer.Option(field.default, field.flag, help=field.help)
    return inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=option,
                             annotation=annotation)


_OUTPUT_OPTIONS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                      default=typer.Option(default, flag, help=help_text))
    for name, annotation, default, flag, help_text in (
        ("as_json", bool, False, "--json", "Print one JSON document."),
        ("plot", Path | None, None, "--plot", "Write the schedule plot (.png/.svg)."),
        ("log_scale", bool, False, "--log-scale", "Log-scale LR axis in the plot."),
        ("show_evidence", bool, False, "--evidence",
         "Print the evidence table (every rule and its source)."),
    )
]


def calc(*, as_json: bool = False, plot: Path | None = None, log_scale: bool = False,
         show_evidence: bool = False, **given: Any) -> None:
    """Recommend an initial LR, schedule, warmup and optimizer from what you know.

    Example: lrkit calc --optimizer sgd --base-lr 0.1 --base-batch-size 256 --batch-size 8192
    """
    if show_evidence:
        _print_evidence(as_json)
        return
    check_outputs(plot=plot)
    rec = calculate(CalcInput(**{k: v for k, v in given.items() if v is not None}))
    if plot is not None:
        from lrkit.report.calc_plot import plot_recommendation

        plot_recommendation(rec, plot, log_scale=log_scale)
    if as_json:
        echo_json(rec.to_dict("cli"))
        return
    _print_summary(rec)
    if plot is not None:
        console.print(f"plot written to [bold]{escape(str(plot))}[/bold]")


# The options are CalcInput's fields, described once in lrkit.rules.fields (the web form and
# /api/calc read the same description), then the output options of this command.
calc.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [*(_input_option(f) for f in input_fields()), *_OUTPUT_OPTIONS])


def _print_evidence(as_json: bool) -> None:
    if as_json:
        echo_json([row.to_dict() for row in EVIDENCE])
        return
    table = Table(title="lrkit calculator evidence", show_lines=True, title_justify="left")
    for col in ("id", "formula", "source", "scope", "recipe", "checked"):
        table.add_column(col, overflow="fold")
    for row in EVIDENCE:
        table.add_row(row.id, row.formula, row.source, row.scope, row.recipe, row.checked)
    console.print(table)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _print_summary(rec: Recommendation) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("initial (peak) LR", f"{rec.initial_lr:.4g}")
    table.add_row("final LR", _fmt(rec.final_lr))
    table.add_row("decay", rec.decay_type)
    warm = ("-" if rec.warmup_steps is None and rec.warmup_epochs is None
            else f"{rec.warmup_steps} steps" if rec.warmup_steps is not None
            else f"{rec.warmup_epochs:g} epochs (steps unknown)")
    if rec.warmup_steps and rec.warmup_epochs:
        warm += f" ({rec.warmup_epochs:.3g} epochs)"
    table.add_row("warmup", warm)
    table.add_row("optimizer", f"{rec.optimizer}: {rec.optimizer_reason}")
    if rec.optimizer_params:
        table.add_row("optimizer params", ", ".join(f"{k}={v:.4g}"
                                                    for k, v in rec.optimizer_params.items()))
    table.add_row("typical range", f"{rec.lr_range[0]:.3g} .. {rec.lr_range[1]:.3g}")
    if rec.max_stable_lr is not None:
        table.add_row("stability ceiling", f"{rec.max_stable_lr:.4g}")
    if rec.scaling_law is not None:
        law = rec.scaling_law
        seqs = (f" ({law['batch_sequences']:.0f} sequences)"
                if law.get("batch_sequences") else "")
        table.add_row("optimal batch (law)", f"{law['batch_tokens']:.4g} tokens{seqs}")
    if rec.total_steps is not None:
        run = f"{rec.total_steps} steps"
        if rec.epochs is not None and rec.steps_per_epoch:
            run += f" = {rec.epochs:g} epochs x {rec.steps_per_epoch} steps"
        table.add_row("run", run)
    conv = rec.convergence
    if rec.estimated_convergence_epoch is not None:
        table.add_row("est. convergence", f"epoch {rec.estimated_convergence_epoch:.4g} "
                      f"({conv['method']}: {conv['detail']})")
    elif rec.estimated_convergence_step is not None:
        table.add_row("est. convergence", f"step {rec.estimated_convergence_step} "
                      f"({conv['detail']})")
    else:
        table.add_row("est. convergence", f"- ({conv['detail']})")
    if rec.layer_lrs is not None:
        table.add_row("layer LRs (1..L)", ", ".join(f"{v:.3g}" for v in rec.layer_lrs))
    console.print(table)
    if rec.schedule_steps:
        _print_schedule(rec)
    console.print("[bold]rules used[/bold]")
    for i, rule in enumerate(rec.rules, 1):
        cite = escape(f"{rule.title}: {rule.source}")
        console.print(f" {i}. {escape(rule.detail)}\n    [dim]{cite}[/dim]")
    for warning in rec.warnings_for("cli"):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def _print_schedule(rec: Recommendation) -> None:
    steps, lrs = rec.schedule_steps, rec.schedule_lrs
    n = len(steps)
    picks = sorted({round(i * (n - 1) / (_TABLE_ROWS - 1)) for i in range(_TABLE_ROWS)})
    if rec.warmup_steps and rec.warmup_steps in steps:
        picks = sorted(set(picks) | {steps.index(rec.warmup_steps)})
    table = Table(title="schedule", title_justify="left")
    table.add_column("step", justify="right")
    if rec.steps_per_epoch:
        table.add_column("epoch", justify="right")
    table.add_column("lr", justify="right")
    for i in picks:
        epoch = [f"{steps[i] / rec.steps_per_epoch:.2f}"] if rec.steps_per_epoch else []
        table.add_row(str(steps[i]), *epoch, f"{lrs[i]:.4g}")
    console.print(table)
