"""``lrkit calc``: the rule-based LR calculator (no model, no training)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lrkit.cli._common import check_outputs, console, echo_json
from lrkit.rules import EVIDENCE, CalcInput, Recommendation, calculate

RANK = 20
_TABLE_ROWS = 13


def register(app: typer.Typer) -> None:
    app.command("calc")(calc)


def calc(
    optimizer: str = typer.Option(
        "auto", "--optimizer", help="sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad, "
        "lamb, lars, lion, adafactor, or auto (from --model)."),
    model: str | None = typer.Option(
        None, "--model", help="Model kind: cnn, resnet, mlp, rnn, linear, transformer, vit, llm."),
    model_params: float | None = typer.Option(
        None, "--model-params", help="Number of parameters N (LLM laws), e.g. 7e9."),
    base_lr: float | None = typer.Option(
        None, "--base-lr", help="LR of your recipe at --base-batch-size."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Batch size you will train with (sequences for LLMs)."),
    base_batch_size: int | None = typer.Option(
        None, "--base-batch-size", help="Batch size the base LR was tuned at."),
    scaling: str = typer.Option(
        "auto", "--scaling", help="Batch-size rule: linear, sqrt, none, auto (by optimizer)."),
    dataset_size: int | None = typer.Option(
        None, "--dataset-size", help="Training examples (steps/epoch = ceil(size/batch))."),
    steps_per_epoch: int | None = typer.Option(
        None, "--steps-per-epoch", help="Updates per epoch."),
    epochs: float | None = typer.Option(None, "--epochs", help="Training epochs."),
    total_steps: int | None = typer.Option(
        None, "--total-steps", help="Updates in the run (instead of --epochs)."),
    fine_tune: bool = typer.Option(
        False, "--fine-tune", help="Start from pre-trained weights (LR about 10x smaller)."),
    layers: int | None = typer.Option(
        None, "--layers", help="Layers L for discriminative rates eta*gamma^(L-l)."),
    layer_decay: float | None = typer.Option(
        None, "--layer-decay", help="Per-layer factor gamma (default 1/2.6, ULMFiT)."),
    schedule: str = typer.Option(
        "auto", "--schedule", help="cosine, linear, step, multistep, wsd, inverse_sqrt, "
        "exponential, constant, or auto."),
    warmup: str = typer.Option(
        "auto", "--warmup", help="auto, none, steps (500), epochs (5ep) or share (6%)."),
    end_lr_ratio: float | None = typer.Option(
        None, "--end-lr-ratio", help="Final LR as a fraction of the peak."),
    momentum: float | None = typer.Option(None, "--momentum", help="SGD momentum."),
    beta1: float | None = typer.Option(None, "--beta1", help="Adam beta1 at the base batch."),
    beta2: float | None = typer.Option(None, "--beta2", help="Adam beta2 at the base batch."),
    eps: float | None = typer.Option(None, "--eps", help="Adam epsilon at the base batch."),
    scaling_law: str | None = typer.Option(
        None, "--scaling-law", help="LLM law: deepseek, step-law, porian."),
    compute_flops: float | None = typer.Option(
        None, "--compute-flops", help="Training compute C in FLOPs (DeepSeek: C = M x D)."),
    tokens: float | None = typer.Option(None, "--tokens", help="Training tokens D."),
    n_layers: int | None = typer.Option(None, "--n-layers", help="Transformer layers."),
    d_model: int | None = typer.Option(None, "--d-model", help="Transformer width."),
    seq_len: int | None = typer.Option(None, "--seq-len", help="Sequence length in tokens."),
    lipschitz: float | None = typer.Option(
        None, "--lipschitz", help="Largest Hessian eigenvalue / smoothness constant L."),
    loss_history: Path | None = typer.Option(
        None, "--loss-history", help="CSV/JSON of epoch,loss to fit a convergence epoch."),
    max_points: int = typer.Option(
        2000, "--max-points", help="Most schedule points in --json output."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the schedule plot (.png/.svg)."),
    log_scale: bool = typer.Option(False, "--log-scale", help="Log-scale LR axis in the plot."),
    show_evidence: bool = typer.Option(
        False, "--evidence", help="Print the evidence table (every rule and its source)."),
) -> None:
    """Recommend an initial LR, schedule, warmup and optimizer from what you know.

    Example: lrkit calc --optimizer sgd --base-lr 0.1 --base-batch-size 256 --batch-size 8192
    """
    if show_evidence:
        _print_evidence(as_json)
        return
    given: dict[str, Any] = {
        "optimizer": optimizer, "model": model, "model_params": model_params,
        "base_lr": base_lr, "batch_size": batch_size, "base_batch_size": base_batch_size,
        "scaling": scaling, "dataset_size": dataset_size, "steps_per_epoch": steps_per_epoch,
        "epochs": epochs, "total_steps": total_steps, "fine_tune": fine_tune,
        "layers": layers, "layer_decay": layer_decay, "schedule": schedule, "warmup": warmup,
        "end_lr_ratio": end_lr_ratio, "momentum": momentum, "beta1": beta1, "beta2": beta2,
        "eps": eps, "scaling_law": scaling_law, "compute_flops": compute_flops,
        "tokens": tokens, "n_layers": n_layers, "d_model": d_model, "seq_len": seq_len,
        "lipschitz": lipschitz, "loss_history": loss_history, "max_points": max_points,
    }
    check_outputs(plot=plot)
    rec = calculate(CalcInput(**{k: v for k, v in given.items() if v is not None}))
    if plot is not None:
        from lrkit.report.calc_plot import plot_recommendation

        plot_recommendation(rec, plot, log_scale=log_scale)
    if as_json:
        echo_json(rec.to_dict())
        return
    _print_summary(rec)
    if plot is not None:
        console.print(f"plot written to [bold]{plot}[/bold]")


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
        console.print(f" {i}. {rule.detail}\n    [dim]{rule.title}: {rule.source}[/dim]")
    for warning in rec.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


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
