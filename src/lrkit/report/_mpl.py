"""Headless matplotlib, imported lazily behind the ``plot`` extra."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lrkit._deps import require
from lrkit._io import atomic_path, output_target
from lrkit.errors import ConfigError

__all__ = ["check_plot_path", "pyplot", "save_figure"]

_FORMATS = (".png", ".svg", ".pdf")


def check_plot_path(path: str | Path, name: str = "--plot") -> Path:
    """Refuse an output path ``save_figure`` could not write, before any work is done.

    >>> check_plot_path("schedule.jpg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrkit.errors.ConfigError: --plot = 'schedule.jpg': unsupported file type; use one of ...
    """
    target = Path(path)
    if target.suffix.lower() not in _FORMATS:
        raise ConfigError(f"{name} = '{target}': unsupported file type; "
                          f"use one of {', '.join(_FORMATS)}")
    output_target(target, name)  # a folder, a device, an unwritable place: refused now
    return target


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    mpl = require("matplotlib", extra="plot")
    mpl.use("Agg")
    return require("matplotlib.pyplot", extra="plot")


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save ``fig`` atomically to ``path`` (.png, .svg or .pdf) and close it."""
    target = check_plot_path(path, name="plot")
    plt = pyplot()
    try:
        with atomic_path(target, "plot") as tmp:
            fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
    return target
