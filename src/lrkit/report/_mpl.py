"""Headless matplotlib, imported lazily behind the ``plot`` extra."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lrkit._deps import require
from lrkit._io import atomic_path
from lrkit.errors import ConfigError

__all__ = ["pyplot", "save_figure"]

_FORMATS = (".png", ".svg", ".pdf")


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    mpl = require("matplotlib", extra="plot")
    mpl.use("Agg")
    return require("matplotlib.pyplot", extra="plot")


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save ``fig`` atomically to ``path`` (.png, .svg or .pdf) and close it."""
    target = Path(path)
    if target.suffix.lower() not in _FORMATS:
        raise ConfigError(f"plot = '{target}': unsupported file type; "
                          f"use one of {', '.join(_FORMATS)}")
    plt = pyplot()
    try:
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
    return target
