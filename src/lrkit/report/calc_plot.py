"""Plot the calculator's Calculation: the schedule, the end of the warmup and the
estimated convergence point."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lrkit.errors import ConfigError
from lrkit.report._mpl import pyplot, save_figure

if TYPE_CHECKING:
    from lrkit.rules import Calculation

__all__ = ["plot_recommendation"]


def plot_recommendation(rec: Calculation, path: str | Path, *,
                        log_scale: bool = False) -> Path:
    """Draw ``rec``'s schedule (against epochs when known) and save it to ``path``.

    Raises:
        ConfigError: the recommendation has no schedule (no run length was given).

    >>> import tempfile, pathlib
    >>> from lrkit.rules import CalcInput, calculate
    >>> rec = calculate(CalcInput(optimizer="adam", total_steps=100))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "calc.png"
    >>> plot_recommendation(rec, out).exists()
    True
    """
    if not rec.schedule_steps:
        raise ConfigError(parameter="rec", flag="--plot", rule="the recommendation has no "
                          "schedule", fix="pass --epochs with --steps-per-epoch (or "
                          "--dataset-size), or --total-steps")
    steps = np.asarray(rec.schedule_steps, dtype=np.float64)
    lrs = np.asarray(rec.schedule_lrs, dtype=np.float64)
    spe = rec.steps_per_epoch
    scale = float(spe) if spe else 1.0
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4))
    ax.plot(steps / scale, lrs, linewidth=1.8, label=f"{rec.decay_type} ({rec.optimizer})")
    if rec.warmup_steps:
        ax.axvline(rec.warmup_steps / scale, color="0.5", linestyle="--", linewidth=1,
                   label=f"end of warmup ({rec.warmup_steps} steps)")
    if rec.estimated_convergence_step is not None and rec.convergence.get("method"):
        x = rec.estimated_convergence_step / scale
        ax.axvline(x, color="tab:green", linestyle=":", linewidth=1.4,
                   label=f"est. convergence ({rec.convergence['method']})")
    ax.set_xlabel("epoch" if spe else "step (update index)")
    ax.set_ylabel("learning rate")
    if log_scale:
        positive = lrs[lrs > 0]
        if positive.size:
            ax.set_yscale("log")
            ax.set_ylim(bottom=float(positive.min()) * 0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"peak {rec.initial_lr:.3g}, final "
                 f"{rec.final_lr if rec.final_lr is None else format(rec.final_lr, '.3g')}")
    return save_figure(fig, path)
