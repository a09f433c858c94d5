"""Plot a diagnosis: the loss curves, the LR on a second axis, the findings marked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lrkit.report._mpl import pyplot, save_figure

if TYPE_CHECKING:
    from lrkit.diagnose import Diagnosis

__all__ = ["plot_diagnosis"]

_COLOURS = {"critical": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}


def plot_diagnosis(result: Diagnosis, path: str | Path) -> Path:
    """Draw the diagnosed run's loss curves and LR, mark each finding, save to ``path``.

    >>> import tempfile, pathlib
    >>> from lrkit.diagnose import Curve, diagnose_curves
    >>> d = diagnose_curves([Curve.of("loss", [2.0, 1.5, 1.2, 1.1, 1.05], steps=range(5))])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "d.png"
    >>> plot_diagnosis(d, out).exists()
    True
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    axis_name = "step"
    for c in result.curves:
        if c.kind not in ("train_loss", "val_loss"):
            continue
        x = c.x
        if c.axis == "epoch" and result.steps_per_epoch:
            x = c.x * result.steps_per_epoch
        elif c.axis == "epoch":
            axis_name = "epoch"
        shown = np.where(np.isfinite(c.values), c.values, np.nan)
        style = "-" if len(c) > 30 else "o-"
        width = 2.2 if c.name == result.metric else 1.2
        ax.plot(x, shown, style, linewidth=width, markersize=3, label=c.name,
                alpha=0.9 if c.name == result.metric else 0.7)
    ax.set_xlabel(axis_name)
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    lr = next((c for c in result.curves if c.kind == "lr" and len(c) > 1), None)
    if lr is not None:
        ax2 = ax.twinx()
        x = lr.x * result.steps_per_epoch if lr.axis == "epoch" and result.steps_per_epoch \
            else lr.x
        ax2.plot(x, lr.values, color="grey", linestyle="--", linewidth=1, label=lr.name)
        ax2.set_ylabel("learning rate", color="grey")
    for f in result.findings:
        if f.step is not None and np.isfinite(f.step):
            ax.axvline(f.step, color=_COLOURS[f.severity], linestyle=":", linewidth=1.2)
            ax.annotate(f.kind, (f.step, 1.0), xycoords=("data", "axes fraction"),
                        rotation=90, va="top", ha="right", fontsize=7,
                        color=_COLOURS[f.severity])
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(result.summary, fontsize=10)
    return save_figure(fig, path)
