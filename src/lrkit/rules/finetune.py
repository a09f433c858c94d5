"""Fine-tuning rules: a 10x smaller LR, and discriminative layer-wise rates.

>>> FINETUNE_FACTOR
0.1
>>> [round(v, 6) for v in layer_rates(1e-3, layers=3, decay=0.5)]
[0.00025, 0.0005, 0.001]
"""

from __future__ import annotations

__all__ = ["FINETUNE_FACTOR", "ULMFIT_DECAY", "layer_rates"]

FINETUNE_FACTOR = 0.1      # rule of thumb: fine-tune about 10x below the from-scratch LR
ULMFIT_DECAY = 1.0 / 2.6   # Howard & Ruder 2018 §3.2: eta^(l-1) = eta^l / 2.6


def layer_rates(peak: float, *, layers: int, decay: float) -> list[float]:
    """eta_l = peak * decay ** (layers - l) for l = 1..layers (the top layer gets ``peak``)."""
    return [peak * decay ** (layers - layer) for layer in range(1, layers + 1)]
