"""``lrkit tune``: search the LR (and optionally schedule, warmup, weight decay) of a task."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from lrkit.cli._common import MAX_SEED, bounded, console, echo_json, err_console, task_option
from lrkit.errors import ConfigError

RANK = 50
_TABLE_ROWS = 30


def register(app: typer.Typer) -> None:
    app.command("tune")(tune)


def _pair(text: str | None, option: str) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ConfigError(f"{option} = {text!r}: expected MIN,MAX; pass e.g. 0,0.1") from None
    return (low, high)


# Options that only the Optuna backend reads: Ray Tune keeps its own results folder and
# schedules, times and retries its trials itself, so with --backend ray they are refused
# rather than silently ignored (and --ray-dir the other way round).
_OPTUNA_ONLY = ("storage", "fidelity", "rungs", "heartbeat", "grace", "timeout")


def _given(ctx: typer.Context, names: Any) -> list[str]:
    """The flags among ``names`` that the command line set (not left at their default)."""
    return ["--" + n.replace("_", "-") for n in names
            if getattr(ctx.get_parameter_source(n), "name", "DEFAULT") != "DEFAULT"]


def tune(
    ctx: typer.Context,
    task: str = task_option(),
    study: str | None = typer.Option(None, "--study",
                                     help="Study name (default tune-<task>); rerun with the "
                                          "same name and storage to continue it."),
    storage: str = typer.Option("sqlite:///lrkit.db", "--storage",
                                help="sqlite:///file.db, postgresql://USER:PW@HOST/DB (one "
                                     "worker per process/machine) or 'memory'."),
    backend: str = typer.Option("optuna", "--backend", help="optuna, or ray (Ray Tune + ASHA)."),
    ray_dir: str | None = typer.Option(None, "--ray-dir",
                                       help="With --backend ray: Ray's results folder (a "
                                            "shared path or bucket on a cluster)."),
    sampler: str = typer.Option("tpe", "--sampler", help="grid, random or tpe."),
    pruner: str = typer.Option("hyperband", "--pruner", help="hyperband, sha, median or none."),
    trials: int = typer.Option(20, "--trials",
                               help="Finished trials the study should hold (all workers).",
                               callback=bounded(1, 100_000, example="30")),
    lr_min: float | None = typer.Option(None, "--lr-min", help="Lowest LR searched."),
    lr_max: float | None = typer.Option(None, "--lr-max", help="Highest LR searched."),
    schedules: list[str] = typer.Option(
        [], "--schedule", help="Schedule shape to try, e.g. cosine, constant, "
                               "'wsd(decay_steps=100)' (repeatable; default: the task's)."),
    warmup: str | None = typer.Option(None, "--warmup",
                                      help="Search warmup as a fraction of the run: MIN,MAX."),
    weight_decay: str | None = typer.Option(None, "--weight-decay",
                                            help="Search weight decay (log scale): MIN,MAX."),
    fidelity: str = typer.Option("epochs", "--fidelity",
                                 help="Rungs are epochs, or 'data': early rungs train on "
                                      "subsets (1/9, 1/3, all)."),
    rungs: int = typer.Option(3, "--rungs", help="Data-fidelity rungs.",
                              callback=bounded(1, 20, example="3")),
    eta: int = typer.Option(3, "--eta", help="Reduction factor of successive halving.",
                            callback=bounded(2, 100, example="3")),
    grid_factor: float = typer.Option(10**0.5, "--grid-factor",
                                      help="Ratio of neighbouring grid LRs (default sqrt(10): "
                                           "1e-3, 3e-3, 1e-2...).",
                                      callback=bounded(1, 1e6, low_open=True, example="3.16")),
    seed_lrs: list[float] = typer.Option([], "--seed-lr", help="An LR to try first (repeatable).",
                                         callback=bounded(0, 1e6, low_open=True, example="0.01")),
    calc: Path | None = typer.Option(None, "--calc",
                                     help="Seed with the initial_lr of 'lrkit calc --json'."),
    rangetest: Path | None = typer.Option(None, "--rangetest",
                                          help="Seed with the suggestion of a saved range test."),
    narrow: float = typer.Option(10.0, "--narrow",
                                 help="With seeds and no --lr-min/--lr-max, search from "
                                      "the smallest seed / NARROW to the largest seed "
                                      "* NARROW.",
                                 callback=bounded(1, 1e6, example="10")),
    epochs: int | None = typer.Option(None, "--epochs", help="Override the task's epochs.",
                                      callback=bounded(1, 100_000, example="10")),
    seed: int = typer.Option(0, "--seed", help="Training seed of every trial.",
                             callback=bounded(0, MAX_SEED, example="0")),
    heartbeat: int = typer.Option(10, "--heartbeat",
                                  help="Seconds between a running trial's heartbeats.",
                                  callback=bounded(0, 86_400, low_open=True, example="10")),
    grace: int = typer.Option(30, "--grace", help="Seconds without heartbeat before a trial "
                                                  "counts as dead and is retried.",
                              callback=bounded(0, 864_000, low_open=True, example="30")),
    timeout: float | None = typer.Option(None, "--timeout",
                                         help="Stop this worker after SECONDS.",
                                         callback=bounded(0, 1e9, low_open=True, example="3600")),
    plot: Path | None = typer.Option(None, "--plot",
                                     help="Write LR-vs-loss of all trials (.png/.svg/.pdf)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
    progress: bool = typer.Option(True, "--progress/--no-progress",
                                  help="Show a progress bar on stderr."),
) -> None:
    """Search the learning rate of a task: grid, random or TPE, with Hyperband pruning.

    Example: lrkit tune --task digits-mlp --trials 30 --study s1 --storage sqlite:///lrkit.db
    """
    if backend not in ("optuna", "ray"):
        raise ConfigError(f"--backend = {backend!r}: unknown; use optuna or ray")
    ignored = _given(ctx, _OPTUNA_ONLY if backend == "ray" else ("ray_dir",))
    if ignored:
        other = "optuna" if backend == "ray" else "ray"
        raise ConfigError(parameter="backend", value=backend,
                          rule=f"does not use {', '.join(ignored)}",
                          fix=f"drop {'it' if len(ignored) == 1 else 'them'}, "
                              f"or pass --backend {other}")
    if plot is not None:
        from lrkit.report._mpl import check_plot_path

        check_plot_path(plot)
    from lrkit.tasks import load_task
    from lrkit.tune import SearchSpace, suggestions_from_calc, suggestions_from_rangetest
    from lrkit.tune.space import DEFAULT_LR_MAX, DEFAULT_LR_MIN

    seeds = [float(v) for v in seed_lrs]
    if calc is not None:
        seeds += suggestions_from_calc(calc)
    if rangetest is not None:
        seeds += suggestions_from_rangetest(rangetest)
    extra: dict[str, Any] = {"schedules": tuple(schedules),
                             "warmup": _pair(warmup, "--warmup"),
                             "weight_decay": _pair(weight_decay, "--weight-decay")}
    if lr_min is None and lr_max is None and seeds:
        space = SearchSpace.around(seeds, factor=narrow, **extra)
    else:
        space = SearchSpace(lr_min=DEFAULT_LR_MIN if lr_min is None else lr_min,
                            lr_max=DEFAULT_LR_MAX if lr_max is None else lr_max, **extra)
    the_task = load_task(task)
    common: dict[str, Any] = {"sampler": sampler, "n_trials": trials, "seed": seed,
                              "seeds": seeds, "epochs": epochs, "reduction_factor": eta,
                              "grid_factor": grid_factor}
    show = progress and (not as_json or err_console.is_terminal)
    with _Progress(show) as bar:
        if backend == "ray":
            from lrkit.tune.ray_backend import tune_ray

            result = tune_ray(task, space, pruner=pruner, storage_path=ray_dir,
                              name=study, **common)
        else:
            _quiet_optuna()
            result = _run_optuna(the_task, space, study, storage, pruner, fidelity, rungs,
                                 heartbeat, grace, timeout, bar, common)
    if plot is not None:
        from lrkit.report.tune_plot import plot_trials

        plot_trials(result, plot)
    if as_json:
        echo_json(result.to_dict())
        return
    _print(result)
    if plot is not None:
        console.print(f"plot written to [bold]{escape(str(plot))}[/bold]")


def _run_optuna(task: Any, space: Any, study: str | None, storage: str, pruner: str,
                fidelity: str, rungs: int, heartbeat: int, grace: int, timeout: float | None,
                bar: _Progress, common: dict[str, Any]) -> Any:
    from lrkit.tune import tune as run

    return run(task, space, study=study, storage=storage, pruner=pruner, fidelity=fidelity,
               rungs=rungs, heartbeat_interval=heartbeat, grace_period=grace, timeout=timeout,
               on_trial=bar.update, on_start=bar.start, **common)


def _quiet_optuna() -> None:
    import optuna

    # one line per trial from Optuna would bury the progress bar and the table
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # A failed trial's traceback: the error propagates and lrkit reports it in one line
    # (naming the user's function when their code raised), so Optuna's copy is noise.
    for handler in logging.getLogger("optuna").handlers:
        if not any(isinstance(f, _NoTracebacks) for f in handler.filters):
            handler.addFilter(_NoTracebacks())


class _NoTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.exc_info


class _Progress:
    """A rich progress bar on stderr counting the study's finished trials."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        return self

    def start(self, finished: int, total: int) -> None:
        """Show the bar once the study is open (a bad --study fails before any bar)."""
        if self.enabled and self._bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(TextColumn("tune"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=err_console, transient=False)
            self._bar.__enter__()
            self._task = self._bar.add_task("", total=total, completed=min(finished, total))

    def update(self, record: Any, finished: int, total: int) -> None:
        if self._bar is None:
            return
        value = "-" if record.value is None else f"{record.value:.4g}"
        self._bar.update(self._task, completed=min(finished, total), total=total,
                         description=f"trial {record.number} {record.state} loss {value}")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.4g}"


