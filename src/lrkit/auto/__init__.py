"""``lrkit.auto``: one LR recommendation for a task, near the oracle, at a stated cost.

>>> from lrkit.auto import Recommendation, auto
>>> callable(auto)
True
"""

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
    "Prior",
    "Recommendation",
    "Refined",
    "Stage",
    "Trial",
    "auto",
    "conservative",
    "optimizer_prior",
    "refine",
    "search_downward",
    "successive_halving",
]
