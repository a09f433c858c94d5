"""Corrected learning rates and schedules, computed from the run's own numbers.

>>> fmt_lr(0.000123456)
'1.23e-04'
>>> scaled(0.1, 0.3)
0.03
>>> cosine_spec(0.1, 5000, warmup_steps=250)
'cosine(peak_lr=0.1,total_steps=5000,warmup_steps=250)'
"""

from __future__ import annotations

import math

__all__ = ["cosine_spec", "fmt_lr", "fmt_num", "scaled"]


def fmt_lr(lr: float | None) -> str:
    """A learning rate as people write it: 0.03, 3e-04."""
    if lr is None or not math.isfinite(lr):
        return "unknown"
    if lr == 0:
        return "0"
    if 1e-3 <= abs(lr) < 1e3:
        return f"{lr:.3g}"
    return f"{lr:.2e}"


def fmt_num(value: float) -> str:
    """A measured number with 4 significant digits."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def scaled(lr: float | None, factor: float) -> float | None:
    """``lr * factor`` rounded to 3 significant digits (None when the LR is unknown)."""
    if lr is None or not math.isfinite(lr) or lr <= 0:
        return None
    value = lr * factor
    digits = 2 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def cosine_spec(peak_lr: float, total_steps: int, warmup_steps: int = 0) -> str:
    """An lrkit cosine spec string (see ``lrkit schedule``)."""
    spec = f"cosine(peak_lr={scaled(peak_lr, 1.0)},total_steps={int(total_steps)}"
    if warmup_steps:
        spec += f",warmup_steps={int(warmup_steps)}"
    return spec + ")"