def _print(result: Any) -> None:
    order = {"complete": 0, "pruned": 1, "running": 2, "waiting": 3, "failed": 4}
    rows = sorted(result.trials, key=lambda t: (order.get(t.state, 5),
                                                 math.inf if t.value is None else t.value))
    keys = ["schedule", *(k for k in ("warmup", "weight_decay")
                          if any(k in t.params for t in result.trials))]
    table = Table(title=f"study {result.study} ({result.storage}): {result.sampler} + "
                        f"{result.pruner}, {result.n_finished}/{result.n_trials} trials",
                  title_justify="left")
    for name in ("trial", "lr", *keys, "val loss", "state", "rungs", "cost (runs)"):
        table.add_column(name, justify="left" if name in ("state", "schedule") else "right")
    for t in rows[:_TABLE_ROWS]:
        state = "diverged" if t.diverged else t.state
        if t.retry_of is not None:
            state += f" (retry of {t.retry_of})"
        params = {"schedule": result.shape} | t.params
        cells = [f"{params[k]:.3g}" if isinstance(params.get(k), float) else
                 str(params.get(k, "-")) for k in keys]
        lr = t.params.get("lr")
        table.add_row(str(t.number), "-" if lr is None else f"{lr:.3g}", *cells, _fmt(t.value),
                      state, str(len(t.curve)), f"{t.cost:.2f}")
    console.print(table)
    if len(rows) > _TABLE_ROWS:
        console.print(f"... {len(rows) - _TABLE_ROWS} more trials (see --json)")
    console.print(f"compute: {result.cost_runs:.2f} training-run equivalents; "
                  f"{result.count('complete')} complete, {result.count('pruned')} pruned, "
                  f"{result.count('failed')} failed")
    if result.best is None:
        console.print("[yellow]no trial completed yet[/yellow]")
        return
    best = result.best
    console.print(f"best: trial {best.number}, lr = {best.params['lr']:.4g}, "
                  f"validation loss = {best.value:.4g}"
                  + (f", weight_decay = {result.best_weight_decay:.3g}"
                     if result.best_weight_decay is not None else ""))
    # soft_wrap: the spec must stay on one line to be copied and pasted
    console.print("schedule spec: " + json.dumps(result.best_schedule), markup=False,
                  soft_wrap=True)
