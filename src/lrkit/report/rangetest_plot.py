"""Plot a range test: raw losses, the zero-phase smoothed curve, the suggestion and range.

The figure reads a result through the small ``RangeTestLike`` protocol below rather than
importing ``lrkit.rangetest``: ``RangeTestResult.plot`` calls into this module, so an import
back would tie the two packages in a loop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from lrkit.report._mpl import pyplot, save_figure

__all__ = ["RangeTestLike", "plot_range_test"]


class RangeTestLike(Protocol):
    """What the figure reads from a range-test result (``lrkit.rangetest.RangeTestResult``)."""

    @property
    def lrs(self) -> Sequence[float]: ...
    @property
    def losses(self) -> Sequence[float]: ...
    @property
    def curves(self) -> Sequence[tuple[Sequence[float], Sequence[float]]]: ...
    @property
    def val_lrs(self) -> Sequence[float]: ...
    @property
    def val_losses(self) -> Sequence[float]: ...
    @property
    def range(self) -> tuple[float, float]: ...
    @property
    def suggestion(self) -> float: ...
    @property
    def peak_lr(self) -> float | None: ...
    @property
    def schedule(self) -> Mapping[str, Any] | None: ...
    @property
    def flags(self) -> Sequence[str]: ...

    def curve(self, repeat: int = 0) -> Any:
        """The analysed curve of one repeat (with ``lrs``, ``fit``, ``depth``, ``noise``)."""


def plot_range_test(result: RangeTestLike, path: str | Path,
                    marks: Sequence[tuple[float, str]] = ()) -> Path:
    """Draw ``result`` (every repeat) on a log-LR axis and save it to ``path``.

    ``marks`` are extra ``(lr, label)`` lines drawn bold in red on top, e.g. the LR that
    ``lrkit auto`` recommends, which need not be the range test's own suggestion.

    >>> import tempfile, pathlib, numpy as np
    >>> from lrkit.rangetest import RangeTestResult
    >>> lrs = np.logspace(-5, 0, 40); x = np.log10(lrs)
    >>> res = RangeTestResult.from_curves([(lrs, 1 - np.tanh(x + 3) + np.exp(3 * x))],
    ...                                   stop_reasons=["diverged"])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rt.png"
    >>> plot_range_test(res, out).exists()
    True
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    curves = result.curves or ((result.lrs, result.losses),)
    lows: list[float] = []
    highs: list[float] = []
    for i, (lrs, losses) in enumerate(curves):
        lr = np.asarray(lrs, dtype=np.float64)
        y = np.asarray(losses, dtype=np.float64)
        color = f"C{i % 10}"
        label = "raw loss" if len(curves) == 1 else f"repeat {i + 1}"
        ax.plot(lr, y, ".", ms=3, alpha=0.45, color=color, label=label)
        c = result.curve(i)
        if c is not None:
            ax.plot(c.lrs, c.fit.values, "-", lw=1.8, color=color,
                    label="smoothed (zero-phase)" if i == 0 else None)
            top = c.fit.values[0] + max(c.depth, c.noise * 3)
            bottom = c.fit.values.min() - max(c.depth, c.noise * 3) * 0.15
            lows.append(bottom)
            highs.append(top)
    if result.val_losses:
        ax.plot(result.val_lrs, result.val_losses, "s-", ms=3, color="k", lw=1,
                label="validation probe")
    lo, hi = result.range
    if math.isfinite(lo) and math.isfinite(hi):
        ax.axvspan(lo, hi, color="tab:green", alpha=0.12, label="range")
    if math.isfinite(result.suggestion):
        ax.axvline(result.suggestion, color="tab:green", lw=1.8,
                   label=f"suggestion {result.suggestion:.3g}")
    if (result.peak_lr is not None and result.schedule is not None
            and result.schedule.get("family") != "constant"):
        ax.axvline(result.peak_lr, color="tab:purple", lw=1.2, ls="--",
                   label=f"peak for {result.schedule.get('family')} {result.peak_lr:.3g}")
    for lr_mark, text in marks:
        if math.isfinite(lr_mark) and lr_mark > 0:
            ax.axvline(lr_mark, color="tab:red", lw=2.4, label=text)
    ax.set_xscale("log")
    if lows and highs and all(map(math.isfinite, lows + highs)):
        ax.set_ylim(min(lows), max(highs))
    ax.set_xlabel("learning rate (parameter group 0)")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3, which="both")
    title = "LR range test"
    if result.flags:
        title += " — " + "; ".join(result.flags)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return save_figure(fig, path)
