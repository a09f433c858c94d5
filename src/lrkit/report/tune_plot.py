"""Plot a search: validation loss against LR, pruned and diverged trials marked."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from lrkit.report._mpl import pyplot, save_figure

__all__ = ["plot_trials"]

_COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def plot_trials(result: Any, path: str | Path) -> Path:
    """Draw every trial of a ``TuneResult`` at (LR, loss) and save the figure to ``path``.

    Complete trials are dots (their final validation loss), pruned trials crosses at the
    last loss they reported, diverged trials triangles pinned to the top edge; the best
    trial is a star. With several schedule shapes each gets its own colour. The loss axis
    is logarithmic when the losses span more than a factor of 20.

    >>> import tempfile, pathlib
    >>> from lrkit.tune.result import TrialRecord, TuneResult
    >>> trials = (TrialRecord(0, "complete", {"lr": 0.01}, 0.5, {1: 0.5}, 1.0),
    ...           TrialRecord(1, "pruned", {"lr": 0.1}, 0.9, {1: 0.9}, 0.1))
    >>> res = TuneResult("s", "memory", "t", "tpe", "sha", "epochs", 2, trials, trials[0], None)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "tune.png"
    >>> plot_trials(res, out).exists()
    True
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    shown = [t for t in result.trials if "lr" in t.params and t.state in ("complete", "pruned")]
    finite = [t.value for t in shown if t.value is not None and math.isfinite(t.value)]
    shapes = sorted({str(t.params.get("schedule", "")) for t in shown})
    color = {s: _COLORS[i % len(_COLORS)] for i, s in enumerate(shapes)}
    top = max(finite) * 1.5 if finite else 1.0
    labelled: set[str] = set()

    def label(text: str) -> str | None:
        if text in labelled:
            return None
        labelled.add(text)
        return text

    for trial in shown:
        shape = str(trial.params.get("schedule", ""))
        suffix = f" ({shape})" if len(shapes) > 1 else ""
        lr = trial.params["lr"]
        if trial.diverged or trial.value is None or not math.isfinite(trial.value):
            ax.scatter([lr], [top], marker="^", color="tab:red", s=40, zorder=3,
                       label=label("diverged (pruned at once)"))
        elif trial.state == "pruned":
            ax.scatter([lr], [trial.value], marker="x", color=color[shape], alpha=0.6, s=30,
                       zorder=2, label=label(f"pruned, last reported loss{suffix}"))
        else:
            ax.scatter([lr], [trial.value], marker="o", color=color[shape], s=30, zorder=3,
                       label=label(f"complete{suffix}"))
    best = result.best
    if best is not None and best.value is not None:
        ax.scatter([best.params["lr"]], [best.value], marker="*", s=220, color="gold",
                   edgecolor="black", zorder=4, label=f"best: lr={best.params['lr']:.3g}")
    ax.set_xscale("log")
    if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
        ax.set_yscale("log")
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel("validation loss")
    ax.grid(alpha=0.3, which="both")
    if labelled or best is not None:
        ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{result.task}: {result.sampler} + {result.pruner}, "
                 f"{result.n_finished} trials, {result.cost_runs:.1f} training runs")
    return save_figure(fig, path)
