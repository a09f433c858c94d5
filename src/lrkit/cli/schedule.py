"""``lrkit schedule``: print, plot, compare, import and export learning-rate schedules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from lrkit._check import INPUT as check
from lrkit._check import finite_values
from lrkit.cli._common import console, echo_json, parse_pairs
from lrkit.errors import ConfigError
from lrkit.schedules import Schedule, horizon, parse

RANK = 10
_FORMATS = ("table", "csv", "json")
_TABLE_ROWS = 21


def register(app: typer.Typer) -> None:
    app.command("schedule", no_args_is_help=True)(schedule)


def schedule(
    args: list[str] = typer.Argument(
        None, metavar="SPEC | KEY=VALUE...",
        help="A schedule spec, JSON or compact: 'cosine(peak_lr=0.1,total_steps=1000,"
             "warmup_steps=100)'. With --from: the library's own arguments as key=value."),
    steps: int | None = typer.Option(
        None, "--steps", help="Number of updates to show (default: the schedule's total_steps)."),
    steps_per_epoch: int | None = typer.Option(
        None, "--steps-per-epoch", help="Updates per epoch; adds an epoch column / axis."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a plot (.png, .svg, .pdf)."),
    log_scale: bool = typer.Option(False, "--log-scale", help="Log-scale LR axis in the plot."),
    compare: list[str] = typer.Option(
        [], "--compare", help="Another spec to plot and tabulate beside the first (repeatable)."),
    source: str | None = typer.Option(
        None, "--from", help="Read a peer's configuration: torch:CLASS, keras:CLASS, "
                             "optax:FUNCTION or hf:NAME, with its arguments as KEY=VALUE."),
    export: str | None = typer.Option(
        None, "--export", help="Print a ready-to-paste snippet for torch, keras, optax or hf."),
) -> None:
    """Evaluate a schedule at every update and print, plot, compare or export it.

    Example: lrkit schedule 'cosine(peak_lr=0.1,total_steps=1000,warmup_steps=100)' --plot s.png
    """
    # check every option before any work, so a bad run writes nothing
    if fmt not in _FORMATS:
        raise ConfigError(f"--format = {fmt!r}: unknown format; use one of {', '.join(_FORMATS)}")
    if steps_per_epoch is not None:
        check.count("steps_per_epoch", steps_per_epoch, example="the updates in one epoch")
    if plot is not None:
        from lrkit.report._mpl import check_plot_path

        check_plot_path(plot)
    main = _load(args or [], source)
    if export is not None:
        from lrkit.interop import snippet

        print(snippet(main, export))
        return
    others = [parse(text) for text in compare]
    n = _steps(main, steps)
    t = np.arange(n, dtype=np.float64)
    # column name -> values; "lr" is the main schedule, as in the JSON document
    curves = {"lr": np.asarray(main(t))}
    curves |= {f"compare_{i + 1}": np.asarray(s(t)) for i, s in enumerate(others)}
    for name, values in curves.items():
        finite_values("schedule" if name == "lr" else f"--compare {name[8:]}", values)
    if plot is not None:
        from lrkit.report.schedule_plot import plot_schedules

        texts = [" ".join(args or []) if source is None else f"{source} {' '.join(args or [])}",
                 *compare]
        labels = _unique([_shorten(x) for x in texts])
        plot_schedules(dict(zip(labels, curves.values(), strict=True)), t, plot,
                       log_scale=log_scale, steps_per_epoch=steps_per_epoch)
    if fmt == "json":
        doc: dict[str, object] = {"step": t.astype(int), "lr": curves["lr"]}
        if steps_per_epoch:
            doc["epoch"] = t / steps_per_epoch
        doc["spec"] = _spec_or_none(main)
        if others:
            doc["compare"] = [{"spec": _spec_or_none(s), "lr": curves[f"compare_{i + 1}"]}
                              for i, s in enumerate(others)]
        echo_json(doc)
    elif fmt == "csv":
        header = ["step", *(["epoch"] if steps_per_epoch else []), *curves]
        lines = [",".join(header)]
        for i in range(n):
            row = [str(i), *([f"{i / steps_per_epoch:g}"] if steps_per_epoch else []),
                   *(repr(float(c[i])) for c in curves.values())]
            lines.append(",".join(row))
        print("\n".join(lines))
    else:
        _print_table(curves, n, steps_per_epoch)
        for i, text in enumerate(compare):
            console.print(f"compare_{i + 1} = {text}", soft_wrap=True, markup=False)
        if plot is not None:
            console.print(f"plot written to {plot}", soft_wrap=True, markup=False)


def _shorten(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unique(labels: list[str]) -> list[str]:
    """Make legend labels distinct (comparing a spec with itself is allowed)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _load(args: list[str], source: str | None) -> Schedule:
    if source is None:
        if len(args) != 1:
            raise ConfigError(f"SPEC = {' '.join(args)!r}: expected one spec; quote it, e.g. "
                              "'cosine(peak_lr=0.1,total_steps=1000)'")
        return parse(args[0])
    from lrkit.interop import from_library

    framework, _, name = source.partition(":")
    if not name:
        raise ConfigError(f"--from = {source!r}: expected LIBRARY:NAME, "
                          "e.g. torch:OneCycleLR or hf:cosine")
    return from_library(framework, name, parse_pairs(args, source))


def _steps(main: Schedule, steps: int | None) -> int:
    if steps is None:
        steps = horizon(main)
        if steps is None:
            raise ConfigError("--steps: missing, and the schedule has no total_steps to "
                              "default to; pass e.g. --steps 1000")
    if steps < 1 or steps > 50_000_000:
        raise ConfigError(f"--steps = {steps}: must be between 1 and 50,000,000; "
                          "pass the number of updates to show")
    return steps


def _spec_or_none(main: Schedule) -> dict[str, object] | None:
    try:
        return main.to_spec()
    except ConfigError:
        return None


def _print_table(curves: dict[str, np.ndarray], n: int, steps_per_epoch: int | None) -> None:
    rows = np.unique(np.linspace(0, n - 1, min(n, _TABLE_ROWS)).round().astype(int))
    shown = f", {len(rows)} shown" if n > len(rows) else ""
    console.print(f"LR over {n} updates{shown}", soft_wrap=True)
    table = Table()
    table.add_column("step", justify="right")
    if steps_per_epoch:
        table.add_column("epoch", justify="right")
    for name in curves:
        table.add_column(name, justify="right")
    for i in rows:
        epoch = [f"{i / steps_per_epoch:.2f}"] if steps_per_epoch else []
        table.add_row(str(i), *epoch, *(f"{float(c[i]):.6g}" for c in curves.values()))
    console.print(table)
    for name, c in curves.items():
        console.print(f"{name}: max {c.max():.6g} at step {int(c.argmax())}, "
                      f"min {c.min():.6g}, last {c[-1]:.6g}", soft_wrap=True)
