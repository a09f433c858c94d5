"""Plot one or several schedules on one figure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from lrkit.report._mpl import pyplot, save_figure

__all__ = ["plot_schedules"]

def plot_schedules(curves: Mapping[str, NDArray[Any]], steps: NDArray[Any],
                   path: str | Path, *, log_scale: bool = False,
                   steps_per_epoch: int | None = None) -> Path:
    """Draw ``{label: lrs}`` against ``steps`` (or epochs) and save to ``path``.

    >>> import tempfile, pathlib, numpy as np
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "s.png"
    >>> plot_schedules({"a": np.ones(3)}, np.arange(3), out).exists()
    True
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    x = steps / steps_per_epoch if steps_per_epoch else steps
    for label, lrs in curves.items():
        ax.plot(x, lrs, label=label, linewidth=1.6)
    ax.set_xlabel("epoch" if steps_per_epoch else "step (update index)")
    ax.set_ylabel("learning rate")
    if log_scale:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if len(curves) > 1 or any(curves):
        ax.legend(fontsize=8, loc="best")
    ax.set_title("learning-rate schedule" + ("s" if len(curves) > 1 else ""))
    return save_figure(fig, path)
