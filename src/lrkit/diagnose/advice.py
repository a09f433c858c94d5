"""Corrected learning rates and schedules, computed from the run's own numbers.

>>> fmt_lr(0.000123456)
'1.23e-04'
>>> scaled(0.1, 0.3)
0.03
>>> cosine_spec(0.1, 5000, warmup_steps=250)
'cosine(peak_lr=0.1,total_steps=5000,warmup_steps=250)'
>>> raise_bound({"gain": 0.5, "blowup": 0.0, "noise": -2.0, "swing": 0.0})
(3.0, 'at most 3x: an LR 3x higher is the largest step the smooth curve supports')
"""

from __future__ import annotations

import math

__all__ = ["cosine_spec", "fmt_lr", "fmt_num", "raise_bound", "scaled"]


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


#: The largest raise advised for a loss that moved (10x only for a flat loss).
RAISE_MAX = 3.0


def raise_bound(features: dict[str, float]) -> tuple[float, str]:
    """The largest LR factor the run's own curve shows is safe to try, and why.

    A run only shows how the model behaves at the LRs it used. Batch noise grows about in
    proportion to the LR, so a loss whose noise is already a sizeable share of its
    progress, that rose above its start in its first updates, or that swings late, is
    near its stable edge, and a large raise would cross it (the regression MLP of issue
    16: best at 0.1, diverged at 1.0, already worse at 0.2). ``features`` are
    ``lrkit.diagnose.verdict.curve_features``.
    """
    if features.get("blowup", 0.0) > 0.02:
        rise = 10 ** features["blowup"] - 1
        return 1.5, (f"at most 1.5x: the loss already rose {100 * rise:.0f}% above its "
                     "start in its first updates")
    if features.get("gain", 1.0) < 0.05:
        return 10.0, "at most 10x: the loss barely moved (its noise is all there is)"
    noise = 10 ** features.get("noise", -3.0)
    if noise > 0.1 or features.get("swing", 0.0) > 0.1:
        return 2.0, (f"at most 2x: the batch noise is already {100 * noise:.0f}% of the "
                     "progress, and it grows with the LR")
    return RAISE_MAX, (f"at most {RAISE_MAX:g}x: an LR {RAISE_MAX:g}x higher is the largest "
                       "step the smooth curve supports")
