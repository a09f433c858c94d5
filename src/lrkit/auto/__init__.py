"""``lrkit.auto``: one LR recommendation for a task, near the oracle, at a stated cost.

>>> from lrkit.auto import Recommendation, auto
>>> callable(auto)
True
"""

from lrkit.auto.measured import MeasuredRegret, measured_regret
from lrkit.auto.pipeline import Recommendation, Stage, auto
from lrkit.auto.prior import Prior, optimizer_prior
from lrkit.auto.search import (
                               Refined,
                               Trial,
                               conservative,
                               refine,
                               search_downward,
                               successive_halving,
)

__all__ = [
    "MeasuredRegret",
    "Prior",
    "Recommendation",
    "Refined",
    "Stage",
    "Trial",
    "auto",
    "conservative",
    "measured_regret",
    "optimizer_prior",
    "refine",
    "search_downward",
    "successive_halving",
]
