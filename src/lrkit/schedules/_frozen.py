"""Set normalised values on a frozen dataclass from its ``__post_init__``."""

from __future__ import annotations

from typing import Any


def settle(obj: Any, **values: Any) -> None:
    """Store validated values on the frozen ``obj`` (only ever called from ``__post_init__``)."""
    for name, value in values.items():
        object.__setattr__(obj, name, value)
