"""Small numerical helpers shared by the families."""

from __future__ import annotations

from lrkit.schedules.base import FloatArray

__all__ = ["mix"]


def mix(high: float, low: float, weight: FloatArray) -> FloatArray:
    """high * w + low * (1 - w): exactly ``high`` at w = 1 and exactly ``low`` at w = 0.

    The textbook ``low + (high - low) * w`` can miss ``high`` by an ulp when ``low`` is
    much larger than ``high`` (a rising schedule), so f(0) would not equal its parameter.

    >>> mix(1e-8, 1.0, 1.0)
    1e-08
    """
    return high * weight + low * (1.0 - weight)
